"""ICD-10-CM codes from the `simple-icd-10-cm` package, indexed once in memory for search.

Valid diagnosis codes are categories (E11), subcategories (E11.9) and extended subcategories
(S52.521A); chapters ("4") and blocks ("E08-E13") are headings, not diagnoses.
"""

import bisect
import threading
from dataclasses import dataclass

from hms.patients.normalize import fold


@dataclass(frozen=True)
class Icd10Code:
    code: str
    description: str
    billable: bool


@dataclass(frozen=True)
class _Index:
    codes: list[str]  # sorted, without the dot, upper-case
    entries: dict[str, Icd10Code]  # keyed by the dotless code
    words: list[str]  # every word of every description, folded, sorted
    postings: dict[str, list[int]]  # word -> positions in `codes` of codes using it


# Codes a general hospital uses most, most used first: a word search lists them before the
# rest, so "diabetes" offers type 2 diabetes (E11) before "due to an underlying condition" (E08).
COMMON_CODES = [
    "E119", "E11", "E109", "E10", "I10", "E785", "E78", "J45909", "J45", "J449", "J44", "I489",
    "I48", "I2510", "I25", "I509", "I50", "N390", "J069", "J189", "J18", "M545", "M54", "F329",
    "F32", "F419", "F41", "K219", "K21", "E039", "E03", "E669", "E66", "N184", "N18", "R51",
    "G439", "G43", "L309", "L30", "B349", "A09", "R05", "R509", "R0789", "I639", "I63",
]  # fmt: skip
_COMMON_RANK = {code: rank for rank, code in enumerate(COMMON_CODES)}


def _relevance(code: str) -> tuple:
    """Common codes first (in COMMON_CODES order), then categories before their subdivisions."""
    if code in _COMMON_RANK:
        return (0, _COMMON_RANK[code], "")
    return (1, len(code), code)


def normalise(code: str) -> str:
    return code.strip().upper().replace(".", "").replace(" ", "")


def _build() -> _Index:
    # Imported here: loading the package parses the whole classification (about a second), which
    # only the first code lookup of a process should pay, not every manage.py command.
    import simple_icd_10_cm as cm

    entries: dict[str, Icd10Code] = {}
    for code in cm.get_all_codes(with_dots=True):
        if code.isdigit() or "-" in code:  # a chapter or a block
            continue
        entries[normalise(code)] = Icd10Code(code, cm.get_description(code), cm.is_leaf(code))
    codes = sorted(entries)
    postings: dict[str, list[int]] = {}
    for position, code in enumerate(codes):
        for word in set(fold(entries[code].description).split()):
            postings.setdefault(word, []).append(position)
    return _Index(codes=codes, entries=entries, words=sorted(postings), postings=postings)


_built: _Index | None = None
_building = threading.Lock()


def _index() -> _Index:
    """The index, built once per process. The lock matters: two threads importing the package
    at once (a request and the warm-up thread) would see it half-loaded."""
    global _built
    if _built is None:
        with _building:
            if _built is None:
                _built = _build()
    return _built


def icd10_warm() -> None:
    """Build the index in a background thread, so the first search does not wait for it."""
    if _built is None and not _building.locked():
        threading.Thread(target=_index, name="icd10-index", daemon=True).start()


def icd10_lookup(code: str) -> Icd10Code | None:
    """The code's entry (with its canonical dotted form), or None if it is not ICD-10-CM."""
    return _index().entries.get(normalise(code))


def icd10_search(query: str, *, limit: int = 20) -> list[Icd10Code]:
    """Codes starting with `query`, else codes whose description has a word starting with each
    word of the query ("diab typ 2" finds "Type 2 diabetes mellitus"), common codes first."""
    index = _index()
    query = query.strip()
    if not query:
        return []
    key = normalise(query)
    found: list[Icd10Code] = []
    if key[:1].isalpha() and key[1:2].isdigit():
        start = bisect.bisect_left(index.codes, key)
        for code in index.codes[start : start + limit]:
            if not code.startswith(key):
                break
            found.append(index.entries[code])
        if found:
            return found
    matching: set[int] | None = None
    # Rarest words first would be ideal; the query's own order is good enough in practice.
    for prefix in fold(query).split():
        positions: set[int] = set()
        start = bisect.bisect_left(index.words, prefix)
        for word in index.words[start:]:
            if not word.startswith(prefix):
                break
            positions.update(index.postings[word])
        matching = positions if matching is None else matching & positions
        if not matching:
            return []
    ranked = sorted((index.codes[p] for p in matching or ()), key=_relevance)
    return [index.entries[code] for code in ranked[:limit]]
