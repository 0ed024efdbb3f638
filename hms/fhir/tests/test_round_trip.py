"""Import the Synthea sample (plus vital signs), export it, and compare field by field: what we
keep of demographics, conditions, allergies, medications and vital signs comes back out as it
went in (names without Synthea's digits, which the import drops on purpose)."""

import json
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from fhir.resources.R4B import get_fhir_model_class

from hms.clinical.models import Allergy, Diagnosis, Prescription
from hms.fhir.importer import clean_name

pytestmark = pytest.mark.django_db

SYNTHEA = settings.BASE_DIR.parent / "shared" / "data" / "synthea-10"
DATA = Path(__file__).parent / "data"


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def coding(concept: dict) -> tuple:
    first = (concept.get("coding") or [{}])[0]
    return first.get("system"), first.get("code"), first.get("display")


@pytest.fixture
def exported(tmp_path):
    out = StringIO()
    call_command("import_fhir", str(SYNTHEA), str(DATA / "observations.ndjson"),
                 "--quiet", "--workers", "1", stdout=out)  # fmt: skip
    call_command("export_fhir", str(tmp_path), stdout=StringIO())
    files = {}
    for path in tmp_path.glob("*.ndjson"):
        resources = read(path)
        for data in resources:  # every exported resource validates
            get_fhir_model_class(data["resourceType"]).model_validate(data)
        files[path.stem] = resources
    return files


@pytest.mark.skipif(not SYNTHEA.is_dir(), reason="the Synthea sample is not here")
def test_the_synthea_sample_survives_an_import_and_export_round_trip(exported):
    # Patients: matched through the source id kept as an identifier.
    ours = {}
    for patient in exported["Patient"]:
        for identifier in patient.get("identifier", []):
            ours[identifier["value"]] = patient
    source_patients = read(SYNTHEA / "Patient.ndjson")
    our_id = {}
    for source in source_patients:
        mine = ours[source["id"]]
        our_id[source["id"]] = mine["id"]
        name = next(n for n in source["name"] if n.get("use") == "official")
        assert mine["name"][0]["family"] == clean_name(name["family"])
        assert mine["name"][0]["given"] == [clean_name(g) for g in name["given"]]
        assert mine["gender"] == source["gender"]
        assert mine["birthDate"] == source["birthDate"]
        address, our_address = source["address"][0], mine["address"][0]
        assert our_address["line"] == [", ".join(address["line"])]
        for key in ("city", "postalCode", "country"):
            assert our_address.get(key) == address.get(key), key

    # Conditions: matched by our row's source id.
    by_source = dict(Diagnosis.objects.values_list("source_id", "pk"))
    exported_conditions = {c["id"]: c for c in exported["Condition"]}
    source_conditions = read(SYNTHEA / "Condition.ndjson")
    assert len(exported_conditions) == len(source_conditions)
    for source in source_conditions:
        mine = exported_conditions[str(by_source[source["id"]])]
        assert coding(mine["code"]) == coding(source["code"])
        assert mine["clinicalStatus"]["coding"][0]["code"] == coding(source["clinicalStatus"])[1]
        assert mine["subject"]["reference"] == (
            f"Patient/{our_id[source['subject']['reference'].split('/')[-1].split(':')[-1]]}"
        )
        if "onsetDateTime" in source:
            assert mine["onsetDateTime"] == source["onsetDateTime"][:10]
        assert instant(mine["recordedDate"]) == instant(source["recordedDate"])

    # Allergies.
    by_source = dict(Allergy.objects.values_list("source_id", "pk"))
    exported_allergies = {a["id"]: a for a in exported["AllergyIntolerance"]}
    for source in read(SYNTHEA / "AllergyIntolerance.ndjson"):
        mine = exported_allergies[str(by_source[source["id"]])]
        assert mine["code"]["text"] == (source["code"].get("text") or coding(source["code"])[2])
        assert mine["clinicalStatus"]["coding"][0]["code"] == coding(source["clinicalStatus"])[1]
        assert mine["type"] == source.get("type", "allergy")
        manifestations = [
            m.get("text") or coding(m)[2]
            for r in source.get("reaction", [])[:1]
            for m in r.get("manifestation", [])
        ]
        ours_shown = [m["text"] for r in mine.get("reaction", []) for m in r["manifestation"]]
        assert ours_shown == manifestations
        assert instant(mine["recordedDate"]) == instant(source["recordedDate"])

    # Medication requests.
    by_source = dict(Prescription.objects.values_list("source_id", "pk"))
    exported_meds = {m["id"]: m for m in exported["MedicationRequest"]}
    for source in read(SYNTHEA / "MedicationRequest.ndjson"):
        mine = exported_meds[str(by_source[source["id"]])]
        concept = source["medicationCodeableConcept"]
        assert mine["medicationCodeableConcept"]["coding"][0]["code"] == coding(concept)[1]
        assert mine["medicationCodeableConcept"]["text"] == (
            concept.get("text") or coding(concept)[2]
        )
        expected_status = (
            source["status"] if source["status"] in ("active", "completed") else ("stopped")
        )
        assert mine["status"] == expected_status
        assert instant(mine["authoredOn"]) == instant(source["authoredOn"])
        dosage = (source.get("dosageInstruction") or [{}])[0]
        our_dosage = (mine.get("dosageInstruction") or [{}])[0]
        repeat = (dosage.get("timing") or {}).get("repeat") or {}
        if repeat.get("frequency"):
            ours_repeat = our_dosage["timing"]["repeat"]
            assert ours_repeat["frequency"] == repeat["frequency"]
            assert Decimal(str(ours_repeat["period"])) == Decimal(str(repeat["period"]))
            assert ours_repeat["periodUnit"] == repeat["periodUnit"]
        assert bool(our_dosage.get("asNeededBoolean")) == bool(dosage.get("asNeededBoolean"))
        dose = ((dosage.get("doseAndRate") or [{}])[0].get("doseQuantity") or {}).get("value")
        if dose is not None:
            assert Decimal(str(our_dosage["doseAndRate"][0]["doseQuantity"]["value"])) == (
                Decimal(str(dose))
            )

    # Vital signs: matched by patient, time and LOINC code; values and UCUM units equal.
    exported_vitals = defaultdict(dict)
    for observation in exported["Observation"]:
        key = (observation["subject"]["reference"], instant(observation["effectiveDateTime"]))
        exported_vitals[key][observation["code"]["coding"][0]["code"]] = observation
    compared = 0
    for source in read(DATA / "observations.ndjson"):
        if source["category"][0]["coding"][0]["code"] != "vital-signs":
            continue
        subject = f"Patient/{our_id[source['subject']['reference'].split('/')[-1]]}"
        mine = exported_vitals[(subject, instant(source["effectiveDateTime"]))][
            source["code"]["coding"][0]["code"]
        ]
        parts = [(source, mine)] if "valueQuantity" in source else []
        if "component" in source:
            ours_parts = {c["code"]["coding"][0]["code"]: c for c in mine["component"]}
            parts = [(c, ours_parts[c["code"]["coding"][0]["code"]]) for c in source["component"]]
        for theirs, ours_part in parts:
            assert Decimal(str(ours_part["valueQuantity"]["value"])) == Decimal(
                str(theirs["valueQuantity"]["value"])
            )
            assert ours_part["valueQuantity"]["code"] == theirs["valueQuantity"]["code"]
            assert ours_part["valueQuantity"]["system"] == "http://unitsofmeasure.org"
            compared += 1
    assert compared == 10  # eight single values and the two pressures
