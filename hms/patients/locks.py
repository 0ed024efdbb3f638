"""The lock order of the whole record: the patient row first.

Every change that touches a patient's rows in several tables (a booking, a check-in, a visit's
states, a prescription, a merge) locks the patient row before anything else, so two of them
never wait for each other in opposite orders. A merge locks its two patients in primary-key
order (patients.services._lock_pair) and then moves their rows.
"""

from typing import NamedTuple

from hms.patients.models import Patient


class LockedPatient(NamedTuple):
    merged_into_id: object
    is_active: bool

    @property
    def is_current(self) -> bool:
        """Still the record in use: not merged into another, not closed."""
        return self.merged_into_id is None and self.is_active


# Built once: each lock only adds its patient's id (a booking takes one, and building the rest
# cost about as much again as the filter).
_STATES_FOR_UPDATE = Patient.objects.select_for_update().values_list("merged_into_id", "is_active")


def lock_patient(patient_id) -> LockedPatient | None:
    """Lock the patient row until the transaction ends; return its state as the lock found it
    (a caller's copy may be stale: a merge may have finished while it waited), or None when
    there is no such row."""
    state = _STATES_FOR_UPDATE.filter(pk=patient_id).first()
    return LockedPatient(*state) if state is not None else None
