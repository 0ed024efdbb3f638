import json
import os
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from hms.clinical.models import Allergy, Diagnosis, Encounter, LabResult, Prescription, Vitals
from hms.patients.models import Patient, PatientIdentifier

pytestmark = pytest.mark.django_db

SYNTHEA = settings.BASE_DIR.parent / "shared" / "data" / "synthea-10"


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_fhir", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# CI lays shared/ beside the clone, so there the sample must be found, never skipped.
ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.mark.skipif(not SYNTHEA.is_dir() and not ON_CI, reason="the Synthea sample is not here")
def test_the_synthea_sample_imports_once_and_a_second_run_adds_nothing():
    out, err = run(*sorted(SYNTHEA.glob("*.ndjson")))
    assert "5945/5945" in err  # the progress bar reached the end
    counts = {
        "Patient": Patient.objects.count(),
        "Encounter": Encounter.objects.count(),
        "Condition": Diagnosis.objects.count(),
        "AllergyIntolerance": Allergy.objects.count(),
        "MedicationRequest": Prescription.objects.count(),
    }
    assert counts == {
        "Patient": 13,
        "Encounter": 1215,
        "Condition": 555,
        "AllergyIntolerance": 11,
        "MedicationRequest": 1745,
    }
    for kind, n in counts.items():
        assert f"  {kind}: {n}" in out
    assert "Procedure: 2056 (the record has no procedures table yet)" in out
    assert "Immunization: 161 (the record has no immunisations table yet)" in out
    identifier = PatientIdentifier.objects.get(value="129c6ac7-8d06-89de-ad63-0204a93e76c3")
    assert identifier.system == "external-mrn"
    assert identifier.system_uri == "https://github.com/synthetichealth/synthea"
    assert identifier.patient.given_name == "Sumiko"  # Synthea's digits dropped
    sepsis = Diagnosis.objects.get(source_id="0023b3a7-2ded-840c-ee5b-6b123fdcfb0b")
    assert (sepsis.code_system, sepsis.code, sepsis.code_display) == (
        "http://snomed.info/sct",
        "91302008",
        "Sepsis (disorder)",
    )
    assert sepsis.encounter is not None and sepsis.patient == identifier.patient
    aspirin = Allergy.objects.get(source_id="1b2ce4a9-9773-f40f-6692-cb4d1283a9ca")
    assert aspirin.substance == "Aspirin" and aspirin.severity == "mild"

    out, _ = run(SYNTHEA)  # a folder works too
    assert Patient.objects.count() == 13 and Encounter.objects.count() == 1215
    assert Prescription.objects.count() == 1745
    assert "Encounter: 1215 (already imported)" in out
    assert "Patient: 13 (already imported)" in out


def test_resources_that_cannot_be_placed_are_skipped_with_a_reason(tmp_path):
    lines = [
        {"resourceType": "Patient", "id": "p1", "name": [{"family": "Doe", "given": ["Jo"]}],
         "gender": "female", "birthDate": "1980-02-03"},
        {"resourceType": "Encounter", "id": "e1", "status": "finished",
         "class": {"code": "AMB"}, "subject": {"reference": "Patient/nobody"},
         "period": {"start": "2020-01-01T10:00:00Z"}},
        {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"},
         "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I10"}]}},
        {"resourceType": "Condition", "id": "c2", "subject": {"reference": "Patient/p1"},
         "onsetDateTime": "not a date"},
        {"resourceType": "Observation", "id": "o1"},
    ]  # fmt: skip
    path = tmp_path / "bundle.ndjson"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n")
    out, _ = run(path)
    assert "Encounter: 1 (patient not found)" in out
    assert "Observation: 1 (invalid FHIR" in out
    assert "Condition: 1 (invalid FHIR" in out
    assert "(file): 1 (not a FHIR resource)" in out
    diagnosis = Diagnosis.objects.get(source_id="c1")
    assert (diagnosis.code, diagnosis.code_display) == ("I10", "Essential (primary) hypertension")


def test_a_missing_path_is_a_clear_error(tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="does not exist"):
        run(tmp_path / "nope.ndjson")


DATA = Path(__file__).parent / "data"


def test_vital_sign_observations_become_sets_of_vitals_and_labs_become_results():
    run(SYNTHEA / "Patient.ndjson")
    out, _ = run(DATA / "observations.ndjson")
    assert "Observation: 10" in out  # 9 vital signs and one laboratory result
    assert "Observation: 1 (not a vital sign or laboratory result)" in out
    first, second = Vitals.objects.order_by("recorded_at")
    assert (first.height_cm, first.weight_kg, first.bmi) == (
        Decimal("162.3"), Decimal("61.2"), Decimal("23.2"),
    )  # fmt: skip
    assert (first.pulse_per_min, first.systolic_mmhg, first.diastolic_mmhg) == (74, 121, 78)
    assert (second.temperature_c, second.spo2_percent, second.pulse_per_min) == (
        Decimal("37.9"), 97, 96,
    )  # fmt: skip
    assert second.flags.get("temperature_c") == "high"
    glucose = LabResult.objects.get()
    assert (glucose.order.test_code, glucose.value, glucose.unit) == (
        "2339-0", Decimal("5.4"), "mmol/L",
    )  # fmt: skip
    out, _ = run(DATA / "observations.ndjson")
    assert "Observation: 10 (already imported)" in out
    assert Vitals.objects.count() == 2 and LabResult.objects.count() == 1


def test_a_transaction_bundle_is_imported_and_urn_references_resolved():
    out, _ = run(DATA / "transaction-bundle.json")
    patient = Patient.objects.get(family_name="Bundle")
    diagnosis = Diagnosis.objects.get(patient=patient)
    assert diagnosis.code == "I10"
    assert "Condition: 1 (invalid FHIR" in out
    assert "Patient: 1" in out


def test_a_patient_is_written_whole_or_not_at_all(monkeypatch, tmp_path):
    """A failure while storing a patient's records leaves nothing of that patient."""
    from hms.fhir import importer

    def broken(**kwargs):
        raise RuntimeError("disk full")

    run(SYNTHEA / "Patient.ndjson")
    before = Patient.objects.count()
    monkeypatch.setattr(importer, "observations_import", broken)
    lines = [
        {"resourceType": "Patient", "id": "whole-1", "name": [{"family": "Whole", "given": ["W"]}],
         "gender": "male", "birthDate": "1970-01-01"},
        {"resourceType": "Condition", "id": "whole-c", "subject": {"reference": "Patient/whole-1"},
         "code": {"text": "Cough"}},
        {"resourceType": "Observation", "id": "whole-o", "status": "final",
         "category": [{"coding": [{"code": "vital-signs"}]}],
         "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
         "subject": {"reference": "Patient/whole-1"}, "effectiveDateTime": "2020-01-01",
         "valueQuantity": {"value": 70, "code": "/min"}},
    ]  # fmt: skip
    path = tmp_path / "whole.ndjson"
    path.write_text("\n".join(json.dumps(line) for line in lines))
    with pytest.raises(RuntimeError):
        run(path)
    assert Patient.objects.count() == before
    assert not Diagnosis.objects.filter(source_id="whole-c").exists()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_validating_in_worker_processes_skips_exactly_the_invalid_resources(
    workers, monkeypatch, tmp_path
):
    """Resources are validated in chunks of whole patients (by a pool when asked): each error
    comes back to its own resource, whatever the chunk."""
    from hms.fhir import importer

    monkeypatch.setattr(importer, "PARALLEL_FROM_BYTES", 0)
    monkeypatch.setattr(importer, "BATCH_LEAST", 1)
    lines = []
    for n in range(6):
        lines += [
            {"resourceType": "Patient", "id": f"pool-{n}", "birthDate": "1970-01-01",
             "name": [{"family": f"Pool{n}", "given": ["P"]}]},
            {"resourceType": "Condition", "id": f"pool-c{n}",
             "subject": {"reference": f"Patient/pool-{n}"}, "code": {"text": "Cough"},
             "onsetDateTime": "not a date" if n % 2 else "2020-01-01"},
        ]  # fmt: skip
    lines.append({"resourceType": "Procedure", "id": "x", "status": "done"})
    path = tmp_path / "pool.ndjson"
    path.write_text("\n".join(json.dumps(line) for line in lines))
    out, err = run(path, "--workers", workers)
    assert "13/13" in err
    assert "  Patient: 6" in out and "  Condition: 3\n" in out
    assert "Condition: 3 (invalid FHIR" in out
    assert "Procedure: 1 (the record has no procedures table yet)" in out
    assert set(Diagnosis.objects.values_list("source_id", flat=True)) == {
        "pool-c0", "pool-c2", "pool-c4",
    }  # fmt: skip


def test_bulk_insert_stores_what_django_would_and_refuses_what_the_database_refuses():
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    from hms.core.bulk import bulk_insert

    run(SYNTHEA / "Patient.ndjson")
    patient = Patient.objects.first()
    odd = 'tab\there, line\nbreak, back\\slash, "quotes", \u00e9t\u00e9, NUL-free'
    encounter = Encounter(
        patient=patient, kind="outpatient", status="in_progress", reason=odd,
        started_at=timezone.now(), source_id="bulk-1",
    )  # fmt: skip
    vitals = Vitals(
        patient=patient, encounter=encounter, recorded_at=timezone.now(),
        temperature_c=Decimal("37.9"), flags={"temperature_c": "high", "note": odd},
    )  # fmt: skip
    assert bulk_insert([encounter]) == 1 and bulk_insert([vitals]) == 1
    stored = Vitals.objects.select_related("encounter").get(pk=vitals.pk)
    assert stored.encounter.reason == odd and stored.encounter.ended_at is None
    assert stored.temperature_c == Decimal("37.9") and stored.flags["note"] == odd
    assert stored.units == vitals.units and stored.created_at is not None
    again = Encounter(patient=patient, kind="outpatient", status="in_progress",
                      started_at=timezone.now(), source_id="bulk-1")  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert([again])
    assert Encounter.objects.filter(source_id="bulk-1").count() == 1
