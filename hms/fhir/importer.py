"""Load FHIR R4 resources (e.g. a Synthea bulk export, NDJSON) into the registry and the record.

Every resource is parsed and validated with `fhir.resources` (the R4B models read R4 data).
Patients go through the registry's `patient_create`, keeping the source id as an external-MRN
identifier; encounters, conditions, allergies and medication requests become clinical rows
with the FHIR id in `source_id`, so running the import again adds nothing.
"""

import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from hms.clinical import services
from hms.clinical.icd10 import icd10_lookup
from hms.clinical.models import (
    ICD10_SYSTEM,
    SNOMED_SYSTEM,
    Allergy,
    Diagnosis,
    Encounter,
    EncounterKind,
    EncounterStatus,
    Prescription,
)
from hms.core.phones import phone_normalise
from hms.patients.models import IdentifierSystem, Patient, PatientIdentifier, Sex
from hms.patients.services import patient_create

SYNTHEA_SYSTEM = "https://github.com/synthetichealth/synthea"
ORDER = ["Patient", "Practitioner", "Encounter", "Condition", "AllergyIntolerance",
         "MedicationRequest"]  # fmt: skip
ICD10_SYSTEMS = {ICD10_SYSTEM, "http://hl7.org/fhir/sid/icd-10"}


@dataclass
class ImportSummary:
    imported: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)  # (resource type, reason) -> count

    def skip(self, kind: str, reason: str, n: int = 1) -> None:
        self.skipped[(kind, reason)] += n

    def lines(self) -> list[str]:
        out = ["Imported:"]
        out += [f"  {kind}: {n}" for kind, n in sorted(self.imported.items())] or ["  nothing"]
        out.append("Skipped:")
        out += [
            f"  {kind}: {n} ({reason})" for (kind, reason), n in sorted(self.skipped.items())
        ] or ["  nothing"]
        return out


def ndjson_files(paths: Iterable[str | Path]) -> list[Path]:
    """The NDJSON (or single-resource JSON) files named, folders expanded."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".ndjson", ".json"))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path} does not exist")
    return files


def read_resources(files: list[Path]) -> tuple[dict[str, list[dict]], list[str]]:
    """Resources grouped by type, and the lines that are not JSON objects."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    broken: list[str] = []
    for path in files:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError:
                    broken.append(f"{path.name}:{number}")
                    continue
                if isinstance(data, dict) and data.get("resourceType"):
                    grouped[data["resourceType"]].append(data)
                else:
                    broken.append(f"{path.name}:{number}")
    return grouped, broken


def _ref_id(reference: dict | None, kind: str) -> str | None:
    ref = (reference or {}).get("reference") or ""
    if ref.startswith(f"{kind}/"):
        return ref.split("/", 1)[1]
    if ref.startswith("urn:uuid:"):
        return ref[len("urn:uuid:") :]
    return None


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value[:10])
        moment = datetime(day.year, day.month, day.day) if day else None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.UTC)
    return moment


def _day(value: str | None) -> date | None:
    return parse_date(value[:10]) if value else None


def _concept_text(concept: dict | None) -> str:
    concept = concept or {}
    codings = concept.get("coding") or []
    return concept.get("text") or next((c.get("display") for c in codings if c.get("display")), "")


def _code(concept: dict | None, default: str = "") -> str:
    codings = (concept or {}).get("coding") or []
    return codings[0].get("code", default) if codings else default


_SYNTHEA_DIGITS = re.compile(r"(?<=[A-Za-z])\d+$")


def _name(text: str) -> str:
    """Synthea appends digits to names ("Marine542"): drop them."""
    return _SYNTHEA_DIGITS.sub("", text or "").strip()


class FhirImporter:
    def __init__(self, *, actor=None, progress: Callable[[int, int], None] | None = None):
        self.actor = actor
        self.progress = progress or (lambda done, total: None)
        self.summary = ImportSummary()
        self.patients: dict[str, Patient] = {}
        self.encounters: dict[str, tuple] = {}  # FHIR id -> (pk, patient pk)
        self.done = 0
        self.total = 0

    # -- driver ------------------------------------------------------------------------------

    def run(self, paths: Iterable[str | Path]) -> ImportSummary:
        grouped, broken = read_resources(ndjson_files(paths))
        if broken:
            self.summary.skip("(file)", "not a JSON resource", len(broken))
        self.total = sum(len(v) for v in grouped.values())
        for kind, resources in grouped.items():
            if kind not in ORDER:
                self.summary.skip(kind, "not supported", len(resources))
                self._tick(len(resources))
        self._known_patients()
        for kind in ORDER:
            resources = grouped.get(kind, [])
            if resources:
                getattr(self, f"_import_{kind.lower()}")(resources)
        return self.summary

    def _tick(self, n: int = 1) -> None:
        self.done += n
        self.progress(self.done, self.total)

    def _valid(self, kind: str, resources: list[dict]) -> list[dict]:
        """Resources that `fhir.resources` accepts; the others are skipped as invalid."""
        model = get_fhir_model_class(kind)
        valid = []
        for data in resources:
            try:
                model.model_validate(data)
            except (ValidationError, ValueError) as exc:
                first = str(exc).splitlines()[1:2] or [str(exc)]
                self.summary.skip(kind, f"invalid FHIR: {first[0].strip()[:60]}")
                self._tick()
                continue
            valid.append(data)
        return valid

    def _known_patients(self) -> None:
        for identifier in PatientIdentifier.objects.filter(
            system=IdentifierSystem.EXTERNAL_MRN
        ).select_related("patient"):
            self.patients[identifier.value] = identifier.patient

    def _patient_for(self, kind: str, reference: dict | None) -> Patient | None:
        patient = self.patients.get(_ref_id(reference, "Patient") or "")
        if patient is None:
            self.summary.skip(kind, "patient not found")
        return patient

    def _store(self, kind: str, rows_by_patient: dict) -> None:
        for patient, rows in rows_by_patient.items():
            added = services.clinical_records_import(
                actor=self.actor, patient=patient, records=rows
            )
            self.summary.imported[kind] += added
            if len(rows) - added:
                self.summary.skip(kind, "already imported", len(rows) - added)

    # -- resources ---------------------------------------------------------------------------

    def _import_patient(self, resources: list[dict]) -> None:
        for data in self._valid("Patient", resources):
            self._tick()
            source_id = data["id"]
            if source_id in self.patients:
                self.summary.skip("Patient", "already imported")
                continue
            name = next(
                (n for n in data.get("name", []) if n.get("use") == "official"),
                (data.get("name") or [{}])[0],
            )
            given = [_name(g) for g in name.get("given", [])]
            born = _day(data.get("birthDate"))
            if not given or not name.get("family") or born is None:
                self.summary.skip("Patient", "no name or birth date")
                continue
            address = (data.get("address") or [{}])[0]
            phone = next(
                (t.get("value", "") for t in data.get("telecom", []) if t.get("system") == "phone"),
                "",
            )
            try:
                phone = phone_normalise(phone)
            except ValueError:
                phone = ""  # an unreadable number is left out; the patient is still imported
            system_uri = next(
                (
                    i.get("system")
                    for i in data.get("identifier", [])
                    if i.get("value") == source_id
                ),
                SYNTHEA_SYSTEM,
            )
            gender = data.get("gender")
            patient = patient_create(
                actor=self.actor,
                given_name=given[0],
                middle_names=" ".join(given[1:]),
                family_name=_name(name["family"]),
                birth_date=born,
                sex=gender if gender in Sex.values else Sex.UNKNOWN,
                phone=phone,
                address_line=", ".join(address.get("line", []))[:200],
                city=address.get("city", "")[:100],
                postal_code=address.get("postalCode", "")[:20],
                country=address.get("country", "")[:60],
                identifiers=[
                    {
                        "system": IdentifierSystem.EXTERNAL_MRN,
                        "system_uri": system_uri,
                        "value": source_id,
                    }
                ],
            )
            self.patients[source_id] = patient
            self.summary.imported["Patient"] += 1

    def _import_practitioner(self, resources: list[dict]) -> None:
        valid = self._valid("Practitioner", resources)
        self.summary.skip(
            "Practitioner", "not imported as users: names are kept on encounters", len(valid)
        )
        self._tick(len(valid))

    _KINDS = {"IMP": EncounterKind.INPATIENT, "ACUTE": EncounterKind.INPATIENT,
              "EMER": EncounterKind.EMERGENCY}  # fmt: skip
    _STATUSES = {"finished": EncounterStatus.CLOSED, "in-progress": EncounterStatus.IN_PROGRESS}

    def _import_encounter(self, resources: list[dict]) -> None:
        rows = defaultdict(list)
        for data in self._valid("Encounter", resources):
            self._tick()
            patient = self._patient_for("Encounter", data.get("subject"))
            if patient is None:
                continue
            period = data.get("period") or {}
            start = _when(period.get("start"))
            if start is None:
                self.summary.skip("Encounter", "no start time")
                continue
            status = self._STATUSES.get(data.get("status"), EncounterStatus.OPENED)
            end = _when(period.get("end"))
            if status == EncounterStatus.CLOSED:
                end = max(end or start, start)
            elif end is not None and end < start:
                end = None
            participant = (data.get("participant") or [{}])[0]
            reason = _concept_text((data.get("reasonCode") or [None])[0]) or _concept_text(
                (data.get("type") or [None])[0]
            )
            encounter = Encounter(
                patient=patient,
                kind=self._KINDS.get((data.get("class") or {}).get("code"), "outpatient"),
                status=status,
                practitioner_name=(participant.get("individual") or {}).get("display", "")[:200],
                reason=reason[:300],
                started_at=start,
                ended_at=end,
                source_id=data["id"],
            )
            rows[patient].append(encounter)
        self._store("Encounter", rows)
        for pk, source_id, patient_id in Encounter.objects.filter(
            source_id__isnull=False
        ).values_list("pk", "source_id", "patient_id"):
            self.encounters[source_id] = (pk, patient_id)

    def _encounter_pk(self, data: dict, patient: Patient):
        found = self.encounters.get(_ref_id(data.get("encounter"), "Encounter") or "")
        return found[0] if found and found[1] == patient.pk else None

    _CLINICAL_STATUS = {"active": "active", "recurrence": "active", "relapse": "active",
                        "inactive": "inactive", "remission": "inactive",
                        "resolved": "resolved"}  # fmt: skip

    def _import_condition(self, resources: list[dict]) -> None:
        rows = defaultdict(list)
        for data in self._valid("Condition", resources):
            self._tick()
            patient = self._patient_for("Condition", data.get("subject"))
            if patient is None:
                continue
            codings = (data.get("code") or {}).get("coding") or []
            icd = next((c for c in codings if c.get("system") in ICD10_SYSTEMS), None)
            entry = icd10_lookup(icd.get("code", "")) if icd else None
            text = _concept_text(data.get("code"))
            if entry is not None:
                system, code, display = ICD10_SYSTEM, entry.code, entry.description
            elif codings and codings[0].get("code"):
                system = codings[0].get("system") or SNOMED_SYSTEM
                code, display = codings[0]["code"], codings[0].get("display", "")
            else:
                system, code, display = "", "", ""
            if not code and not text:
                self.summary.skip("Condition", "no code or text")
                continue
            rows[patient].append(
                Diagnosis(
                    patient=patient,
                    encounter_id=self._encounter_pk(data, patient),
                    code_system=system[:100],
                    code=code[:20],
                    code_display=display[:300],
                    description="" if display else text[:300],
                    status=self._CLINICAL_STATUS.get(
                        _code(data.get("clinicalStatus"), "active"), "active"
                    ),
                    onset_date=_day(data.get("onsetDateTime")),
                    recorded_at=_when(data.get("recordedDate")) or timezone.now(),
                    source_id=data["id"],
                )
            )
        self._store("Condition", rows)

    _CRITICALITY = {"low": "mild", "high": "severe", "unable-to-assess": "moderate"}

    def _import_allergyintolerance(self, resources: list[dict]) -> None:
        rows = defaultdict(list)
        for data in self._valid("AllergyIntolerance", resources):
            self._tick()
            patient = self._patient_for("AllergyIntolerance", data.get("patient"))
            if patient is None:
                continue
            substance = _concept_text(data.get("code"))
            if not substance:
                self.summary.skip("AllergyIntolerance", "no substance")
                continue
            reaction = (data.get("reaction") or [{}])[0]
            manifestations = [_concept_text(m) for m in reaction.get("manifestation", [])]
            severity = reaction.get("severity") or self._CRITICALITY.get(
                data.get("criticality"), "moderate"
            )
            status = _code(data.get("clinicalStatus"), "active")
            rows[patient].append(
                Allergy(
                    patient=patient,
                    substance=substance[:200],
                    reaction=", ".join(m for m in manifestations if m)[:200],
                    severity=severity if severity in ("mild", "moderate", "severe") else "moderate",
                    status=status if status in ("active", "inactive", "resolved") else "active",
                    is_intolerance=data.get("type") == "intolerance",
                    recorded_at=_when(data.get("recordedDate")) or timezone.now(),
                    source_id=data["id"],
                )
            )
        self._store("AllergyIntolerance", rows)

    _RX_STATUS = {"active": "active", "completed": "completed"}

    def _import_medicationrequest(self, resources: list[dict]) -> None:
        rows = defaultdict(list)
        for data in self._valid("MedicationRequest", resources):
            self._tick()
            concept = data.get("medicationCodeableConcept")
            if concept is None:
                self.summary.skip("MedicationRequest", "medication given by reference")
                continue
            patient = self._patient_for("MedicationRequest", data.get("subject"))
            if patient is None:
                continue
            dosage = (data.get("dosageInstruction") or [{}])[0]
            dose = ((dosage.get("doseAndRate") or [{}])[0].get("doseQuantity") or {}).get("value")
            repeat = (dosage.get("timing") or {}).get("repeat") or {}
            frequency = ""
            if repeat.get("frequency"):
                period = repeat.get("period", 1)
                frequency = (
                    f"{repeat['frequency']} times every {period:g} {repeat.get('periodUnit', 'd')}"
                )
            if dosage.get("asNeededBoolean"):
                frequency = (frequency + " as needed").strip()
            rows[patient].append(
                Prescription(
                    patient=patient,
                    encounter_id=self._encounter_pk(data, patient),
                    drug=_concept_text(concept)[:200] or "Unnamed medicine",
                    drug_code=_code(concept)[:40],
                    dose="" if dose is None else f"{dose:g}",
                    frequency=frequency[:60],
                    instructions=dosage.get("text", ""),
                    status=self._RX_STATUS.get(data.get("status"), "stopped"),
                    prescribed_at=_when(data.get("authoredOn")) or timezone.now(),
                    source_id=data["id"],
                )
            )
        self._store("MedicationRequest", rows)
