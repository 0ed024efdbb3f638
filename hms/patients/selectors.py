"""Reads of patient records: every one checks who asks and leaves an audit row. Search lives in
`search.py`, duplicate detection in `duplicates.py`."""

import uuid
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

from hms.core.audit import audit_record, audit_record_patients
from hms.core.audit_labels import PatientLabel
from hms.core.chart import ChartSection, sections_for
from hms.core.errors import NotFound
from hms.core.memo import once_per_request
from hms.core.permissions import Perm, Role, user_has_perm
from hms.patients.models import Patient, PatientMerge


def patient_get_for_user(*, user, patient_id, action: str = "patient.view") -> Patient:
    """The patient, if `user` may see them: staff whose role reads demographics, or the patient
    themself. Anyone else gets NotFound, so a record's existence does not leak. Audited."""
    try:
        patient = Patient.objects.get(pk=patient_id)
    except (Patient.DoesNotExist, ValueError, TypeError, ValidationError):
        raise patient_access_refused(user=user, patient_id=patient_id, action=action) from None
    if not can_view_patient(user, patient):
        raise patient_access_refused(user=user, patient_id=patient_id, action=action)
    audit_record(action=action, actor=user, obj=patient, patient=patient)
    return patient


def patient_access_refused(*, user, patient_id, action: str) -> NotFound:
    """A refused read of a patient's record leaves an audit row too (`<action>_denied`, naming
    the id asked for, whether or not it exists): who probes for records is worth knowing.
    Returns the NotFound for the caller to raise."""
    ref = "" if patient_id is None else str(patient_id)[:64]
    audit_record(
        action=f"{action}_denied",
        actor=user,
        object_type="patients.patient",
        object_id=ref,
        patient=ref,
    )
    return NotFound("No such patient.")


def patient_merges_recent(*, user, limit: int = 50) -> list[PatientMerge]:
    """The latest merges, for the merge page: each names two patients, so each patient shown
    leaves an audit row (one batch, three queries)."""
    merges = list(
        PatientMerge.objects.select_related("survivor", "duplicate", "actor", "undone_by")[:limit]
    )
    shown = [ref for m in merges for ref in (m.survivor_id, m.duplicate_id)]
    audit_record_patients(action="patient.merge_list", actor=user, patients=shown)
    return merges


def can_view_patient(user, patient: Patient) -> bool:
    if user_has_perm(user, Perm.PATIENT_VIEW_DEMOGRAPHICS):
        return True
    return (
        user.is_authenticated
        and user.role == Role.PATIENT
        and patient.user_id is not None
        and patient.user_id == user.pk
    )


def patient_of_user(user) -> Patient | None:
    """The portal user's own patient record (None for staff or an unlinked account). Read once
    per request: a portal page asks in its view, its selectors and its widgets."""
    if not user.is_authenticated or user.role != Role.PATIENT:
        return None
    return once_per_request(
        ("patient_of_user", user.pk),
        lambda: Patient.objects.filter(user=user, merged_into__isnull=True).first(),
    )


def patient_audit_labels(refs) -> dict[str, PatientLabel]:
    """Name and MRN of each reference that is a patient id (others are ignored), one query."""
    ids = set()
    for ref in refs:
        try:
            ids.add(uuid.UUID(str(ref)))
        except ValueError:
            continue
    rows = Patient.objects.filter(pk__in=ids).only(
        "pk", "mrn", "given_name", "middle_names", "family_name"
    )
    return {str(p.pk): PatientLabel(p.full_name, p.mrn_display) for p in rows}


# --- The chart ----------------------------------------------------------------------------


@dataclass
class LoadedSection:
    section: ChartSection
    context: dict


@dataclass
class Chart:
    patient: Patient
    banner: list[LoadedSection]
    sections: list[LoadedSection]
    age: int


def patient_chart(*, user, patient_id, today: date | None = None) -> Chart:
    """The chart of one patient: access-checked and audited (patient_get_for_user), then every
    section the user's role may see, each loading its own data in a bounded number of queries.
    Sections flagged `banner=True` (allergies, alerts) are shown in the banner."""
    patient = patient_get_for_user(user=user, patient_id=patient_id, action="patient.chart_view")
    banner, body = [], []
    for section in sections_for(user):
        loaded = LoadedSection(section, section.load(patient=patient, user=user) or {})
        (banner if getattr(section, "banner", False) else body).append(loaded)
    today = today or timezone.localdate()
    return Chart(patient=patient, banner=banner, sections=body, age=patient.age_on(today))
