"""What the audit page shows for a patient reference: a name and MRN instead of an id.

The audit trail (core) must not import the patients app; the patients app registers its
lookups here in its AppConfig.ready().
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class PatientLabel:
    name: str
    mrn: str  # as printed, with its dash

    def __str__(self) -> str:
        return f"{self.name} ({self.mrn})"


# labels(refs) -> {ref: label} for the refs that are patients, in one query
LabelLookup = Callable[[Iterable[str]], dict[str, PatientLabel]]
# refs(mrn typed in any usual way) -> patient refs (merged records included)
MrnLookup = Callable[[str], list[str]]

_lookups: dict[str, Callable] = {}


def register_patient_lookups(*, labels: LabelLookup, refs_for_mrn: MrnLookup) -> None:
    _lookups.update(labels=labels, refs_for_mrn=refs_for_mrn)


def patient_labels(refs: Iterable[str]) -> dict[str, PatientLabel]:
    lookup = _lookups.get("labels")
    return lookup(refs) if lookup else {}


def patient_refs_for_mrn(mrn: str) -> list[str]:
    lookup = _lookups.get("refs_for_mrn")
    return lookup(mrn) if lookup else []
