"""A patient's own pages (the portal's dashboard, "My appointments") read from the cache while
nothing of the patient's has changed (hms/core/versioned_cache.py).

The versions come from the audit trail: every committed change to a patient's record leaves an
audit row naming them, in the same transaction (rule 3 of ARCHITECTURE.md), and appending such a
row gives the patient a new version when it commits. Reads are audited too but change nothing:
an action that only reads (`*.view`, `*.list`, `*.search`...) keeps the version; any other
action, an unknown one included, counts as a change (at worst the cache is read again).
"""

import re
from collections.abc import Callable, Iterable

from django.core.cache import cache

from hms.core import versioned_cache

# An entry is also read afresh this often, for what it shows beside the patient's own record
# (a doctor's or department's name).
DATA_SECONDS = 300
_READS = re.compile(r"[._](view|list|read|search|search_result)$")


def _version_key(patient_id) -> str:
    return f"hms:patient-version:{patient_id}"


def is_change(action: str) -> bool:
    return not _READS.search(action)


def patient_data_changed(patient_refs: Iterable[str]) -> None:
    """The patients' data changes in the current transaction: new versions once it commits."""
    versioned_cache.versions_changed([_version_key(ref) for ref in patient_refs if ref])


# key -> the patient its entry was last stored for in this process: a guess that lets a hit read
# the entry and the patient's version in one round trip (checked against the entry itself).
_patient_of_key: dict[str, object] = {}
GUESSES = 50_000  # kept per process; all are forgotten at once when full


def cached_for_patient[T](
    *,
    key: str,
    read: Callable[[], tuple[object | None, T]],
    fresh: Callable[[T], bool] = lambda data: True,
) -> tuple[T, str | None]:
    """What read() returns (the patient's id and the data), kept under `key` (one per user and
    page part) while the patient's version stays and fresh(data) holds (the appointment shown
    has not started yet...); returned with the version it was read at (None: not known), under
    which what is made from it (a page's rows) may be kept too. A hit costs one cache round trip
    and no query.

    The version is read before the data; the patient's id, and so their version, is known only
    from an earlier entry: the first read of a patient is stored without a version and read
    again the next time."""
    if not versioned_cache.enabled():
        return read()[1], None
    guess = _patient_of_key.get(key)
    found = cache.get_many([key] if guess is None else [key, _version_key(guess)])
    entry = found.get(key)
    token = None
    if entry is not None:
        patient_id, stored, data = entry
        if patient_id == guess:
            token = found.get(_version_key(guess))
        else:
            token = cache.get(_version_key(patient_id))
        if token is not None and token == stored and fresh(data):
            _guess(key, patient_id)
            return data, token
        token = versioned_cache.version_of(_version_key(patient_id), token)
    patient_id, data = read()
    if patient_id is None:
        return data, None
    if entry is None or entry[0] != patient_id:
        token = None
    cache.set(key, (patient_id, token, data), DATA_SECONDS)
    _guess(key, patient_id)
    return data, token


def _guess(key: str, patient_id) -> None:
    if _patient_of_key.get(key) != patient_id:
        if len(_patient_of_key) >= GUESSES:
            _patient_of_key.clear()
        _patient_of_key[key] = patient_id
