"""Every write to the clinical record: one transaction each, audited with the patient."""

import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from hms.accounts.models import User
from hms.clinical import rules
from hms.clinical.icd10 import icd10_lookup
from hms.clinical.medicines import medicine_get, medicine_resolve
from hms.clinical.models import (
    ATTACHMENT_TYPES,
    ICD10_SYSTEM,
    Allergy,
    AllergySeverity,
    AllergyStatus,
    Attachment,
    ClinicalNote,
    Diagnosis,
    DiagnosisStatus,
    Encounter,
    EncounterKind,
    EncounterStatus,
    LabFlag,
    LabOrder,
    LabOrderStatus,
    LabResult,
    NoteAmendment,
    Prescription,
    PrescriptionStatus,
    Vitals,
)
from hms.clinical.vitals import VITAL_FIELDS
from hms.core.access import require
from hms.core.audit import audit_record
from hms.core.bulk import bulk_insert
from hms.core.errors import Conflict, DomainError
from hms.core.events import emit, subscribe
from hms.core.notifications import notify
from hms.core.permissions import CLINICAL_ROLES, Perm
from hms.patients.locks import lock_patient
from hms.patients.models import Patient

ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
_MAGIC = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
_EXTENSIONS = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg"}
_EXTENSIONS[".jpeg"] = "image/jpeg"


def _check_encounter(encounter: Encounter | None, patient: Patient) -> None:
    if encounter is None:
        return
    if encounter.patient_id != patient.pk:
        raise DomainError("The encounter belongs to another patient.", code="wrong_patient")
    if not encounter.accepts_entries:
        raise Conflict("The encounter is closed.", code="encounter_closed")


def _lock_current_patient(patient: Patient) -> None:
    """Lock the patient row (the lock order: hms/patients/locks.py) and refuse a record merged
    into another: a caller holding a stale copy would otherwise write onto the hidden
    duplicate, where nobody would see it again."""
    locked = lock_patient(patient.pk)
    if locked is None or locked.merged_into_id is not None:
        raise Conflict(
            "This record was merged into another one; record it there.", code="patient_merged"
        )


# --- Encounters -------------------------------------------------------------------------------


def encounter_open(
    *,
    actor: User,
    patient: Patient,
    kind: str = EncounterKind.OUTPATIENT,
    practitioner=None,
    department=None,
    reason: str = "",
    appointment_id: str | None = None,
    started_at: datetime | None = None,
) -> Encounter:
    """Open an encounter with a treating doctor or nurse. One encounter per appointment: opening
    again for the same appointment returns the encounter already open."""
    require(actor, Perm.CLINICAL_WRITE)
    if practitioner is not None and practitioner.role not in CLINICAL_ROLES:
        raise DomainError(
            "The treating practitioner must be a doctor or a nurse.",
            code="not_a_clinician",
            fields={"practitioner": "Choose a doctor or a nurse."},
        )
    if kind not in EncounterKind.values:
        raise DomainError("Unknown kind of encounter.", fields={"kind": "Unknown kind."})
    appointment_id = str(appointment_id) if appointment_id not in (None, "") else None
    if appointment_id is not None:
        existing = Encounter.objects.filter(appointment_id=appointment_id).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            _lock_current_patient(patient)
            encounter = Encounter.objects.create(
                patient=patient,
                kind=kind,
                practitioner=practitioner,
                department=department,
                reason=reason,
                appointment_id=appointment_id,
                started_at=started_at or timezone.now(),
            )
            audit_record(
                action="encounter.open",
                actor=actor,
                obj=encounter,
                patient=patient,
                details={"appointment_id": appointment_id, "kind": kind},
            )
    except IntegrityError:
        # The race: two check-ins of one appointment at once; the unique constraint keeps one.
        if appointment_id is None:
            raise
        return Encounter.objects.get(appointment_id=appointment_id)
    return encounter


def _encounter_move(*, actor, encounter: Encounter, to: EncounterStatus) -> Encounter:
    now = timezone.now()
    changes = {"status": to, "updated_at": now}
    if to == EncounterStatus.CLOSED:
        changes["ended_at"] = max(now, encounter.started_at)
    with transaction.atomic():
        # Conditional update: only the expected previous status moves, so two clicks cannot
        # close twice or reopen a closed encounter.
        moved = Encounter.objects.filter(pk=encounter.pk, status=Encounter.MOVES_FROM[to]).update(
            **changes
        )
        if not moved:
            current = Encounter.objects.get(pk=encounter.pk).get_status_display()
            raise Conflict(
                f"The encounter is {current.lower()}; it cannot move to {to.label.lower()}.",
                code="invalid_transition",
            )
        encounter.refresh_from_db()
        audit_record(
            action=f"encounter.{'start' if to == EncounterStatus.IN_PROGRESS else 'close'}",
            actor=actor,
            obj=encounter,
            patient=encounter.patient_id,
        )
        event = "encounter.started" if to == EncounterStatus.IN_PROGRESS else "encounter.completed"
        emit(event, encounter=encounter, appointment_id=encounter.appointment_id, actor=actor)
        if to == EncounterStatus.CLOSED:
            emit(
                "encounter.closed",
                encounter_id=str(encounter.pk),
                patient_id=str(encounter.patient_id),
                appointment_id=str(encounter.appointment_id or ""),
                practitioner_id=str(encounter.practitioner_id or ""),
                actor_id=str(getattr(actor, "pk", "") or ""),
            )
    return encounter


def encounter_start(*, actor: User, encounter: Encounter) -> Encounter:
    """Opened -> in progress; emits `encounter.started`."""
    require(actor, Perm.CLINICAL_WRITE)
    return _encounter_move(actor=actor, encounter=encounter, to=EncounterStatus.IN_PROGRESS)


def encounter_close(*, actor: User, encounter: Encounter) -> Encounter:
    """In progress -> closed; emits `encounter.completed`."""
    require(actor, Perm.ENCOUNTER_CLOSE, "Only a doctor closes an encounter.")
    return _encounter_move(actor=actor, encounter=encounter, to=EncounterStatus.CLOSED)


# --- Vitals ------------------------------------------------------------------------------------


def vitals_record(
    *,
    actor: User,
    patient: Patient,
    encounter: Encounter | None = None,
    recorded_at: datetime | None = None,
    **values,
) -> Vitals:
    """Record a set of vital signs; BMI and the adult-range flags are computed here."""
    require(actor, Perm.CLINICAL_WRITE)
    unknown = set(values) - set(VITAL_FIELDS)
    if unknown:
        raise DomainError(f"Unknown vital signs: {', '.join(sorted(unknown))}.")
    values = {k: v for k, v in values.items() if v is not None}
    if not values:
        raise DomainError("Enter at least one measurement.", code="empty")
    _check_encounter(encounter, patient)
    vitals = Vitals(
        patient=patient,
        encounter=encounter,
        recorded_at=recorded_at or timezone.now(),
        recorded_by=actor,
        **values,
    )
    vitals.bmi = rules.bmi_of(values.get("weight_kg"), values.get("height_cm"))
    vitals.flags = rules.vital_flags({**values, "bmi": vitals.bmi})
    try:
        vitals.full_clean(exclude=["patient", "encounter", "recorded_by"])
    except ValidationError as exc:
        raise DomainError(
            "Some measurements are not possible.",
            code="impossible_vitals",
            fields={k: v for k, v in exc.message_dict.items() if k != "__all__"},
        ) from None
    with transaction.atomic():
        vitals.save()
        audit_record(action="vitals.record", actor=actor, obj=vitals, patient=patient)
    return vitals


# --- Diagnoses ---------------------------------------------------------------------------------


def diagnosis_add(
    *,
    actor: User,
    patient: Patient,
    encounter: Encounter | None = None,
    code: str = "",
    description: str = "",
    status: str = DiagnosisStatus.ACTIVE,
    onset_date=None,
    code_system: str = ICD10_SYSTEM,
    code_display: str = "",
    source_id: str | None = None,
    recorded_at: datetime | None = None,
) -> Diagnosis:
    """Record a diagnosis. An ICD-10 code must exist in the ICD-10-CM code set; free text may
    stand beside the code or alone."""
    require(actor, Perm.DIAGNOSE, "Only a doctor records a diagnosis.")
    code = (code or "").strip()
    description = (description or "").strip()
    if not code and not description:
        raise DomainError(
            "Enter an ICD-10 code or a description.",
            fields={"code": "Enter a code or a description."},
        )
    if code and code_system == ICD10_SYSTEM:
        entry = icd10_lookup(code)
        if entry is None:
            raise DomainError(
                f"{code} is not an ICD-10-CM code.",
                code="unknown_code",
                fields={"code": "Not an ICD-10-CM code."},
            )
        code, code_display = entry.code, entry.description
    if status not in DiagnosisStatus.values:
        raise DomainError("Unknown status.", fields={"status": "Unknown status."})
    if source_id is None:
        _check_encounter(encounter, patient)
    with transaction.atomic():
        diagnosis = Diagnosis.objects.create(
            patient=patient,
            encounter=encounter,
            code_system=code_system if code else "",
            code=code,
            code_display=code_display,
            description=description,
            status=status,
            onset_date=onset_date,
            recorded_by=actor,
            recorded_at=recorded_at or timezone.now(),
            source_id=source_id,
        )
        audit_record(
            action="diagnosis.add",
            actor=actor,
            obj=diagnosis,
            patient=patient,
            details={"code": code},
        )
    return diagnosis


# --- Allergies ---------------------------------------------------------------------------------


def allergy_record(
    *,
    actor: User,
    patient: Patient,
    substance: str,
    reaction: str = "",
    severity: str = AllergySeverity.MODERATE,
    status: str = AllergyStatus.ACTIVE,
    is_intolerance: bool = False,
    source_id: str | None = None,
    recorded_at: datetime | None = None,
) -> Allergy:
    """Record an allergy or intolerance; active ones are checked against every prescription."""
    require(actor, Perm.CLINICAL_WRITE)
    substance = substance.strip()
    if not substance:
        raise DomainError("Name the substance.", fields={"substance": "This field is required."})
    if severity not in AllergySeverity.values:
        raise DomainError("Unknown severity.", fields={"severity": "Unknown severity."})
    if status not in AllergyStatus.values:
        raise DomainError("Unknown status.", fields={"status": "Unknown status."})
    with transaction.atomic():
        _lock_current_patient(patient)
        if (
            source_id is None
            and status == AllergyStatus.ACTIVE
            and Allergy.objects.filter(
                patient=patient, substance__iexact=substance, status=AllergyStatus.ACTIVE
            ).exists()
        ):
            raise Conflict(
                f"An active allergy to {substance} is already recorded.",
                code="allergy_recorded",
                fields={"substance": "Already recorded."},
            )
        allergy = Allergy.objects.create(
            patient=patient,
            substance=substance,
            reaction=reaction,
            severity=severity,
            status=status,
            is_intolerance=is_intolerance,
            recorded_by=actor,
            recorded_at=recorded_at or timezone.now(),
            source_id=source_id,
        )
        audit_record(action="allergy.record", actor=actor, obj=allergy, patient=patient)
    return allergy


def allergy_status_set(*, actor: User, allergy: Allergy, status: str) -> Allergy:
    """Mark an allergy active, inactive or resolved (it is never deleted: history stays)."""
    require(actor, Perm.CLINICAL_WRITE)
    if status not in AllergyStatus.values:
        raise DomainError("Unknown status.", fields={"status": "Unknown status."})
    with transaction.atomic():
        previous = allergy.status
        Allergy.objects.filter(pk=allergy.pk).update(status=status, updated_at=timezone.now())
        allergy.refresh_from_db()
        audit_record(
            action="allergy.status",
            actor=actor,
            obj=allergy,
            patient=allergy.patient_id,
            details={"from": previous, "to": status},
        )
    return allergy


# --- Prescriptions -----------------------------------------------------------------------------


class AllergyWarning(DomainError):
    """The drug matches a recorded allergy: the prescriber must acknowledge it to go on."""

    code = "allergy_warning"
    status = 409

    def __init__(self, matches: list[str]):
        self.matches = matches
        message = allergy_warning_text(matches)
        super().__init__(
            message,
            fields={"acknowledge_allergy_warning": message + " Acknowledge it to prescribe."},
        )


def allergy_warning_text(matches: list[str]) -> str:
    return f"The patient has a recorded allergy to {', '.join(matches)}."


def prescription_allergy_matches(*, patient: Patient, drug: str) -> list[str]:
    """The patient's active allergy substances that the drug matches."""
    substances = list(
        Allergy.objects.filter(patient=patient, status=AllergyStatus.ACTIVE).values_list(
            "substance", flat=True
        )
    )
    return rules.allergy_matches(drug, substances)


def prescription_create(
    *,
    actor: User,
    patient: Patient,
    drug: str,
    encounter: Encounter | None = None,
    strength: str = "",
    dose: str = "",
    route: str = "",
    frequency: str = "",
    duration: str = "",
    quantity: int | None = None,
    instructions: str = "",
    acknowledge_allergy_warning: bool = False,
    drug_code: str = "",
    status: str = "active",
    prescribed_at: datetime | None = None,
    source_id: str | None = None,
    item_code: str = "",
) -> Prescription:
    """Prescribe a drug. When it matches a recorded allergy the prescriber must acknowledge the
    warning; the warning and who acknowledged it are kept on the prescription. A drug picked
    from the pharmacy's catalogue (`item_code`, or a suggestion's label in `drug`) is stored
    under its catalogue name and code; anything else stays free text, marked not stocked."""
    require(actor, Perm.PRESCRIBE, "Only a doctor prescribes.")
    drug = drug.strip()
    if not drug:
        raise DomainError("Name the drug.", fields={"drug": "This field is required."})
    medicine = medicine_get(item_code.strip()) if item_code.strip() else medicine_resolve(drug)
    if item_code.strip() and medicine is None:
        raise DomainError(
            "The pharmacy's catalogue has no such medicine.",
            code="unknown_item",
            fields={"item_code": "Not in the catalogue."},
        )
    if medicine is not None:
        drug, strength, item_code = medicine.name, strength or medicine.strength, medicine.code
    if quantity is not None and quantity <= 0:
        raise DomainError("Quantity must be positive.", fields={"quantity": "Must be positive."})
    if source_id is None:
        _check_encounter(encounter, patient)
    with transaction.atomic():
        # Lock the patient row: an allergy recorded at the same moment is either seen here or
        # recorded after this prescription (allergy_record does not need the lock to be safe).
        lock_patient(patient.pk)
        matches = prescription_allergy_matches(patient=patient, drug=drug)
        if matches and not acknowledge_allergy_warning:
            raise AllergyWarning(matches)
        prescription = Prescription.objects.create(
            patient=patient,
            encounter=encounter,
            drug=drug,
            drug_code=drug_code,
            item_code=item_code if medicine is not None else "",
            strength=strength,
            dose=dose,
            route=route,
            frequency=frequency,
            duration=duration,
            quantity=quantity,
            instructions=instructions,
            status=status,
            prescriber=actor,
            prescribed_at=prescribed_at or timezone.now(),
            allergy_warning=allergy_warning_text(matches) if matches else "",
            allergy_acknowledged_by=actor if matches else None,
            source_id=source_id,
        )
        audit_record(
            action="prescription.create",
            actor=actor,
            obj=prescription,
            patient=patient,
            details={"drug": drug, "allergy_warning_acknowledged": matches},
        )
        emit(
            "prescription.created",
            prescription_id=str(prescription.pk),
            patient_id=str(patient.pk),
            encounter_id=str(getattr(encounter, "pk", "") or ""),
            drug=drug,
            prescriber_id=str(getattr(actor, "pk", "") or ""),
        )
    return prescription


def prescription_stop(*, actor: User, prescription: Prescription, reason: str = "") -> Prescription:
    """Stop an active prescription (the pharmacy no longer dispenses it)."""
    require(actor, Perm.PRESCRIBE, "Only a doctor stops a prescription.")
    with transaction.atomic():
        stopped = Prescription.objects.filter(
            pk=prescription.pk, status=PrescriptionStatus.ACTIVE
        ).update(status=PrescriptionStatus.STOPPED, updated_at=timezone.now())
        if not stopped:
            raise Conflict("The prescription is not active.", code="not_active")
        prescription.refresh_from_db()
        audit_record(
            action="prescription.stop",
            actor=actor,
            obj=prescription,
            patient=prescription.patient_id,
            details={"reason": reason},
        )
    return prescription


# --- Notes -------------------------------------------------------------------------------------

NOTE_FIELDS = ("subjective", "objective", "assessment", "plan")


def note_create(
    *,
    actor: User,
    patient: Patient,
    encounter: Encounter | None = None,
    subjective: str = "",
    objective: str = "",
    assessment: str = "",
    plan: str = "",
    sign: bool = False,
) -> ClinicalNote:
    """Write a SOAP note (a draft unless `sign`)."""
    require(actor, Perm.CLINICAL_WRITE)
    if not any((subjective, objective, assessment, plan)):
        raise DomainError("The note is empty.", code="empty")
    _check_encounter(encounter, patient)
    now = timezone.now()
    with transaction.atomic():
        note = ClinicalNote.objects.create(
            patient=patient,
            encounter=encounter,
            author=actor,
            subjective=subjective,
            objective=objective,
            assessment=assessment,
            plan=plan,
            signed_at=now if sign else None,
            signed_by=actor if sign else None,
        )
        audit_record(
            action="note.create", actor=actor, obj=note, patient=patient, details={"signed": sign}
        )
    return note


def note_update(*, actor: User, note: ClinicalNote, **fields) -> ClinicalNote:
    """Change a draft note. A signed note is read-only: the update is conditional on the note
    still being unsigned in the database, so a stale copy cannot overwrite a signed note."""
    require(actor, Perm.CLINICAL_WRITE)
    unknown = set(fields) - set(NOTE_FIELDS)
    if unknown:
        raise DomainError(f"Unknown note fields: {', '.join(sorted(unknown))}.")
    if not note.written_by(actor):
        raise DomainError("Only the author edits a draft note.", code="not_author")
    with transaction.atomic():
        changed = ClinicalNote.objects.filter(pk=note.pk, signed_at__isnull=True).update(
            **fields, updated_at=timezone.now()
        )
        if not changed:
            raise Conflict("The note is signed; add an amendment instead.", code="note_signed")
        note.refresh_from_db()
        audit_record(
            action="note.update",
            actor=actor,
            obj=note,
            patient=note.patient_id,
            details={"fields": sorted(fields)},
        )
    return note


def note_sign(*, actor: User, note: ClinicalNote) -> ClinicalNote:
    """The author signs their own draft note; from then on it is read-only."""
    require(actor, Perm.CLINICAL_WRITE)
    if not note.written_by(actor):
        raise DomainError("Only the author signs a draft note.", code="not_author")
    with transaction.atomic():
        signed = ClinicalNote.objects.filter(pk=note.pk, signed_at__isnull=True).update(
            signed_at=timezone.now(), signed_by=actor, updated_at=timezone.now()
        )
        if not signed:
            raise Conflict("The note is already signed.", code="note_signed")
        note.refresh_from_db()
        audit_record(action="note.sign", actor=actor, obj=note, patient=note.patient_id)
    return note


def note_amend(*, actor: User, note: ClinicalNote, text: str, reason: str = "") -> NoteAmendment:
    """Add an amendment to a signed note; the note's original text stays as it was."""
    require(actor, Perm.CLINICAL_WRITE)
    text = text.strip()
    if not text:
        raise DomainError("Write the amendment.", fields={"text": "This field is required."})
    with transaction.atomic():
        locked = ClinicalNote.objects.select_for_update().get(pk=note.pk)
        if not locked.is_signed:
            raise Conflict("A draft note is edited, not amended.", code="note_not_signed")
        amendment = NoteAmendment.objects.create(
            note=locked, author=actor, text=text, reason=reason
        )
        audit_record(
            action="note.amend",
            actor=actor,
            obj=locked,
            patient=locked.patient_id,
            details={"amendment": str(amendment.pk)},
        )
    return amendment


# --- Laboratory --------------------------------------------------------------------------------


def lab_order_create(
    *,
    actor: User,
    patient: Patient,
    test_code: str,
    test_name: str = "",
    encounter: Encounter | None = None,
    priority: str = "routine",
    clinical_info: str = "",
) -> LabOrder:
    """Order a test; the name defaults from the hospital's test catalogue."""
    require(actor, Perm.CLINICAL_WRITE)
    test_code = test_code.strip()
    if not test_name:
        known = rules.LAB_TESTS.get(test_code)
        if known is None:
            raise DomainError("Name the test.", fields={"test_name": "Name the test."})
        test_name = known[0]
    if not test_code:
        raise DomainError("Give the test code.", fields={"test_code": "This field is required."})
    _check_encounter(encounter, patient)
    with transaction.atomic():
        order = LabOrder.objects.create(
            patient=patient,
            encounter=encounter,
            test_code=test_code,
            test_name=test_name,
            priority=priority,
            clinical_info=clinical_info,
            ordered_by=actor,
        )
        audit_record(action="lab_order.create", actor=actor, obj=order, patient=patient)
    return order


def lab_order_collect(*, actor: User, order: LabOrder) -> LabOrder:
    """Ordered -> collected (the specimen was taken)."""
    require(actor, Perm.LAB_RESULT_WRITE)
    with transaction.atomic():
        now = timezone.now()
        moved = LabOrder.objects.filter(pk=order.pk, status=LabOrderStatus.ORDERED).update(
            status=LabOrderStatus.COLLECTED, collected_at=now, updated_at=now
        )
        if not moved:
            raise Conflict("The specimen was already collected.", code="invalid_transition")
        order.refresh_from_db()
        audit_record(action="lab_order.collect", actor=actor, obj=order, patient=order.patient_id)
    return order


def _decimal(value) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _check_value(test: rules.LabTest | None, value: Decimal | None, unit: str) -> None:
    """A numeric result of a catalogue test outside its plausible limits (or in another unit) is
    refused: -5 g/L haemoglobin is a typing error, not a result."""
    problem = rules.lab_value_problem(test, value, unit) if test and value is not None else ""
    if problem:
        raise DomainError(problem, code="implausible_value", fields={"value": problem})


def _notify_if_critical(result: LabResult, order: LabOrder) -> None:
    """A critical value reaches the doctor who ordered the test at once, in the app, and is
    announced as `lab_result.critical` (workflow rules escalate it)."""
    if result.flag == LabFlag.CRITICAL:
        emit(
            "lab_result.critical",
            lab_order_id=str(order.pk),
            lab_result_id=str(result.pk),
            test_code=order.test_code,
            patient_id=str(order.patient_id),
            analyte=result.analyte,
            flag=result.flag,
            ordered_by_id=str(order.ordered_by_id or ""),
        )
    if result.flag != LabFlag.CRITICAL or order.ordered_by_id is None:
        return
    patient = order.patient
    notify(
        user=order.ordered_by,
        title=f"Critical result: {result.analyte} {result.display_value}",
        body=f"{patient.full_name} (MRN {patient.mrn}), {order.test_name} ordered "
        f"{timezone.localtime(order.ordered_at):%d %b %H:%M}. Review and act now.",
        url=reverse("clinical:lab-order", args=[order.pk]),
    )


def lab_result_record(
    *,
    actor: User,
    order: LabOrder,
    value=None,
    value_text: str = "",
    unit: str | None = None,
    analyte: str = "",
    reference_low=None,
    reference_high=None,
    critical_low=None,
    critical_high=None,
) -> LabResult:
    """Enter a result of a collected order; the order becomes resulted. Unit and ranges default
    from the test catalogue, a catalogue test's value must be plausible, and the flag
    (low/high/critical) is computed; a critical value notifies the ordering doctor. An analyte
    holds one current value: a second one is a correction (`lab_result_correct`)."""
    require(actor, Perm.LAB_RESULT_WRITE, "Only the laboratory enters results.")
    known = rules.LAB_TESTS.get(order.test_code)
    if known is not None:
        analyte = analyte or known.name
        unit = known.unit if unit in (None, "") else unit
        reference_low = known.low if reference_low in (None, "") else reference_low
        reference_high = known.high if reference_high in (None, "") else reference_high
        critical_low = known.critical_low if critical_low in (None, "") else critical_low
        critical_high = known.critical_high if critical_high in (None, "") else critical_high
    value = _decimal(value)
    if value is None and not value_text.strip():
        raise DomainError("Enter the result.", fields={"value": "Enter a value."})
    _check_value(known, value, unit or "")
    low, high = _decimal(reference_low), _decimal(reference_high)
    if low is not None and high is not None and low > high:
        raise DomainError(
            "The reference range is upside down.",
            fields={"reference_low": "Must not exceed the upper limit."},
        )
    try:
        with transaction.atomic():
            locked = LabOrder.objects.select_for_update().select_related("patient").get(pk=order.pk)
            if not locked.accepts_results:
                raise Conflict(
                    "Collect the specimen before entering results.", code="not_collected"
                )
            analyte = analyte or locked.test_name
            if locked.results.filter(analyte=analyte, is_current=True).exists():
                raise _already_resulted()
            now = timezone.now()
            result = LabResult.objects.create(
                order=locked,
                patient_id=locked.patient_id,
                analyte=analyte,
                value=value,
                value_text=value_text.strip(),
                unit=unit or "",
                reference_low=low,
                reference_high=high,
                critical_low=_decimal(critical_low),
                critical_high=_decimal(critical_high),
                flag=rules.lab_flag(
                    value, low=low, high=high, critical_low=critical_low,
                    critical_high=critical_high,
                ),
                resulted_by=actor,
                resulted_at=now,
            )  # fmt: skip
            LabOrder.objects.filter(pk=locked.pk).update(
                status=LabOrderStatus.RESULTED, resulted_at=now, updated_at=now
            )
            order.refresh_from_db()
            audit_record(
                action="lab_result.record",
                actor=actor,
                obj=result,
                patient=locked.patient_id,
                details={"flag": result.flag},
            )
            _notify_if_critical(result, locked)
            emit(  # billing posts the test's charge (once per order)
                "lab_result.recorded",
                lab_order_id=str(locked.pk),
                lab_result_id=str(result.pk),
                test_code=locked.test_code,
                patient_id=str(locked.patient_id),
            )
    except IntegrityError:
        raise _already_resulted() from None  # the race: two entries at once, one is kept
    return result


def _already_resulted() -> Conflict:
    return Conflict(
        "This test already has a result; correct it (with a reason) instead.",
        code="already_resulted",
    )


def lab_result_correct(
    *, actor: User, result: LabResult, reason: str, value=None, value_text: str = ""
) -> LabResult:
    """Amend a result: a new current value with the reason replaces it, and the old one stays
    visible as corrected (never deleted). Only the current value is corrected; the new one is
    checked and flagged like any result, and a critical one notifies the ordering doctor."""
    require(actor, Perm.LAB_RESULT_WRITE, "Only the laboratory corrects results.")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the result is corrected.", fields={"reason": "Required."})
    value = _decimal(value)
    if value is None and not value_text.strip():
        raise DomainError("Enter the corrected result.", fields={"value": "Enter a value."})
    with transaction.atomic():
        old = (
            LabResult.objects.select_for_update(of=("self",))
            .select_related("order", "order__patient", "order__ordered_by")
            .get(pk=result.pk)
        )
        if not old.is_current:
            raise Conflict(
                "This value was already corrected; correct the current one.", code="not_current"
            )
        _check_value(rules.LAB_TESTS.get(old.order.test_code), value, old.unit)
        LabResult.objects.filter(pk=old.pk).update(is_current=False, updated_at=timezone.now())
        corrected = LabResult.objects.create(
            order=old.order,
            patient_id=old.patient_id,
            analyte=old.analyte,
            value=value,
            value_text=value_text.strip(),
            unit=old.unit,
            reference_low=old.reference_low,
            reference_high=old.reference_high,
            critical_low=old.critical_low,
            critical_high=old.critical_high,
            flag=rules.lab_flag(
                value, low=old.reference_low, high=old.reference_high,
                critical_low=old.critical_low, critical_high=old.critical_high,
            ),
            resulted_by=actor,
            resulted_at=timezone.now(),
            corrects=old,
            correction_reason=reason[:300],
        )  # fmt: skip
        audit_record(
            action="lab_result.correct",
            actor=actor,
            obj=corrected,
            patient=old.patient_id,
            details={
                "corrects": str(old.pk),
                "from": old.display_value,
                "to": corrected.display_value,
                "reason": reason,
                "flag": corrected.flag,
            },
        )
        _notify_if_critical(corrected, old.order)
    return corrected


def lab_result_release(*, actor: User, result: LabResult) -> LabResult:
    """A doctor lets the patient see the current value of a result in the portal (a corrected,
    no longer current value is never released)."""
    require(actor, Perm.LAB_RESULT_RELEASE, "Only a doctor releases results.")
    with transaction.atomic():
        now = timezone.now()
        LabResult.objects.filter(pk=result.pk, is_current=True, released_to_patient=False).update(
            released_to_patient=True, released_at=now, updated_at=now
        )
        result.refresh_from_db()
        if not result.is_current:
            raise Conflict("This value was corrected; release the current one.", code="not_current")
        audit_record(
            action="lab_result.release", actor=actor, obj=result, patient=result.patient_id
        )
    return result


# --- Attachments -------------------------------------------------------------------------------


def attachment_check(upload: UploadedFile) -> str:
    """The upload's content type if it is an allowed PDF/PNG/JPEG within the size limit, judged
    by its first bytes as well as its name (a renamed .exe is refused)."""
    if upload.size is None or upload.size == 0:
        raise DomainError("The file is empty.", fields={"file": "The file is empty."})
    if upload.size > ATTACHMENT_MAX_BYTES:
        raise DomainError(
            "The file is larger than 10 MB.", fields={"file": "Files may be at most 10 MB."}
        )
    content_type = _EXTENSIONS.get(PurePath(upload.name or "").suffix.lower())
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if content_type is None or not head.startswith(_MAGIC[content_type]):
        raise DomainError(
            "Only PDF, PNG and JPEG files can be attached.",
            code="file_type",
            fields={"file": "Only PDF, PNG and JPEG files can be attached."},
        )
    return content_type


def attachment_add(
    *,
    actor: User,
    patient: Patient,
    upload: UploadedFile,
    encounter: Encounter | None = None,
    description: str = "",
) -> Attachment:
    """Store a document under MEDIA_ROOT with a random name; it is served only through the
    access-checked download view."""
    require(actor, Perm.CLINICAL_WRITE)
    content_type = attachment_check(upload)
    _check_encounter(encounter, patient)
    original = PurePath(upload.name or "file").name[:200]
    upload.name = f"{uuid.uuid4().hex}.{ATTACHMENT_TYPES[content_type]}"
    with transaction.atomic():
        attachment = Attachment(
            patient=patient,
            encounter=encounter,
            original_name=original,
            content_type=content_type,
            size=upload.size,
            description=description,
            uploaded_by=actor,
        )
        attachment.file.save(upload.name, upload, save=False)
        try:
            attachment.save()
        except Exception:
            attachment.file.delete(save=False)
            raise
        audit_record(
            action="attachment.add",
            actor=actor,
            obj=attachment,
            patient=patient,
            details={"name": original, "size": attachment.size},
        )
    return attachment


# --- Events from other apps --------------------------------------------------------------------


@subscribe("appointment.checked_in")
def _open_encounter_on_check_in(
    *, appointment_id, patient, practitioner=None, department=None, actor=None, **_
) -> None:
    """A checked-in appointment opens its encounter (once, whatever the number of check-ins)."""
    if practitioner is not None and practitioner.role not in CLINICAL_ROLES:
        practitioner = None
    emergency = department is not None and getattr(department, "slug", "") == "emergency"
    encounter_open(
        actor=actor,
        patient=patient,
        kind=EncounterKind.EMERGENCY if emergency else EncounterKind.OUTPATIENT,
        practitioner=practitioner,
        department=department,
        appointment_id=appointment_id,
        reason="Appointment",
    )


# Every clinical table with a patient column, by label (as a merge records them).
MOVABLE = {
    model._meta.label_lower: model
    for model in (
        Encounter,
        Vitals,
        Diagnosis,
        Allergy,
        Prescription,
        ClinicalNote,
        LabOrder,
        LabResult,
        Attachment,
    )
}


@subscribe("patient.merged")
def _move_rows_on_merge(*, survivor, duplicate, merge, actor=None, **_) -> None:
    """The duplicate's clinical rows move to the survivor; the merge records which."""
    rows = 0
    for label, model in MOVABLE.items():
        ids = list(model.objects.filter(patient=duplicate).values_list("pk", flat=True))
        if not ids:
            continue
        model.objects.filter(pk__in=ids).update(patient=survivor)
        merge.record_moved(label, ids)
        rows += len(ids)
    audit_record(
        action="clinical.merge_move",
        actor=actor,
        object_type="patients.patient",
        object_id=str(survivor.pk),
        patient=survivor,
        details={"merge_id": str(merge.pk), "duplicate": str(duplicate.pk), "rows": rows},
    )


@subscribe("patient.unmerged")
def _move_rows_back_on_unmerge(*, survivor, duplicate, merge, actor=None, **_) -> None:
    """Exactly the rows that the merge moved go back to the restored record."""
    rows = 0
    for label, model in MOVABLE.items():
        ids = merge.moved_ids(label)
        if ids:
            rows += model.objects.filter(pk__in=ids, patient=survivor).update(patient=duplicate)
    audit_record(
        action="clinical.unmerge_move",
        actor=actor,
        object_type="patients.patient",
        object_id=str(duplicate.pk),
        patient=duplicate,
        details={"merge_id": str(merge.pk), "survivor": str(survivor.pk), "rows": rows},
    )


# --- Imports from other systems ----------------------------------------------------------------


def clinical_records_import(*, actor: User | None, patient: Patient, records: list) -> int:
    """Store rows of one table imported from another system (FHIR) for one patient, in one
    transaction. Rows whose `source_id` was imported before are left alone (the unique
    constraint backs this up), so an import can run again safely. One audit row per batch.
    No actor: the import command, under `as_system()`."""
    require(actor, Perm.CLINICAL_WRITE)
    if not records:
        return 0
    model = type(records[0])
    with transaction.atomic():
        known = set(
            model.objects.filter(source_id__in=[r.source_id for r in records]).values_list(
                "source_id", flat=True
            )
        )
        fresh = [r for r in records if r.source_id not in known and r.patient_id == patient.pk]
        if not fresh:
            return 0
        bulk_insert(fresh)
        audit_record(
            action="clinical.import",
            actor=actor,
            object_type=model._meta.label_lower,
            patient=patient,
            details={"count": len(fresh), "source": "fhir"},
        )
    return len(fresh)
