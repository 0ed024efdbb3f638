"""Writes through FHIR: each parses the resource with `fhir.resources`, turns it into the
owning app's terms and calls that app's service, so every rule (duplicate-free MRNs, no double
booking, the patient's own record only) is the one the pages and the REST API obey.
Bulk Data export jobs are started here and run by the task worker (`tasks.py`).
"""

import shutil
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.patient import Patient as FhirPatient
from pydantic import ValidationError as PydanticValidationError

from hms.accounts.models import User
from hms.clinical.models import LabOrder, LabResult, Vitals
from hms.core.access import require
from hms.core.audit import audit_record
from hms.core.bulk import bulk_insert
from hms.core.errors import DomainError, NotFound
from hms.core.permissions import STAFF_ROLES, Perm, Role
from hms.fhir import mappers
from hms.fhir.models import ExportJob, ExportStatus, ImportedResource
from hms.patients.models import IdentifierSystem, Patient, Sex
from hms.patients.selectors import patient_get_for_user
from hms.patients.services import patient_create, patient_update
from hms.scheduling.models import BookingChannel
from hms.scheduling.selectors import appointment_get_for_user
from hms.scheduling.services import (
    appointment_book_as,
    appointment_cancel,
    appointment_reschedule,
)


class InvalidResource(DomainError):
    code = "invalid"
    status = 400


def _parse(model, data: dict, kind: str, pk=None):
    if data.get("resourceType") != kind:
        raise InvalidResource(f"The body must be a {kind} resource.")
    if pk is not None and str(data.get("id", "")) != str(pk):
        raise InvalidResource("The resource's id must be the id in the address.")
    try:
        return model.model_validate(data)
    except (PydanticValidationError, ValueError, TypeError) as exc:
        lines = str(exc).splitlines()
        raise InvalidResource(f"Not a valid {kind}: {' '.join(lines[:3])[:400]}") from None


# --- Patient ---------------------------------------------------------------------------------


def _patient_fields(resource: FhirPatient) -> tuple[dict, list[dict]]:
    names = resource.name or []
    name = next((n for n in names if n.use == "official"), names[0] if names else None)
    if name is None or not name.family or not name.given:
        raise InvalidResource("A patient needs a name with a family name and a given name.")
    if resource.birthDate is None:
        raise InvalidResource("A patient needs a birthDate.")
    telecom = resource.telecom or []
    phone = next((t.value for t in telecom if t.system == "phone" and t.value), "")
    email = next((t.value for t in telecom if t.system == "email" and t.value), "")
    address = (resource.address or [None])[0]
    fields = {
        "given_name": name.given[0][:100],
        "middle_names": " ".join(name.given[1:])[:100],
        "family_name": name.family[:100],
        "birth_date": resource.birthDate,
        "sex": resource.gender if resource.gender in Sex.values else Sex.UNKNOWN,
        "phone": phone,
        "email": email,
        "address_line": ", ".join(address.line or [])[:200] if address else "",
        "city": (address.city or "")[:100] if address else "",
        "postal_code": (address.postalCode or "")[:20] if address else "",
        "country": (address.country or "")[:60] if address else "",
    }
    identifiers = [
        {
            "system": IdentifierSystem.OTHER,
            "system_uri": (i.system or "")[:200],
            "value": i.value[:100],
        }
        for i in resource.identifier or []
        if i.value and i.system != mappers.MRN_SYSTEM
    ]
    return fields, identifiers


def fhir_patient_create(*, actor: User, data: dict) -> Patient:
    """Register a patient from a FHIR Patient (through `patient_create`: a new MRN; our MRN in
    the resource is ignored, other identifiers are kept)."""
    require(actor, Perm.PATIENT_REGISTER)
    fields, identifiers = _patient_fields(_parse(FhirPatient, data, "Patient"))
    return patient_create(actor=actor, identifiers=identifiers, **fields)


def fhir_patient_update(*, actor: User, patient_id, data: dict) -> Patient:
    """Replace a patient's demographics and contacts with the resource's (`patient_update`);
    identifiers not yet known are added."""
    require(actor, Perm.PATIENT_REGISTER)
    patient = patient_get_for_user(
        user=actor, patient_id=patient_id, action="patient.view_for_edit"
    )
    fields, identifiers = _patient_fields(_parse(FhirPatient, data, "Patient", pk=patient.pk))
    known = set(patient.identifiers.values_list("system_uri", "value"))
    fresh = [i for i in identifiers if (i["system_uri"], i["value"]) not in known]
    return patient_update(actor=actor, patient=patient, identifiers=fresh, **fields)


# --- Appointment -----------------------------------------------------------------------------


def _participants(resource: FhirAppointment) -> tuple[str | None, str | None]:
    patient = practitioner = None
    for participant in resource.participant or []:
        ref = (participant.actor.reference or "") if participant.actor else ""
        kind, _, pk = ref.rpartition("/")
        kind = kind.rsplit("/", 1)[-1]
        if kind == "Patient":
            patient = pk
        elif kind == "Practitioner":
            practitioner = pk
    return patient, practitioner


def _when(resource: FhirAppointment) -> tuple[datetime | None, str | None]:
    """The start asked for, and the practitioner named by a Slot reference, if any."""
    practitioner = None
    start = None
    for slot in resource.slot or []:
        ref = (slot.reference or "").rsplit("/", 1)[-1]
        who, _, at = ref.partition(".")
        try:
            start = datetime.strptime(at, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.UTC)
        except ValueError:
            raise InvalidResource(f"Slot {ref!r} is not one of ours.") from None
        practitioner = who
    if resource.start is not None:
        start = resource.start
        if isinstance(start, str):
            start = parse_datetime(start)
        if start is not None and timezone.is_naive(start):
            raise InvalidResource("start must have a time zone.")
    return start, practitioner


def _is_patient(actor) -> bool:
    return getattr(actor, "role", None) == Role.PATIENT


def fhir_appointment_book(*, actor: User, data: dict):
    """Book from a FHIR Appointment (status booked, proposed or pending; the patient and the
    practitioner as participants; `start` or a free Slot): `appointment_book_as` through the API
    channel, so a taken time is a 409 and a patient books only for themself."""
    if not _is_patient(actor):
        require(actor, Perm.APPOINTMENT_BOOK, "Your role may not book appointments.")
    resource = _parse(FhirAppointment, data, "Appointment")
    if resource.status not in ("booked", "proposed", "pending"):
        raise InvalidResource("A new appointment's status must be booked, proposed or pending.")
    patient_id, practitioner_id = _participants(resource)
    start, slot_practitioner = _when(resource)
    practitioner_id = practitioner_id or slot_practitioner
    if start is None:
        raise InvalidResource("Give start, or a Slot to book.")
    if not practitioner_id or not str(practitioner_id).isdigit():
        raise InvalidResource("Name the practitioner (participant Practitioner/<id>).")
    practitioner = User.objects.filter(
        pk=int(practitioner_id), role__in=[str(r) for r in STAFF_ROLES], is_active=True
    ).first()
    if practitioner is None:
        raise NotFound("No such practitioner.")
    return appointment_book_as(
        actor=actor,
        practitioner=practitioner,
        start=start,
        patient_id=patient_id,
        reason=(resource.description or "")[:300],
        channel=BookingChannel.API,
    )


def fhir_appointment_update(*, actor: User, appointment_id, data: dict):
    """Apply a changed FHIR Appointment: status `cancelled` cancels (`appointment_cancel`), a new
    `start` moves it (`appointment_reschedule`); nothing else may change through FHIR."""
    if not _is_patient(actor):
        require(actor, Perm.APPOINTMENT_BOOK, "Your role may not change appointments.")
    appointment = appointment_get_for_user(
        user=actor, appointment_id=appointment_id, action="fhir.appointment.read_for_update"
    )
    resource = _parse(FhirAppointment, data, "Appointment", pk=appointment.pk)
    if resource.status == "cancelled" and appointment.fhir_status != "cancelled":
        reason = resource.cancelationReason.text if resource.cancelationReason else ""
        return appointment_cancel(
            actor=actor, appointment=appointment, reason=reason or "Cancelled through FHIR"
        )
    if resource.status != appointment.fhir_status:
        raise InvalidResource(
            f"Through FHIR an appointment's status changes only to cancelled "
            f"(it is {appointment.fhir_status})."
        )
    start, _ = _when(resource)
    if start is not None and start != appointment.start:
        return appointment_reschedule(actor=actor, appointment=appointment, start=start)
    return appointment


# --- Import ------------------------------------------------------------------------------------


def observations_import(
    *,
    actor: User | None,
    patient: Patient,
    vitals: list[Vitals],
    lab_orders: list[LabOrder],
    lab_results: list[LabResult],
    links: list[tuple[str, object, str]],
) -> int:
    """Store one patient's imported Observations in one transaction: sets of vitals (several
    FHIR Observations each) and laboratory orders with their results, each FHIR id recorded in
    `ImportedResource` (unique), so an Observation is never imported twice. Returns how many
    Observations were stored. No actor: the import command, under `as_system()`."""
    require(actor, Perm.CLINICAL_WRITE)
    if not links:
        return 0
    with transaction.atomic():
        known = set(
            ImportedResource.objects.filter(
                resource_type="Observation", source_id__in=[s for _, _, s in links]
            ).values_list("source_id", flat=True)
        )
        fresh = [link for link in links if link[2] not in known]
        kept = {pk for _, pk, _ in fresh}
        vitals = [v for v in vitals if v.pk in kept and v.patient_id == patient.pk]
        lab_results = [r for r in lab_results if r.pk in kept and r.patient_id == patient.pk]
        orders = {r.order_id for r in lab_results}
        bulk_insert(vitals)
        bulk_insert([o for o in lab_orders if o.pk in orders])
        bulk_insert(lab_results)
        ImportedResource.objects.bulk_create(
            [
                ImportedResource(
                    resource_type="Observation",
                    source_id=source_id,
                    target=target,
                    target_id=str(pk),
                )
                for target, pk, source_id in fresh
            ]
        )
        if fresh:
            audit_record(
                action="clinical.import",
                actor=actor,
                object_type="fhir.observation",
                patient=patient,
                details={"count": len(fresh), "vitals": len(vitals), "lab": len(lab_results)},
            )
    return len(fresh)


# --- Bulk Data export ------------------------------------------------------------------------


def export_path(job: ExportJob) -> Path:
    """Where a job's NDJSON files are (one per resource type)."""
    return Path(settings.FHIR_EXPORT_DIR) / str(job.pk)


EXPORT_TYPES = (
    "Patient",
    "Encounter",
    "Condition",
    "Observation",
    "AllergyIntolerance",
    "MedicationRequest",
    "Appointment",
    "Practitioner",
    "Organization",
    "Location",
)
PATIENT_EXPORT_TYPES = EXPORT_TYPES[:7]


def export_job_start(
    *, actor: User, level: str, types: list[str], since: datetime | None, request_url: str
) -> ExportJob:
    """Queue a Bulk Data export of every patient's record (administrators: the export holds all
    records). The task worker writes the files; the job says where."""
    require(actor, Perm.FHIR_BULK_EXPORT)
    offered = PATIENT_EXPORT_TYPES if level == "patient" else EXPORT_TYPES
    unknown = [t for t in types if t not in offered]
    if unknown:
        raise InvalidResource(f"_type: {', '.join(unknown)} cannot be exported here.")
    with transaction.atomic():
        job = ExportJob.objects.create(
            requested_by=actor,
            level=level,
            types=list(types or offered),
            since=since,
            request_url=request_url,
        )
        audit_record(
            action="fhir.export.start",
            actor=actor,
            obj=job,
            details={"level": level, "types": job.types},
        )
        from hms.fhir.tasks import run_export

        transaction.on_commit(lambda: run_export.enqueue(str(job.pk)))
    return job


def export_job_delete(*, actor: User, job: ExportJob) -> None:
    """Remove an export's files (the job row stays, for the audit trail's reference)."""
    require(actor, Perm.FHIR_BULK_EXPORT)
    with transaction.atomic():
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED, error="deleted by the requester", output=[]
        )
        audit_record(action="fhir.export.delete", actor=actor, obj=job)
    shutil.rmtree(export_path(job), ignore_errors=True)


def export_job_run(*, job_id) -> ExportJob | None:
    """Write the job's NDJSON files (run by the task worker, as the system)."""
    from hms.fhir.exporter import export_ndjson

    job = ExportJob.objects.filter(pk=job_id, status=ExportStatus.ACCEPTED).first()
    if job is None:
        return None
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING)
    try:
        counts = export_ndjson(export_path(job), types=job.types, since=job.since)
    except Exception as exc:  # the requester is told, in the job's status
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED, error=str(exc)[:500], finished_at=timezone.now()
        )
        raise
    output = [{"type": t, "count": n} for t, n in counts.items() if n]
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.COMPLETED, output=output, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job
