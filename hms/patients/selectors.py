"""Reads of patient records: every one checks who asks and leaves an audit row."""

from hms.core.audit import audit_record
from hms.core.errors import NotFound
from hms.core.permissions import Perm, Role, user_has_perm
from hms.patients.models import Patient


def patient_get_for_user(*, user, patient_id, action: str = "patient.view") -> Patient:
    """The patient, if `user` may see them: staff whose role reads demographics, or the patient
    themself. Anyone else gets NotFound, so a record's existence does not leak. Audited."""
    try:
        patient = Patient.objects.select_related("merged_into").get(pk=patient_id)
    except (Patient.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such patient.") from None
    if not can_view_patient(user, patient):
        raise NotFound("No such patient.")
    audit_record(action=action, actor=user, obj=patient, patient=patient)
    return patient


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
    """The portal user's own patient record (None for staff or an unlinked account)."""
    if not user.is_authenticated or user.role != Role.PATIENT:
        return None
    return Patient.objects.filter(user=user, merged_into__isnull=True).first()
