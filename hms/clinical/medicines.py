"""The medicine catalogue that prescribing asks, filled by a higher app (the pharmacy).

Clinical must not import inventory: inventory registers a `MedicineCatalogue` here in its
AppConfig.ready(). Without one (or for a drug it does not know), prescribing stays free text,
and the prescription is marked as not stocked (`item_code` empty).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Medicine:
    code: str  # the catalogue's item code
    name: str  # what the prescription's `drug` becomes (generic name first)
    strength: str = ""
    form: str = ""

    @property
    def label(self) -> str:
        """How the medicine reads in the prescribing field's suggestions; `resolve` parses
        the code back out of it."""
        text = " ".join(part for part in (self.name, self.strength, self.form) if part)
        return f"{text} [{self.code}]"


@dataclass(frozen=True)
class MedicineCatalogue:
    search: Callable[[str, int], list[Medicine]]  # (query, limit) -> active medicines
    get: Callable[[str], Medicine | None]  # item code -> the active medicine, or None


_catalogue: list[MedicineCatalogue] = []
_CODE = re.compile(r"\[([^\[\]]{1,40})\]\s*$")


def register_catalogue(catalogue: MedicineCatalogue) -> None:
    _catalogue[:] = [catalogue]


def medicine_search(query: str, *, limit: int = 20) -> list[Medicine]:
    query = query.strip()[:80]
    if not _catalogue or len(query) < 2:
        return []
    return _catalogue[0].search(query, limit)


def medicine_get(code: str) -> Medicine | None:
    return _catalogue[0].get(code) if _catalogue and code else None


def medicine_resolve(text: str) -> Medicine | None:
    """The catalogue medicine a prescribing field names: a suggestion's label ("Amoxicillin
    500 mg capsule [AMOX500]") or an item code typed alone. Anything else is free text."""
    text = text.strip()
    match = _CODE.search(text)
    return medicine_get(match.group(1).strip() if match else text)
