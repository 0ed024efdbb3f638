from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from hms.clinical import services
from hms.clinical.models import (
    ClinicalNote,
    Encounter,
    EncounterStatus,
    LabOrderStatus,
    NoteAmendment,
    Prescription,
    Vitals,
)
from hms.clinical.tests.factories import (
    AllergyFactory,
    EncounterFactory,
    LabOrderFactory,
    NoteFactory,
)
from hms.core import events
from hms.core.errors import Conflict, DomainError
from hms.core.events import emit, subscribe
from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.patients.models import PatientMerge
from hms.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"x" * 64


@pytest.fixture(autouse=True)
def only_clinical_listeners():
    """Test listeners are removed afterwards; scheduling's listeners are left out, since these
    tests announce appointments that scheduling never booked."""
    saved = {name: list(handlers) for name, handlers in events._handlers.items()}
    for name in ("encounter.started", "encounter.completed"):
        events._handlers[name] = []
    yield
    events._handlers.clear()
    events._handlers.update(saved)


def audited(patient, action) -> bool:
    return AuditEvent.objects.filter(patient_ref=str(patient.pk), action=action).exists()


@pytest.fixture
def doctor(make_user):
    return make_user(Role.DOCTOR)


@pytest.fixture
def encounter(doctor):
    return EncounterFactory(practitioner=doctor)


# --- Encounters ---------------------------------------------------------------------------------


def test_an_encounter_moves_opened_then_in_progress_then_closed_and_says_so(encounter, doctor):
    seen = []
    subscribe("encounter.started")(lambda **p: seen.append(("started", p["appointment_id"])))
    subscribe("encounter.completed")(lambda **p: seen.append(("completed", p["encounter"].pk)))
    with pytest.raises(Conflict):
        services.encounter_close(actor=doctor, encounter=encounter)  # not started yet
    services.encounter_start(actor=doctor, encounter=encounter)
    services.encounter_close(actor=doctor, encounter=encounter)
    encounter.refresh_from_db()
    assert encounter.status == EncounterStatus.CLOSED and encounter.ended_at is not None
    assert ("started", None) in seen and ("completed", encounter.pk) in seen
    with pytest.raises(Conflict):
        services.encounter_start(actor=doctor, encounter=encounter)
    assert audited(encounter.patient, "encounter.close")


def test_the_treating_practitioner_must_be_a_doctor_or_nurse(make_user):
    with pytest.raises(DomainError) as refused:
        services.encounter_open(
            actor=make_user(Role.DOCTOR),
            patient=PatientFactory(),
            practitioner=make_user(Role.RECEPTIONIST),
        )
    assert refused.value.code == "not_a_clinician"


def test_a_checked_in_appointment_opens_one_encounter_however_often_it_is_announced(make_user):
    patient, doctor = PatientFactory(), make_user(Role.DOCTOR)
    for _ in range(2):
        emit(
            "appointment.checked_in",
            appointment_id="appt-42",
            patient=patient,
            practitioner=doctor,
            department=None,
            actor=make_user(Role.RECEPTIONIST),
        )
    encounter = Encounter.objects.get(appointment_id="appt-42")
    assert encounter.patient == patient and encounter.practitioner == doctor
    assert Encounter.objects.filter(patient=patient).count() == 1
    assert audited(patient, "encounter.open")


def test_the_database_refuses_two_encounters_for_one_appointment():
    EncounterFactory(appointment_id="appt-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        EncounterFactory(appointment_id="appt-1")


def test_started_encounter_event_carries_the_appointment_id(make_user):
    seen = []
    subscribe("encounter.started")(lambda **p: seen.append(p["appointment_id"]))
    doctor = make_user(Role.DOCTOR)
    encounter = services.encounter_open(
        actor=doctor, patient=PatientFactory(), practitioner=doctor, appointment_id="appt-7"
    )
    services.encounter_start(actor=doctor, encounter=encounter)
    assert "appt-7" in seen


# --- Vitals ------------------------------------------------------------------------------------


def test_vitals_get_a_bmi_abnormal_flags_and_units(encounter, doctor):
    vitals = services.vitals_record(
        actor=doctor,
        patient=encounter.patient,
        encounter=encounter,
        temperature_c=Decimal("38.6"),
        pulse_per_min=112,
        spo2_percent=97,
        weight_kg=Decimal("95"),
        height_cm=Decimal("175"),
    )
    assert vitals.bmi == Decimal("31.0")
    assert vitals.flags == {"temperature_c": "high", "pulse_per_min": "high", "bmi": "high"}
    assert vitals.units["temperature_c"] == "Cel"
    assert audited(encounter.patient, "vitals.record")


def test_physiologically_impossible_vitals_are_refused_by_service_and_database(
    encounter, make_user
):
    with pytest.raises(DomainError) as refused:
        services.vitals_record(
            actor=make_user(Role.NURSE),
            patient=encounter.patient,
            encounter=encounter,
            temperature_c=Decimal(55),
        )
    assert refused.value.code == "impossible_vitals"
    for values in ({"temperature_c": 55}, {"pulse_per_min": 400}, {"systolic_mmhg": 80,
                   "diastolic_mmhg": 120}, {"spo2_percent": 101}, {"height_cm": 400}):  # fmt: skip
        with pytest.raises(IntegrityError), transaction.atomic():
            Vitals.objects.create(patient=encounter.patient, **values)


# --- Diagnoses ---------------------------------------------------------------------------------


def test_a_diagnosis_code_must_be_in_icd10_cm_and_is_stored_in_canonical_form(encounter, doctor):
    diagnosis = services.diagnosis_add(
        actor=doctor, patient=encounter.patient, encounter=encounter, code="e119",
        description="Diet-controlled",
    )  # fmt: skip
    assert (diagnosis.code, diagnosis.code_display) == (
        "E11.9",
        "Type 2 diabetes mellitus without complications",
    )
    assert diagnosis.description == "Diet-controlled"
    with pytest.raises(DomainError) as error:
        services.diagnosis_add(actor=doctor, patient=encounter.patient, code="Q99.99X")
    assert error.value.code == "unknown_code"


def test_a_diagnosis_may_be_free_text_alone(encounter, doctor):
    diagnosis = services.diagnosis_add(
        actor=doctor, patient=encounter.patient, description="Query early frailty"
    )
    assert diagnosis.code == "" and diagnosis.label == "Query early frailty"
    with pytest.raises(DomainError):
        services.diagnosis_add(actor=doctor, patient=encounter.patient)


# --- Prescriptions and allergies ------------------------------------------------------------------


def test_prescribing_a_drug_the_patient_is_allergic_to_needs_an_acknowledgement(encounter, doctor):
    AllergyFactory(patient=encounter.patient, substance="Penicillin")
    with pytest.raises(services.AllergyWarning) as warning:
        services.prescription_create(
            actor=doctor, patient=encounter.patient, encounter=encounter, drug="Amoxicillin"
        )
    assert warning.value.matches == ["Penicillin"]
    assert not Prescription.objects.exists()
    prescription = services.prescription_create(
        actor=doctor,
        patient=encounter.patient,
        encounter=encounter,
        drug="Amoxicillin",
        acknowledge_allergy_warning=True,
    )
    assert "Penicillin" in prescription.allergy_warning
    assert prescription.allergy_acknowledged_by == doctor
    event = AuditEvent.objects.get(action="prescription.create")
    assert event.details["allergy_warning_acknowledged"] == ["Penicillin"]
    assert event.patient_ref == str(encounter.patient.pk)


def test_an_inactive_allergy_or_another_patients_allergy_does_not_warn(encounter, doctor):
    AllergyFactory(patient=encounter.patient, substance="Penicillin", status="resolved")
    AllergyFactory(substance="Amoxicillin")
    prescription = services.prescription_create(
        actor=doctor, patient=encounter.patient, encounter=encounter, drug="Amoxicillin"
    )
    assert prescription.allergy_warning == ""


def test_nothing_is_added_to_a_closed_encounter(encounter, doctor):
    services.encounter_start(actor=doctor, encounter=encounter)
    services.encounter_close(actor=doctor, encounter=encounter)
    with pytest.raises(Conflict):
        services.prescription_create(
            actor=doctor, patient=encounter.patient, encounter=encounter, drug="Paracetamol"
        )


# --- Notes -------------------------------------------------------------------------------------


def test_a_draft_note_can_be_edited_then_signed(encounter, doctor):
    note = services.note_create(
        actor=doctor, patient=encounter.patient, encounter=encounter, subjective="Headache."
    )
    services.note_update(actor=doctor, note=note, plan="Paracetamol as needed.")
    services.note_sign(actor=doctor, note=note)
    note.refresh_from_db()
    assert note.plan == "Paracetamol as needed." and note.signed_by == doctor
    assert audited(encounter.patient, "note.sign")


def test_a_signed_note_cannot_be_edited_through_the_service(encounter, doctor):
    note = services.note_create(
        actor=doctor, patient=encounter.patient, subjective="Headache.", sign=True
    )
    with pytest.raises(Conflict):
        services.note_update(actor=doctor, note=note, subjective="Changed")
    assert ClinicalNote.objects.get(pk=note.pk).subjective == "Headache."


def test_a_stale_copy_of_a_note_signed_meanwhile_cannot_overwrite_it(encounter, doctor):
    note = services.note_create(actor=doctor, patient=encounter.patient, subjective="First.")
    stale = ClinicalNote.objects.get(pk=note.pk)
    services.note_sign(actor=doctor, note=note)
    with pytest.raises(Conflict):  # the conditional update finds no unsigned row
        services.note_update(actor=doctor, note=stale, subjective="Overwritten")
    assert ClinicalNote.objects.get(pk=note.pk).subjective == "First."


def test_the_database_refuses_to_change_a_signed_note(encounter, doctor):
    note = NoteFactory(encounter=encounter, signed_at=timezone.now(), signed_by=doctor)
    with pytest.raises(DatabaseError), transaction.atomic():
        ClinicalNote.objects.filter(pk=note.pk).update(subjective="Rewritten history")
    note.subjective = "Rewritten via save()"
    with pytest.raises(DatabaseError), transaction.atomic():
        note.save()
    assert ClinicalNote.objects.get(pk=note.pk).subjective == "Cough for three days."


def test_the_database_still_lets_a_merge_move_a_signed_note(encounter, doctor):
    note = NoteFactory(encounter=encounter, signed_at=timezone.now(), signed_by=doctor)
    other = PatientFactory()
    ClinicalNote.objects.filter(pk=note.pk).update(patient=other)
    assert ClinicalNote.objects.get(pk=note.pk).patient == other


def test_an_amendment_keeps_the_original_note(encounter, doctor):
    note = services.note_create(
        actor=doctor, patient=encounter.patient, assessment="Migraine.", sign=True
    )
    amendment = services.note_amend(
        actor=doctor, note=note, text="Also tension-type features.", reason="Second look"
    )
    note.refresh_from_db()
    assert note.assessment == "Migraine."
    assert list(note.amendments.all()) == [amendment]
    assert NoteAmendment.objects.get().text == "Also tension-type features."
    assert audited(encounter.patient, "note.amend")


def test_a_draft_is_edited_not_amended(encounter, doctor):
    note = services.note_create(actor=doctor, patient=encounter.patient, plan="Rest.")
    with pytest.raises(Conflict):
        services.note_amend(actor=doctor, note=note, text="x")


# --- Laboratory --------------------------------------------------------------------------------


def test_a_result_is_flagged_from_the_catalogue_ranges_and_resolves_the_order(make_user):
    lab = make_user(Role.LAB)
    order = LabOrderFactory(test_code="2823-3", test_name="Potassium")
    with pytest.raises(Conflict):  # no specimen yet
        services.lab_result_record(actor=lab, order=order, value="4.2")
    services.lab_order_collect(actor=lab, order=order)
    result = services.lab_result_record(actor=lab, order=order, value="6.8")
    assert (result.flag, result.unit, result.reference_range) == ("critical", "mmol/L", "3.5–5.1")
    order.refresh_from_db()
    assert order.status == LabOrderStatus.RESULTED
    assert not result.released_to_patient
    services.lab_result_release(actor=make_user(Role.DOCTOR), result=result)
    result.refresh_from_db()
    assert result.released_to_patient and result.released_at
    assert audited(order.patient, "lab_result.record")


def test_a_low_and_a_high_result(make_user):
    lab = make_user(Role.LAB)
    for value, flag in (("3.1", "low"), ("5.4", "high"), ("4.0", "normal")):
        order = LabOrderFactory(test_code="2823-3")
        services.lab_order_collect(actor=lab, order=order)
        assert services.lab_result_record(actor=lab, order=order, value=value).flag == flag


# --- Attachments ------------------------------------------------------------------------------


def test_pdf_png_and_jpeg_are_accepted_and_stored_under_a_random_name(
    encounter, doctor, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    attachment = services.attachment_add(
        actor=doctor,
        patient=encounter.patient,
        encounter=encounter,
        upload=SimpleUploadedFile("scan result.pdf", PDF),
    )
    assert attachment.content_type == "application/pdf"
    assert attachment.original_name == "scan result.pdf"
    assert "scan" not in attachment.file.name
    assert (tmp_path / attachment.file.name).exists()
    assert audited(encounter.patient, "attachment.add")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("virus.exe", b"MZ" + b"\x00" * 50),
        ("fake.pdf", b"MZ" + b"\x00" * 50),  # a renamed file: the first bytes give it away
        ("page.html", b"<html><script>alert(1)</script>"),
        ("empty.png", b""),
    ],
)
def test_other_file_types_are_refused(encounter, doctor, name, content, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(DomainError):
        services.attachment_add(
            actor=doctor, patient=encounter.patient, upload=SimpleUploadedFile(name, content)
        )


def test_files_over_ten_megabytes_are_refused(encounter, doctor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    big = SimpleUploadedFile("big.png", PNG + b"\x00" * (10 * 1024 * 1024))
    with pytest.raises(DomainError) as error:
        services.attachment_add(actor=doctor, patient=encounter.patient, upload=big)
    assert "10 MB" in error.value.message


# --- Merging -----------------------------------------------------------------------------------


def test_a_merge_moves_the_duplicates_rows_and_an_unmerge_moves_exactly_those_back(doctor):
    survivor, duplicate = PatientFactory(), PatientFactory()
    merge = PatientMerge.objects.create(survivor=survivor, duplicate=duplicate)
    kept = EncounterFactory(patient=survivor)
    moved = EncounterFactory(patient=duplicate)
    note = NoteFactory(encounter=moved, patient=duplicate, signed_at=timezone.now(),
                       signed_by=doctor)  # fmt: skip
    emit("patient.merged", survivor=survivor, duplicate=duplicate, actor=doctor, merge=merge)
    assert Encounter.objects.filter(patient=survivor).count() == 2
    assert ClinicalNote.objects.get(pk=note.pk).patient == survivor
    assert merge.moved_counts() == {"clinical.encounter": 1, "clinical.clinicalnote": 1}
    later = EncounterFactory(patient=survivor)  # recorded after the merge: stays
    emit("patient.unmerged", survivor=survivor, duplicate=duplicate, actor=doctor, merge=merge)
    assert set(Encounter.objects.filter(patient=duplicate)) == {moved}
    assert set(Encounter.objects.filter(patient=survivor)) == {kept, later}
    assert ClinicalNote.objects.get(pk=note.pk).patient == duplicate
    assert audited(survivor, "clinical.merge_move") and audited(duplicate, "clinical.unmerge_move")


def test_an_active_allergy_is_recorded_once(doctor):
    patient = PatientFactory()
    services.allergy_record(actor=doctor, patient=patient, substance="Latex")
    with pytest.raises(Conflict):
        services.allergy_record(actor=doctor, patient=patient, substance="latex")


def test_the_registrys_merge_and_unmerge_carry_the_clinical_record_along(make_user):
    from hms.patients.services import patient_merge, patient_unmerge

    admin = make_user(Role.ADMIN)
    survivor, duplicate = PatientFactory(), PatientFactory()
    allergy = AllergyFactory(patient=duplicate)
    order = LabOrderFactory(patient=duplicate, encounter__patient=duplicate)
    merge = patient_merge(actor=admin, survivor=survivor, duplicate=duplicate)
    allergy.refresh_from_db()
    order.refresh_from_db()
    assert allergy.patient == survivor and order.patient == survivor
    patient_unmerge(actor=admin, merge=merge)
    allergy.refresh_from_db()
    order.refresh_from_db()
    assert allergy.patient == duplicate and order.patient == duplicate
    assert order.encounter.patient == duplicate


def test_the_database_refuses_an_allergy_warning_nobody_acknowledged(encounter):
    with pytest.raises(IntegrityError), transaction.atomic():
        Prescription.objects.create(
            patient=encounter.patient, drug="Amoxicillin", allergy_warning="Penicillin allergy"
        )


def test_a_check_in_at_the_emergency_department_opens_an_emergency_encounter(make_user):
    from hms.accounts.tests.factories import DepartmentFactory

    emergency = DepartmentFactory(name="Emergency", slug="emergency")
    emit(
        "appointment.checked_in", appointment_id="walk-in-1", patient=PatientFactory(),
        practitioner=make_user(Role.DOCTOR), department=emergency, actor=None,
    )  # fmt: skip
    assert Encounter.objects.get(appointment_id="walk-in-1").kind == "emergency"
