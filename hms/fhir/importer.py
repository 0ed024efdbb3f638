"""Load FHIR R4 resources (NDJSON files, folders of them, or transaction / collection Bundles,
e.g. a Synthea bulk export) into the registry and the record.

- Every resource that is stored is first parsed and validated with `fhir.resources` (R4B models
  read R4 data); an invalid one is skipped with the reason. Validation is the costly part
  (about 0.15 ms a resource, half the import), so large inputs are validated by a pool of
  processes, patient by patient, while this process stores the patients already validated.
- Types we have no place for (Procedure, Immunization, Device, Claim, ...) are skipped by type,
  with the reason, unparsed (an NDJSON line naming its type first is not even decoded).
  Outside practitioners, organisations and locations are skipped too: they are not our staff,
  hospital or departments (practitioners' names stay on the encounters).
- Writes go through services: `patient_create` (a new MRN; the source id kept as an
  external-MRN identifier), `clinical_records_import` (encounters, conditions, allergies,
  medication requests, with the FHIR id in `source_id`) and `observations_import` (vital signs
  grouped into sets of vitals, laboratory results). Each patient's resources are written in
  one transaction with bulk inserts: an error leaves none of that patient behind.
- Idempotent: resources already imported (by source id) are skipped before anything is parsed,
  so a second run changes nothing.
"""

import gc
import json
import multiprocessing
import os
import re
import time
import typing
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from hms.clinical import rules
from hms.clinical.icd10 import icd10_lookup
from hms.clinical.models import (
    ICD10_SYSTEM,
    SNOMED_SYSTEM,
    Allergy,
    Diagnosis,
    Encounter,
    EncounterKind,
    EncounterStatus,
    LabOrder,
    LabResult,
    Prescription,
    Vitals,
)
from hms.clinical.services import clinical_records_import
from hms.clinical.vitals import VITAL_SIGNS
from hms.core.phones import phone_normalise
from hms.fhir import mappers
from hms.fhir.models import ImportedResource
from hms.fhir.services import observations_import
from hms.patients.models import IdentifierSystem, Patient, PatientIdentifier, Sex
from hms.patients.services import patient_create

SYNTHEA_SYSTEM = "https://github.com/synthetichealth/synthea"
STORED = ("Patient", "Encounter", "Condition", "AllergyIntolerance", "MedicationRequest",
          "Observation")  # fmt: skip
NOT_STORED = {
    "Practitioner": "outside practitioners are not made staff accounts (their names are kept "
    "on the encounters)",
    "Organization": "outside organisations are not stored (the hospital is our only one)",
    "Location": "outside locations are not stored (our departments are our locations)",
    "PractitionerRole": "outside practitioners' roles are not stored",
    "Procedure": "the record has no procedures table yet",
    "Immunization": "the record has no immunisations table yet",
}
ICD10_SYSTEMS = {ICD10_SYSTEM, "http://hl7.org/fhir/sid/icd-10"}
PARALLEL_FROM_BYTES = 1_000_000  # about 800 resources; below, a pool costs more than it saves
BATCH_LEAST, BATCH_MOST = 50, 500  # resources validated together (whole patients)


@dataclass
class ImportSummary:
    imported: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)  # (resource type, reason) -> count
    seconds: float = 0.0
    cpu: float = 0.0  # seconds of CPU, this process's and its validating processes'
    total: int = 0
    stages: dict = field(default_factory=dict)  # stage -> seconds

    def skip(self, kind: str, reason: str, n: int = 1) -> None:
        if n:
            self.skipped[(kind, reason)] += n

    def lines(self) -> list[str]:
        out = ["Imported:"]
        out += [f"  {kind}: {n}" for kind, n in sorted(self.imported.items())] or ["  nothing"]
        out.append("Skipped:")
        out += [
            f"  {kind}: {n} ({reason})" for (kind, reason), n in sorted(self.skipped.items())
        ] or ["  nothing"]
        if self.seconds:
            rate = self.total / self.seconds
            out.append(
                f"{self.total} resources in {self.seconds:.2f} s ({rate:,.0f} resources/s), "
                f"CPU {self.cpu:.2f} s"
            )
            out.append("  " + ", ".join(f"{k} {v:.2f} s" for k, v in self.stages.items()))
        return out


# --- Reading files ---------------------------------------------------------------------------


def input_files(paths: Iterable[str | Path]) -> list[Path]:
    """The NDJSON and JSON files named, folders expanded."""
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


@dataclass
class Item:
    kind: str
    data: dict
    line: str  # the resource's JSON text (what the validators parse)


@dataclass
class Reading:
    items: list[Item] = field(default_factory=list)  # resources of the types we store
    other: Counter = field(default_factory=Counter)  # type -> resources of types we do not store
    broken: list[str] = field(default_factory=list)  # where the unreadable lines are


# A line that opens with its type (as exports write them) tells it without being decoded.
_LEADING_TYPE = re.compile(r'\{\s*"resourceType"\s*:\s*"(\w+)"')


def _bundle_items(bundle: dict, where: str, reading: Reading) -> None:
    if bundle.get("type") not in ("transaction", "collection", "batch", "searchset"):
        reading.broken.append(f"{where} (a {bundle.get('type')} Bundle)")
        return
    for number, entry in enumerate(bundle.get("entry") or [], 1):
        resource = (entry or {}).get("resource")
        method = ((entry or {}).get("request") or {}).get("method", "POST")
        if not isinstance(resource, dict) or method not in ("POST", "PUT"):
            reading.broken.append(f"{where} entry {number}")
            continue
        full_url = entry.get("fullUrl") or ""
        if not resource.get("id") and full_url.startswith("urn:uuid:"):
            resource = {**resource, "id": full_url[len("urn:uuid:") :]}
        _add(resource, json.dumps(resource), f"{where} entry {number}", reading)


def _add(data, line: str, where: str, reading: Reading) -> None:
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        reading.broken.append(where)
    elif data["resourceType"] == "Bundle":
        _bundle_items(data, where, reading)
    elif data["resourceType"] in STORED:
        reading.items.append(Item(data["resourceType"], data, line))
    else:
        reading.other[data["resourceType"]] += 1


def read_items(files: list[Path]) -> Reading:
    """Every resource in the files (Bundles opened), and where the unreadable ones are. Lines of
    a type we do not store are only counted: their JSON is not decoded."""
    reading = Reading()
    for path in files:
        text = path.read_text(encoding="utf-8")
        stripped = text.lstrip()
        if path.suffix == ".json" or (stripped.startswith("{") and "\n{" not in stripped):
            try:
                _add(json.loads(text), text, path.name, reading)
                continue
            except (json.JSONDecodeError, RecursionError):
                pass  # perhaps NDJSON after all
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            leading = _LEADING_TYPE.match(line)
            if leading and leading[1] not in STORED and leading[1] != "Bundle":
                reading.other[leading[1]] += 1
                continue
            try:
                data = json.loads(line)
            except (json.JSONDecodeError, RecursionError):
                reading.broken.append(f"{path.name}:{number}")
                continue
            _add(data, line, f"{path.name}:{number}", reading)
    return reading


@contextmanager
def _collector_paused():
    """Python's cycle collector walks every live object now and then; with thousands of decoded
    resources alive that took two thirds of the reading time. An import makes no cycles worth
    collecting, so the collector waits until it is over."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --- Validation (fhir.resources), in parallel when there is much of it -----------------------


def _validate_chunk(chunk: list[tuple[str, str]]) -> list[str | None]:
    """For each (type, JSON text): None when fhir.resources accepts it, else the first error."""
    out = []
    for kind, line in chunk:
        try:
            get_fhir_model_class(kind).model_validate_json(line)
            out.append(None)
        except (ValidationError, ValueError, KeyError) as exc:
            lines = str(exc).splitlines()
            first = lines[1] if len(lines) > 1 else lines[0] if lines else "invalid"
            out.append(f"invalid FHIR: {first.strip()[:60]}")
    return out


def _load_models() -> None:
    """Import the stored types' models and the element types they hold, before any worker is
    forked: the workers share them instead of each importing them (0.1 to 0.2 s each)."""
    for kind in STORED:
        for model_field in get_fhir_model_class(kind).model_fields.values():
            types = [model_field.annotation]
            while types:
                kind_of_element = types.pop()
                if hasattr(kind_of_element, "get_model_klass"):
                    kind_of_element.get_model_klass()
                types += typing.get_args(kind_of_element)


@contextmanager
def validators(workers: int, files: list[Path]):
    """A `map` that validates chunks: a pool of processes when there are several workers and
    enough to do, else this process. The pool starts before the files are read, so that its
    processes are forked from a small process and ready when the first chunk is."""
    _load_models()
    size = sum(path.stat().st_size for path in files)
    if workers <= 1 or size < PARALLEL_FROM_BYTES:
        yield map
        return
    # Forked workers touch no database connection: they only parse and validate text.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    try:
        pool.submit(os.getpid)  # a first task forks the workers now
        yield pool.map
    finally:
        pool.shutdown(cancel_futures=True)


def _cpu_seconds() -> float:
    """CPU used by this process and its children that have ended (the pool's, once shut)."""
    used = os.times()
    return used.user + used.system + used.children_user + used.children_system


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


# --- Small readers of FHIR JSON -------------------------------------------------------------


def _ref_id(reference: dict | None, kind: str) -> str | None:
    ref = (reference or {}).get("reference") or ""
    if ref.startswith(f"{kind}/"):
        return ref.split("/", 1)[1]
    if ref.startswith("urn:uuid:"):
        return ref[len("urn:uuid:") :]
    if f"/{kind}/" in ref:
        return ref.rsplit("/", 1)[1]
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


def clean_name(text: str) -> str:
    """Synthea appends digits to names ("Marine542"): drop them."""
    return _SYNTHEA_DIGITS.sub("", text or "").strip()


def _subject(item: Item) -> str | None:
    data = item.data
    if item.kind == "Patient":
        return data.get("id")
    if item.kind == "AllergyIntolerance":
        return _ref_id(data.get("patient"), "Patient")
    return _ref_id(data.get("subject"), "Patient")


# --- The importer ---------------------------------------------------------------------------


class FhirImporter:
    def __init__(
        self,
        *,
        actor=None,
        progress: Callable[[int, int], None] | None = None,
        workers: int | None = None,
    ):
        self.actor = actor
        self.progress = progress or (lambda done, total: None)
        self.workers = default_workers() if workers is None else workers
        self.summary = ImportSummary()
        self.done = 0
        self.total = 0

    def _tick(self, n: int = 1) -> None:
        self.done += n
        self.progress(self.done, self.total)

    def run(self, paths: Iterable[str | Path]) -> ImportSummary:
        """Read, then validate and store patient by patient: while this process stores one
        patient's records, the pool validates the next patients'."""
        started, cpu = time.perf_counter(), _cpu_seconds()
        files = input_files(paths)
        stages = dict.fromkeys(("read", "validate", "store"), 0.0)
        with _collector_paused(), validators(self.workers, files) as validate:
            reading = read_items(files)
            self.total = len(reading.items) + sum(reading.other.values()) + len(reading.broken)
            self.summary.total = self.total
            self.progress(0, self.total)
            self.summary.skip("(file)", "not a FHIR resource", len(reading.broken))
            for kind, n in sorted(reading.other.items()):
                self.summary.skip(kind, NOT_STORED.get(kind, "not supported"), n)
            self._tick(len(reading.broken) + sum(reading.other.values()))
            batches = self._batches(self._keep_new(reading.items))
            stages["read"] = time.perf_counter() - started
            results = validate(_validate_chunk, [[(i.kind, i.line) for i in b] for b in batches])
            clock = time.perf_counter()
            self._store_start(batches)
            for batch in batches:
                stages["store"] += time.perf_counter() - clock
                clock = time.perf_counter()
                errors = next(results)
                stages["validate"] += time.perf_counter() - clock
                clock = time.perf_counter()
                self._store(batch, errors)
            stages["store"] += time.perf_counter() - clock
        self.summary.stages = stages
        self.summary.seconds = time.perf_counter() - started
        self.summary.cpu = _cpu_seconds() - cpu
        return self.summary

    def _keep_new(self, items: list[Item]) -> list[Item]:
        """Resources imported before are skipped before they are parsed (a second run is fast
        and changes nothing)."""
        ids = defaultdict(set)
        for item in items:
            if isinstance(item.data.get("id"), str):
                ids[item.kind].add(item.data["id"])
        known: dict[str, set] = {
            "Patient": set(
                PatientIdentifier.objects.filter(
                    system=IdentifierSystem.EXTERNAL_MRN, value__in=ids["Patient"]
                ).values_list("value", flat=True)
            ),
            "Observation": set(
                ImportedResource.objects.filter(
                    resource_type="Observation", source_id__in=ids["Observation"]
                ).values_list("source_id", flat=True)
            ),
        }
        for kind, model in (("Encounter", Encounter), ("Condition", Diagnosis),
                            ("AllergyIntolerance", Allergy),
                            ("MedicationRequest", Prescription)):  # fmt: skip
            known[kind] = set(
                model.objects.filter(source_id__in=ids[kind]).values_list("source_id", flat=True)
            )
        keep, seen = [], set()
        for item in items:
            source_id = item.data.get("id")
            if not isinstance(source_id, str) or not source_id or len(source_id) > 64:
                self.summary.skip(item.kind, "no usable id")
                self._tick()
            elif source_id in known[item.kind] or (item.kind, source_id) in seen:
                self.summary.skip(item.kind, "already imported")
                self._tick()
            else:
                seen.add((item.kind, source_id))
                keep.append(item)
        return keep

    def _batches(self, items: list[Item]) -> list[list[Item]]:
        """The resources in chunks to validate, each holding whole patients (a patient's
        resources together), the ones naming no patient last."""
        by_patient: dict[str | None, list[Item]] = defaultdict(list)
        for item in items:
            by_patient[_subject(item)].append(item)
        groups = [g for subject, g in by_patient.items() if subject is not None]
        groups.append(by_patient.get(None, []))
        size = min(BATCH_MOST, max(BATCH_LEAST, len(items) // (max(1, self.workers) * 6)))
        batches: list[list[Item]] = [[]]
        for group in groups:
            if batches[-1] and len(batches[-1]) + len(group) > size:
                batches.append([])
            batches[-1] += group
        return [b for b in batches if b]

    # -- storing, a transaction per patient ---------------------------------------------------

    def _store_start(self, batches: list[list[Item]]) -> None:
        """Look up, in two queries, the patients and encounters imported before that these
        resources name."""
        subjects = {_subject(i) for b in batches for i in b}
        self.known = {
            i.value: i.patient
            for i in PatientIdentifier.objects.filter(
                system=IdentifierSystem.EXTERNAL_MRN, value__in=[s for s in subjects if s]
            ).select_related("patient")
        }
        encounter_ids = {
            _ref_id(i.data.get("encounter"), "Encounter")
            for b in batches
            for i in b
            if i.data.get("encounter")
        }
        self.encounters = {
            source_id: (pk, patient_id)
            for pk, source_id, patient_id in Encounter.objects.filter(
                source_id__in=[e for e in encounter_ids if e]
            ).values_list("pk", "source_id", "patient_id")
        }

    def _store(self, batch: list[Item], errors: list[str | None]) -> None:
        by_patient: dict[str | None, list[Item]] = defaultdict(list)
        for item, error in zip(batch, errors, strict=True):
            if error:
                self.summary.skip(item.kind, error)
                self._tick()
            else:
                by_patient[_subject(item)].append(item)
        for subject, group in by_patient.items():
            if subject is None:
                for item in group:
                    self.summary.skip(item.kind, "no patient reference")
            else:
                self._store_patient(subject, group)
            self._tick(len(group))

    def _store_patient(self, subject: str, group: list[Item]) -> None:
        patient_item = next((i for i in group if i.kind == "Patient"), None)
        patient = self.known.get(subject)
        others = [i for i in group if i.kind != "Patient"]
        if patient is None and patient_item is None:
            for item in group:
                self.summary.skip(item.kind, "patient not found")
            return
        with transaction.atomic():
            if patient is None:
                patient = self._patient(patient_item)
            if patient is not None:
                self._records(patient, others)
        if patient is None:
            for item in others:
                self.summary.skip(item.kind, "patient not imported")

    def _patient(self, item: Item) -> Patient | None:
        data = item.data
        name = next(
            (n for n in data.get("name", []) if n.get("use") == "official"),
            (data.get("name") or [{}])[0],
        )
        given = [clean_name(g) for g in name.get("given", [])]
        born = _day(data.get("birthDate"))
        if not given or not name.get("family") or born is None:
            self.summary.skip("Patient", "no name or birth date")
            return None
        address = (data.get("address") or [{}])[0]
        phone = next(
            (t.get("value", "") for t in data.get("telecom", []) if t.get("system") == "phone"),
            "",
        )
        try:
            phone = phone_normalise(phone)
        except ValueError:
            phone = ""  # an unreadable number is left out; the patient is still imported
        email = next(
            (t.get("value", "") for t in data.get("telecom", []) if t.get("system") == "email"),
            "",
        )
        source_id = data["id"]
        system_uri = next(
            (i.get("system") for i in data.get("identifier", []) if i.get("value") == source_id),
            SYNTHEA_SYSTEM,
        )
        gender = data.get("gender")
        patient = patient_create(
            actor=self.actor,
            given_name=given[0][:100],
            middle_names=" ".join(given[1:])[:100],
            family_name=clean_name(name["family"])[:100],
            birth_date=born,
            sex=gender if gender in Sex.values else Sex.UNKNOWN,
            phone=phone,
            email=email[:254] if "@" in email else "",
            address_line=", ".join(address.get("line", []))[:200],
            city=address.get("city", "")[:100],
            postal_code=address.get("postalCode", "")[:20],
            country=address.get("country", "")[:60],
            identifiers=[
                {
                    "system": IdentifierSystem.EXTERNAL_MRN,
                    "system_uri": (system_uri or SYNTHEA_SYSTEM)[:200],
                    "value": source_id,
                }
            ],
        )
        self.summary.imported["Patient"] += 1
        return patient

    def _records(self, patient: Patient, items: list[Item]) -> None:
        kinds = defaultdict(list)
        for item in items:
            kinds[item.kind].append(item.data)
        encounters = [e for e in map(lambda d: self._encounter(patient, d),
                                     kinds["Encounter"]) if e]  # fmt: skip
        for row in encounters:
            self.encounters[row.source_id] = (row.pk, patient.pk)
        self._save("Encounter", patient, encounters)
        for kind, build in (
            ("Condition", self._condition),
            ("AllergyIntolerance", self._allergy),
            ("MedicationRequest", self._prescription),
        ):
            self._save(kind, patient, [r for r in (build(patient, d) for d in kinds[kind]) if r])
        if kinds["Observation"]:
            self._observations(patient, kinds["Observation"])

    def _save(self, kind: str, patient: Patient, rows: list) -> None:
        if rows:
            added = clinical_records_import(actor=self.actor, patient=patient, records=rows)
            self.summary.imported[kind] += added
            self.summary.skip(kind, "already imported", len(rows) - added)

    def _encounter_pk(self, data: dict, patient: Patient):
        found = self.encounters.get(_ref_id(data.get("encounter"), "Encounter") or "")
        return found[0] if found and found[1] == patient.pk else None

    _KINDS = {"IMP": EncounterKind.INPATIENT, "ACUTE": EncounterKind.INPATIENT,
              "EMER": EncounterKind.EMERGENCY}  # fmt: skip
    _STATUSES = {"finished": EncounterStatus.CLOSED, "in-progress": EncounterStatus.IN_PROGRESS}

    def _encounter(self, patient: Patient, data: dict) -> Encounter | None:
        period = data.get("period") or {}
        start = _when(period.get("start"))
        if start is None:
            self.summary.skip("Encounter", "no start time")
            return None
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
        return Encounter(
            patient=patient,
            kind=self._KINDS.get((data.get("class") or {}).get("code"), EncounterKind.OUTPATIENT),
            status=status,
            practitioner_name=(participant.get("individual") or {}).get("display", "")[:200],
            reason=reason[:300],
            started_at=start,
            ended_at=end,
            source_id=data["id"],
        )

    _CLINICAL_STATUS = {"active": "active", "recurrence": "active", "relapse": "active",
                        "inactive": "inactive", "remission": "inactive",
                        "resolved": "resolved"}  # fmt: skip

    def _condition(self, patient: Patient, data: dict) -> Diagnosis | None:
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
            return None
        return Diagnosis(
            patient=patient,
            encounter_id=self._encounter_pk(data, patient),
            code_system=system[:100],
            code=code[:20],
            code_display=display[:300],
            description="" if display else text[:300],
            status=self._CLINICAL_STATUS.get(_code(data.get("clinicalStatus"), "active"), "active"),
            onset_date=_day(data.get("onsetDateTime")),
            recorded_at=_when(data.get("recordedDate")) or timezone.now(),
            source_id=data["id"],
        )

    _CRITICALITY = {"low": "mild", "high": "severe", "unable-to-assess": "moderate"}

    def _allergy(self, patient: Patient, data: dict) -> Allergy | None:
        substance = _concept_text(data.get("code"))
        if not substance:
            self.summary.skip("AllergyIntolerance", "no substance")
            return None
        reaction = (data.get("reaction") or [{}])[0]
        manifestations = [_concept_text(m) for m in reaction.get("manifestation", [])]
        severity = reaction.get("severity") or self._CRITICALITY.get(
            data.get("criticality"), "moderate"
        )
        status = _code(data.get("clinicalStatus"), "active")
        return Allergy(
            patient=patient,
            substance=substance[:200],
            reaction=", ".join(m for m in manifestations if m)[:200],
            severity=severity if severity in ("mild", "moderate", "severe") else "moderate",
            status=status if status in ("active", "inactive", "resolved") else "active",
            is_intolerance=data.get("type") == "intolerance",
            recorded_at=_when(data.get("recordedDate")) or timezone.now(),
            source_id=data["id"],
        )

    _RX_STATUS = {"active": "active", "completed": "completed"}

    def _prescription(self, patient: Patient, data: dict) -> Prescription | None:
        concept = data.get("medicationCodeableConcept")
        if concept is None:
            self.summary.skip("MedicationRequest", "medication given by reference")
            return None
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
        return Prescription(
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

    # -- observations: vital signs (grouped into sets) and laboratory results ----------------

    def _observations(self, patient: Patient, resources: list[dict]) -> None:
        sets: dict[tuple, dict] = {}
        labs = []
        for data in resources:
            categories = {
                c.get("code")
                for concept in data.get("category") or []
                for c in concept.get("coding") or []
            }
            when = _when(data.get("effectiveDateTime") or data.get("issued"))
            if when is None:
                self.summary.skip("Observation", "no effective time")
            elif "vital-signs" in categories:
                key = (when, self._encounter_pk(data, patient))
                entry = sets.setdefault(key, {"values": {}, "ids": []})
                if self._vital_values(data, entry["values"]):
                    entry["ids"].append(data["id"])
            elif "laboratory" in categories:
                lab = self._lab(patient, data, when)
                if lab is not None:
                    labs.append(lab)
            else:
                self.summary.skip("Observation", "not a vital sign or laboratory result")
        vitals, links = [], []
        for (when, encounter_pk), entry in sets.items():
            values = entry["values"]
            if not entry["ids"]:
                continue
            problem = _vitals_problem(values)
            if problem:
                self.summary.skip("Observation", problem, len(entry["ids"]))
                continue
            bmi = values.pop("bmi", None)
            row = Vitals(patient=patient, encounter_id=encounter_pk, recorded_at=when, **values)
            row.bmi = bmi or rules.bmi_of(values.get("weight_kg"), values.get("height_cm"))
            row.flags = rules.vital_flags({**values, "bmi": row.bmi})
            vitals.append(row)
            links += [("clinical.vitals", row.pk, source_id) for source_id in entry["ids"]]
        orders, results = [], []
        for order, result, source_id in labs:
            orders.append(order)
            results.append(result)
            links.append(("clinical.labresult", result.pk, source_id))
        added = observations_import(
            actor=self.actor,
            patient=patient,
            vitals=vitals,
            lab_orders=orders,
            lab_results=results,
            links=links,
        )
        self.summary.imported["Observation"] += added

    def _vital_values(self, data: dict, values: dict) -> bool:
        """Add this Observation's sign(s) to the set; False (skipped, with the reason) if it is
        not one we record or its unit cannot be converted."""
        code = _code(data.get("code"))
        if code == mappers.BP_PANEL[0]:
            found = False
            for component in data.get("component") or []:
                field = _BP_FIELDS.get(_code(component.get("code")))
                value = _in_unit(component.get("valueQuantity"), "mm[Hg]")
                if field and value is not None:
                    values[field] = value
                    found = True
            if not found:
                self.summary.skip("Observation", "blood pressure without readable components")
            return found
        key = _VITAL_KEYS.get(code)
        if key is None:
            self.summary.skip("Observation", f"vital sign {code or '?'} is not recorded here")
            return False
        field = mappers.VITAL_FIELDS[key]
        value = _in_unit(data.get("valueQuantity"), _UNITS[field])
        if value is None:
            self.summary.skip("Observation", "no value in a unit we can convert")
            return False
        values[field] = value
        return True

    def _lab(self, patient: Patient, data: dict, when: datetime):
        codings = (data.get("code") or {}).get("coding") or []
        loinc = next((c for c in codings if c.get("system") == mappers.LOINC), None)
        if loinc is None:
            self.summary.skip("Observation", "laboratory result without a LOINC code")
            return None
        quantity = data.get("valueQuantity") or {}
        value = quantity.get("value")
        text = data.get("valueString") or _concept_text(data.get("valueCodeableConcept"))
        if value is None and not text:
            self.summary.skip("Observation", "laboratory result without a value")
            return None
        try:
            number = None if value is None else Decimal(str(value)).quantize(Decimal("0.0001"))
        except InvalidOperation:
            number = None
        if number is not None and abs(number) >= 10**8:
            self.summary.skip("Observation", "laboratory value too large")
            return None
        name = loinc.get("display") or _concept_text(data.get("code")) or loinc["code"]
        order = LabOrder(
            patient=patient,
            encounter_id=self._encounter_pk(data, patient),
            test_code=loinc["code"][:20],
            test_name=name[:200],
            status="resulted",
            ordered_at=when,
            collected_at=when,
            resulted_at=_when(data.get("issued")) or when,
        )
        unit = (quantity.get("code") or quantity.get("unit") or "")[:40]
        result = LabResult(
            order=order,
            patient=patient,
            analyte=(_concept_text(data.get("code")) or name)[:200],
            value=number,
            value_text="" if number is not None else text[:200],
            unit=unit,
            flag=_LAB_FLAGS.get(_code((data.get("interpretation") or [None])[0]), ""),
            resulted_at=order.resulted_at,
        )
        return order, result, data["id"]


_BP_FIELDS = {code: field for field, (code, _) in mappers.BP_PARTS.items()}
_VITAL_KEYS = {code: key for key, (code, _) in mappers.VITAL_LOINC.items()}
_VITAL_KEYS |= {"59408-5": "spo2", "8331-1": "temperature", "39156-5": "bmi"}
_UNITS = {sign.field: sign.unit for sign in VITAL_SIGNS} | {"bmi": "kg/m2"}
_LAB_FLAGS = {"N": "normal", "L": "low", "LL": "critical", "H": "high", "HH": "critical",
              "A": "high", "AA": "critical"}  # fmt: skip
# (unit we store, unit given) -> factor, or a function for temperatures
_CONVERSIONS = {
    ("Cel", "[degF]"): lambda v: (v - 32) * 5 / 9,
    ("kg", "g"): lambda v: v / 1000,
    ("kg", "[lb_av]"): lambda v: v * Decimal("0.45359237"),
    ("cm", "m"): lambda v: v * 100,
    ("cm", "[in_i]"): lambda v: v * Decimal("2.54"),
    ("/min", "{beats}/min"): lambda v: v,
    ("/min", "{breaths}/min"): lambda v: v,
    ("kg/m2", "kg/m^2"): lambda v: v,
}


def _in_unit(quantity: dict | None, unit: str) -> Decimal | None:
    """The quantity's value in our UCUM unit, rounded as we store it; None if unreadable."""
    if not quantity or quantity.get("value") is None:
        return None
    try:
        value = Decimal(str(quantity["value"]))
    except InvalidOperation:
        return None
    given = quantity.get("code") or quantity.get("unit") or unit
    if given != unit:
        convert = _CONVERSIONS.get((unit, given))
        if convert is None:
            return None
        value = Decimal(convert(value))
    places = Decimal("0.1") if unit in ("Cel", "kg", "cm", "kg/m2") else Decimal(1)
    return value.quantize(places, ROUND_HALF_UP)


def _vitals_problem(values: dict) -> str:
    """Why the database would refuse this set (values no living person has), or ""."""
    for sign in VITAL_SIGNS:
        value = values.get(sign.field)
        if value is not None and not (sign.low <= value <= sign.high):
            return f"{sign.label} {value} is not possible"
    bmi = values.get("bmi")
    if bmi is not None and not (0 < bmi < 1000):
        return f"BMI {bmi} is not possible"
    systolic, diastolic = values.get("systolic_mmhg"), values.get("diastolic_mmhg")
    if systolic is not None and diastolic is not None and systolic <= diastolic:
        return "diastolic pressure not below systolic"
    return ""
