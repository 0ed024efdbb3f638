"""Every record as FHIR NDJSON, one file per resource type (`export_fhir DIR`, Bulk Data
`$export`). Rows are streamed in chunks (constant memory) through the same mappers the API
uses. Runs as the system: callers check who asked."""

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from django.db.models import QuerySet

from hms.accounts.models import User
from hms.clinical.models import Allergy, Diagnosis, Encounter, LabResult, Prescription, Vitals
from hms.core.models import Department
from hms.core.permissions import STAFF_ROLES
from hms.core.selectors import hospital_get
from hms.fhir import mappers
from hms.fhir.serialise import resource_json
from hms.patients.models import Patient
from hms.scheduling.models import Appointment

CHUNK = 2000


def _since(qs: QuerySet, since: datetime | None, field: str = "updated_at") -> QuerySet:
    return qs.filter(**{f"{field}__gte": since}) if since else qs


def resources_of(kind: str, since: datetime | None = None) -> Iterator:
    """The resources of one type, in a stable order."""
    hospital = hospital_get()
    if kind == "Patient":
        qs = Patient.objects.prefetch_related(mappers.PATIENT_IDENTIFIERS)
        for row in _since(qs, since).order_by("pk").iterator(CHUNK):
            yield mappers.patient_to_fhir(row)
    elif kind == "Encounter":
        for row in _since(Encounter.objects.order_by("pk"), since).iterator(CHUNK):
            yield mappers.encounter_to_fhir(row)
    elif kind == "Condition":
        for row in _since(Diagnosis.objects.order_by("pk"), since).iterator(CHUNK):
            yield mappers.condition_to_fhir(row)
    elif kind == "AllergyIntolerance":
        for row in _since(Allergy.objects.order_by("pk"), since).iterator(CHUNK):
            yield mappers.allergy_to_fhir(row)
    elif kind == "MedicationRequest":
        for row in _since(Prescription.objects.order_by("pk"), since).iterator(CHUNK):
            yield mappers.prescription_to_fhir(row)
    elif kind == "Observation":
        for row in _since(Vitals.objects.order_by("pk"), since).iterator(CHUNK):
            yield from mappers.vitals_to_fhir(row)
        labs = LabResult.objects.select_related("order").order_by("pk")
        for row in _since(labs, since).iterator(CHUNK):
            yield mappers.lab_result_to_fhir(row)
    elif kind == "Appointment":
        qs = Appointment.objects.select_related("patient", "practitioner", "department")
        for row in _since(qs.order_by("pk"), since).iterator(CHUNK):
            yield mappers.appointment_to_fhir(row)
    elif kind == "Practitioner":
        staff = User.objects.filter(role__in=[str(r) for r in STAFF_ROLES])
        for row in staff.select_related("staff_profile").order_by("pk").iterator(CHUNK):
            yield mappers.practitioner_to_fhir(row)
    elif kind == "Organization":
        if hospital is not None:
            yield mappers.organization_to_fhir(hospital)
    elif kind == "Location":
        for row in Department.objects.order_by("pk"):
            yield mappers.location_to_fhir(row, hospital)
    else:
        raise ValueError(f"{kind} cannot be exported")


def export_ndjson(
    directory: Path, *, types: Iterable[str], since: datetime | None = None, progress=None
) -> dict[str, int]:
    """Write `<Type>.ndjson` for each type into `directory`; returns how many of each."""
    directory.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for kind in types:
        path = directory / f"{kind}.ndjson"
        n = 0
        with path.open("w", encoding="utf-8") as handle:
            for resource in resources_of(kind, since):
                handle.write(resource_json(resource))
                handle.write("\n")
                n += 1
        counts[kind] = n
        if progress:
            progress(kind, n)
    return counts
