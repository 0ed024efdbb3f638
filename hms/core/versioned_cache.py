"""Cached reads that a committed change makes stale at once.

The data behind an entry has a version (a random token in the shared cache); the entry is stored
with the version it was read at and served only while that version stays. A writer calls
`versions_changed` inside its transaction: new versions are set once it commits. The version is
always read before the data, so a change that commits while the data is being read leaves the
entry with an old version, never served.

Only a cache shared by every server process (Redis) holds such entries: a process-local cache
would not hear of a change made through another process, so without one every call reads afresh.
"""

import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction

from hms.core.cache import cache_is_shared

VERSION_SECONDS = 24 * 3600


def enabled() -> bool:
    """Whether entries are kept at all: only in a cache that every server process shares."""
    return cache_is_shared()


def versions_changed(keys: list[str]) -> None:
    """The data of these version keys changes in the current transaction (or now, outside one)."""
    if keys and enabled():
        transaction.on_commit(lambda: _bump(keys), robust=True)


def _bump(keys: list[str]) -> None:
    cache.set_many({key: uuid.uuid4().hex for key in keys}, VERSION_SECONDS)


def version_of(key: str, known: str | None = None) -> str:
    """The data's current version (`known`: as just read from the cache), given one if none."""
    if known is None:
        cache.add(key, uuid.uuid4().hex, VERSION_SECONDS)
        known = cache.get(key)
    return known


def cached_while_unchanged[T](
    *,
    key: str,
    version_key: str,
    read: Callable[[], T],
    seconds: int,
    fresh: Callable[[T], bool] = lambda data: True,
) -> T:
    """read(), kept under `key` for up to `seconds` while `version_key` stays and fresh(data)
    holds. A hit costs one cache round trip and no query."""
    if not enabled():
        return read()
    found = cache.get_many([key, version_key])
    token = found.get(version_key)
    entry = found.get(key)
    if entry is not None and token is not None and entry[0] == token and fresh(entry[1]):
        return entry[1]
    token = version_of(version_key, token)
    data = read()
    cache.set(key, (token, data), seconds)
    return data
