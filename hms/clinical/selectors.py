"""Reads of the clinical record: who may see which part, checked here, audited with the patient.

Parts of the record ("areas") and who reads them:
- clinical (encounters, vitals, diagnoses, documents): doctors and nurses;
- medication (allergies, prescriptions): doctors, nurses, pharmacists, and the patient;
- labs (orders, results): doctors, nurses, lab technicians, and the patient (released results);
- notes: doctors and nurses, and the patient (signed notes only).
A patient reads only their own record; anyone else's is "not found".
"""

from enum import StrEnum

from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Prefetch, QuerySet, Value, When

from hms.clinical.models import (
    Allergy,
    Attachment,
    ClinicalNote,
    Diagnosis,
    Encounter,
    LabFlag,
    LabOrder,
    LabOrderStatus,
    LabResult,
    NoteAmendment,
    Prescription,
    Vitals,
)
from hms.core.errors import NotFound
from hms.core.permissions import Perm, Role, user_has_perm
from hms.patients.models import Patient
from hms.patients.selectors import (
    patient_access_refused,
    patient_get_for_user,
    patient_of_user,
)


class Area(StrEnum):
    CLINICAL = "clinical"
    MEDICATION = "medication"
    LABS = "labs"
    NOTES = "notes"


AREA_PERMS: dict[Area, tuple[Perm, ...]] = {
    Area.CLINICAL: (Perm.CLINICAL_VIEW,),
    Area.MEDICATION: (Perm.CLINICAL_VIEW, Perm.PRESCRIPTION_VIEW),
    Area.LABS: (Perm.CLINICAL_VIEW, Perm.LAB_VIEW),
    Area.NOTES: (Perm.CLINICAL_VIEW,),
}
PORTAL_AREAS = {Area.MEDICATION, Area.LABS, Area.NOTES}


def is_portal_user(user) -> bool:
    return user_has_perm(user, Perm.PORTAL_USE) and user.role == Role.PATIENT


def may_read(user, area: Area) -> bool:
    if any(user_has_perm(user, perm) for perm in AREA_PERMS[area]):
        return True
    return area in PORTAL_AREAS and is_portal_user(user)


def check_area(user, area: Area) -> None:
    """Anyone whose role does not read this part of the record is told it is not there (404):
    routes shared by staff and patients declare `signed_in`, and the answer must not differ
    between "exists but not yours" and "does not exist"."""
    if not may_read(user, area):
        raise NotFound("Not found.")


def clinical_patient_get(*, user, patient_id, area: Area, action: str) -> Patient:
    """The patient whose `area` the user may read, with an audit row naming the patient. A
    patient user asking for someone else gets NotFound. A refusal is audited too."""
    if not may_read(user, area):
        raise patient_access_refused(user=user, patient_id=patient_id, action=action)
    if patient_id in (None, "") and is_portal_user(user):
        own = patient_of_user(user)
        if own is None:
            raise NotFound("No patient record is linked to this account.")
        patient_id = own.pk
    if patient_id in (None, ""):
        raise NotFound("Say which patient: ?patient=<id>.")
    return patient_get_for_user(user=user, patient_id=patient_id, action=action)


# --- Lists of one patient's record ------------------------------------------------------------


def encounters_of(patient: Patient) -> QuerySet[Encounter]:
    return Encounter.objects.filter(patient=patient).select_related("practitioner", "department")


def vitals_of(patient: Patient) -> QuerySet[Vitals]:
    return Vitals.objects.filter(patient=patient)


def diagnoses_of(patient: Patient) -> QuerySet[Diagnosis]:
    return Diagnosis.objects.filter(patient=patient)


def allergies_of(patient: Patient) -> QuerySet[Allergy]:
    return Allergy.objects.filter(patient=patient)


def prescriptions_of(patient: Patient) -> QuerySet[Prescription]:
    return Prescription.objects.filter(patient=patient).select_related("prescriber")


def notes_of(patient: Patient, *, user) -> QuerySet[ClinicalNote]:
    notes = (
        ClinicalNote.objects.filter(patient=patient)
        .select_related("author", "signed_by")
        .prefetch_related(
            Prefetch("amendments", queryset=NoteAmendment.objects.select_related("author"))
        )
    )
    if is_portal_user(user):
        notes = notes.filter(signed_at__isnull=False)
    return notes


def lab_orders_of(patient: Patient, *, user) -> QuerySet[LabOrder]:
    orders = LabOrder.objects.filter(patient=patient).select_related("ordered_by")
    results = LabResult.objects.order_by("resulted_at")
    if is_portal_user(user):
        orders = orders.filter(results__released_to_patient=True).distinct()
        results = results.filter(released_to_patient=True, is_current=True)
    return orders.prefetch_related(Prefetch("results", queryset=results))


def lab_results_of(patient: Patient, *, user) -> QuerySet[LabResult]:
    results = LabResult.objects.filter(patient=patient).select_related("order")
    if is_portal_user(user):
        results = results.filter(released_to_patient=True, is_current=True)
    return results


# --- One record by id --------------------------------------------------------------------------

MODEL_AREAS = {
    Encounter: Area.CLINICAL,
    Vitals: Area.CLINICAL,
    Diagnosis: Area.CLINICAL,
    Attachment: Area.CLINICAL,
    Allergy: Area.MEDICATION,
    Prescription: Area.MEDICATION,
    ClinicalNote: Area.NOTES,
    LabOrder: Area.LABS,
    LabResult: Area.LABS,
}


def _visible_to_portal(obj) -> bool:
    if isinstance(obj, ClinicalNote):
        return obj.signed_at is not None
    if isinstance(obj, LabResult):
        return obj.released_to_patient and obj.is_current
    if isinstance(obj, LabOrder):
        return obj.results.filter(released_to_patient=True, is_current=True).exists()
    return True


def record_get_for_user(*, user, model, pk, action: str | None = None, queryset=None):
    """One clinical row, if the user may read its part of the record; audited with its patient.
    Unknown ids, other patients' rows and rows a patient may not see yet are all NotFound."""
    area = MODEL_AREAS[model]
    try:
        obj = (queryset if queryset is not None else model.objects).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError, ValidationError):
        # ValidationError: a malformed UUID, which is simply not one of ours.
        raise NotFound("Not found.") from None
    action = action or f"{model._meta.model_name}.view"
    clinical_patient_get(user=user, patient_id=obj.patient_id, area=area, action=action)
    if is_portal_user(user) and not _visible_to_portal(obj):
        raise NotFound("Not found.")
    return obj


def encounter_page_data(encounter: Encounter, *, user) -> dict:
    """Everything the encounter page shows, in a fixed number of queries."""
    return {
        "vitals": list(encounter.vitals.all()),
        "diagnoses": list(encounter.diagnoses.all()),
        "prescriptions": list(encounter.prescriptions.all()),
        "notes": list(
            encounter.notes.select_related("author", "signed_by").prefetch_related(
                Prefetch("amendments", queryset=NoteAmendment.objects.select_related("author"))
            )
        ),
        "lab_orders": list(
            encounter.lab_orders.prefetch_related(
                Prefetch("results", queryset=LabResult.objects.order_by("resulted_at"))
            )
        ),
        "attachments": list(encounter.attachments.all()),
        "allergies": list(Allergy.objects.filter(patient_id=encounter.patient_id, status="active")),
    }


# --- Worklists ---------------------------------------------------------------------------------


def open_encounters(*, practitioner=None) -> QuerySet[Encounter]:
    """Encounters not closed yet, newest first (optionally one practitioner's)."""
    encounters = Encounter.objects.exclude(status="closed").select_related(
        "patient", "practitioner", "department"
    )
    if practitioner is not None:
        encounters = encounters.filter(practitioner=practitioner)
    return encounters.order_by("-started_at")


def lab_worklist(*, status: str | None = None) -> QuerySet[LabOrder]:
    """Orders waiting for the lab, most urgent first."""
    statuses = [status] if status else [LabOrderStatus.ORDERED, LabOrderStatus.COLLECTED]
    priority_rank = {"stat": 0, "urgent": 1, "routine": 2}
    rank = Case(
        *[When(priority=p, then=Value(r)) for p, r in priority_rank.items()],
        output_field=IntegerField(),
    )
    return (
        LabOrder.objects.filter(status__in=statuses)
        .select_related("patient", "ordered_by")
        .annotate(rank=rank)
        .order_by("rank", "ordered_at")
    )


def results_to_review(*, doctor) -> QuerySet[LabResult]:
    """The doctor's worklist of results: current values of tests they ordered, not yet released,
    critical first, then abnormal, newest first within each."""
    rank = Case(
        When(flag=LabFlag.CRITICAL, then=Value(0)),
        When(flag__in=[LabFlag.HIGH, LabFlag.LOW], then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        LabResult.objects.filter(
            order__ordered_by=doctor, is_current=True, released_to_patient=False
        )
        .select_related("order", "patient")
        .annotate(rank=rank)
        .order_by("rank", "-resulted_at")
    )


def pharmacy_prescriptions(*, status: str = "active") -> QuerySet[Prescription]:
    return (
        Prescription.objects.filter(status=status)
        .select_related("patient", "prescriber")
        .order_by("-prescribed_at")
    )
