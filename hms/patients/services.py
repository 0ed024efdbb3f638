"""Every write to the patient registry: one transaction each, audited."""

from django.db import transaction

from hms.core.audit import audit_record
from hms.core.events import subscribe
from hms.patients.models import Patient
from hms.patients.mrn import mrn_allocate
from hms.patients.normalize import digits, fold


def search_keys(patient: Patient) -> None:
    """Keep the normalised search columns in step with the names and phone."""
    patient.search_name = fold(f"{patient.given_name} {patient.middle_names} {patient.family_name}")
    patient.search_family = fold(patient.family_name)
    patient.search_phone = digits(patient.phone)


def patient_create(*, actor, user=None, **fields) -> Patient:
    """Register a patient with a new MRN. Callers check for duplicates first."""
    with transaction.atomic():
        patient = Patient(user=user, **fields)
        patient.mrn = mrn_allocate()
        search_keys(patient)
        patient.full_clean(exclude=["mrn", "search_name", "search_family", "search_phone"])
        patient.save()
        audit_record(action="patient.create", actor=actor, obj=patient, patient=patient)
    return patient


@subscribe("patient_account.registered")
def _record_for_portal_account(*, user, birth_date, phone="", **_) -> None:
    """A self-registered portal account gets its own patient record. It is never linked to an
    existing record automatically: reception merges duplicates after checking identity."""
    patient_create(
        actor=user,
        user=user,
        given_name=user.given_name,
        family_name=user.family_name,
        birth_date=birth_date,
        email=user.email,
        phone=phone,
        consent_email=True,
    )
