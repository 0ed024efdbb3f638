"""Static files with hashed names (whitenoise's compressed manifest storage), each file's URL
worked out once per process.

Every page's layout links the same eight files, and each URL costs a manifest look-up, a path
normalisation and a URL join (about 20 us). The manifest is read when the process starts and
does not change while it runs, so a file's URL does not either.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name, force=False):
        if force:
            return super().url(name, force=True)
        url = self._urls.get(name)
        if url is None:
            url = super().url(name)
            self._urls[name] = url
        return url
