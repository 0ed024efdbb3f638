"""Resources as the JSON text that leaves the server, and a cache of that text.

Building a `fhir.resources` model (validation) and serialising it is most of the CPU of a
Patient read or search. A resource's JSON depends only on what its mapper reads (the rows and
the mapper's code), so it is cached under a digest of exactly that: a changed row, identifier
or mapper gives a new key, and an old entry can never be served. The version id alone would
not do: removing an identifier, or a merge moving one, leaves the patient's `updated_at`
unchanged. Whatever is new is still built and validated by fhir.resources before it is kept.

The cache is Django's `fhir` cache (Redis when `REDIS_URL` is set, shared by every server
process; else the process's own memory, 10,000 resources at most).
"""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

from django.core.cache import caches
from django.utils.http import http_date

from hms.fhir import mappers
from hms.fhir.serialise import resource_json

CACHE_SECONDS = 24 * 3600
# Part of every key: a new mapper or fhir.resources release never meets the old JSON.
_CODE = hashlib.blake2b(
    Path(mappers.__file__).read_bytes() + version("fhir.resources").encode(), digest_size=8
).hexdigest()


@dataclass(frozen=True)
class Rendered:
    """One resource as JSON, with what the headers and a Bundle entry need."""

    resource_type: str
    id: str
    version_id: str
    last_updated: datetime | None
    json: str

    @property
    def etag(self) -> str:
        return f'W/"{self.version_id}"'

    @property
    def last_modified(self) -> str | None:
        return http_date(self.last_updated.timestamp()) if self.last_updated else None


def render(resource) -> Rendered:
    """A built fhir.resources model as JSON (serialised here, once, as fhir.resources writes it)."""
    updated = resource.meta.lastUpdated
    if updated is not None and not isinstance(updated, datetime):
        updated = datetime.fromisoformat(str(updated).replace("Z", "+00:00"))
    return Rendered(
        resource.get_resource_type(),
        str(resource.id),
        str(resource.meta.versionId),
        updated,
        resource_json(resource),
    )


def as_rendered(resource) -> Rendered:
    return resource if isinstance(resource, Rendered) else render(resource)


def render_cached(
    kind: str, rows: Sequence, inputs: Callable[[object], tuple], build: Callable
) -> list[Rendered]:
    """`build(row)` of each row, rendered, through the cache (one round trip to look up the
    page, one to store what was missing). `inputs(row)` is everything `build` reads."""
    cache = caches["fhir"]
    keys = [_key(kind, row.pk, inputs(row)) for row in rows]
    found = cache.get_many(keys)
    missing = {}
    rendered = []
    for key, row in zip(keys, rows, strict=True):
        if key not in found:
            found[key] = missing[key] = render(build(row))
        rendered.append(found[key])
    if missing:
        cache.set_many(missing, CACHE_SECONDS)
    return rendered


def _key(kind: str, pk, inputs: tuple) -> str:
    digest = hashlib.blake2b(repr(inputs).encode(), digest_size=16).hexdigest()
    return f"fhir:{kind}:{pk}:{_CODE}:{digest}"
