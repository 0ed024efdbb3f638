"""Read and search, per resource type: which rows a user may see, the search parameters, and
the mapper that turns a row into a resource.

Reads of one record go through the owning app's access-checked selector
(`patient_get_for_user`, `record_get_for_user`, `appointment_get_for_user`), which audits the
read (or the refusal) with the patient. A search's rows are restricted the same way (a patient
sees only their own compartment) and every patient shown leaves an audit row, written in one
batch (`audit_record_patients`).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from operator import attrgetter

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet, prefetch_related_objects
from django.utils import timezone

from hms.accounts.models import User
from hms.clinical.models import Allergy, Diagnosis, Encounter, LabResult, Prescription, Vitals
from hms.clinical.selectors import Area, is_portal_user, record_get_for_user
from hms.clinical.selectors import may_read as may_read_area
from hms.core.audit import audit_record, audit_record_patients
from hms.core.errors import NotFound
from hms.core.models import Department
from hms.core.permissions import STAFF_ROLES
from hms.core.selectors import hospital_get
from hms.fhir import mappers
from hms.fhir.params import BadParam, count_and_offset, date_range, reference_id, token
from hms.fhir.rendering import Rendered, render_cached
from hms.patients.models import Patient, PatientIdentifier, PatientNameToken, PatientPhoneToken
from hms.patients.normalize import digits, fold, phone_query_keys
from hms.patients.search import patient_refs_for_mrn
from hms.patients.selectors import (
    can_view_patient,
    patient_access_refused,
    patient_get_for_user,
    patient_of_user,
)
from hms.scheduling.models import Appointment, Schedule
from hms.scheduling.selectors import appointment_get_for_user, appointments_visible_to
from hms.scheduling.slots import free_slots


@dataclass
class Page:
    resources: list  # fhir.resources objects (or, for patients, Rendered JSON), in order
    has_next: bool
    patients: list = field(default_factory=list)  # patient ids shown, for the audit trail


@dataclass
class SearchParam:
    name: str
    type: str  # FHIR search parameter type, for the CapabilityStatement
    doc: str


@dataclass
class ResourceType:
    name: str
    read: Callable  # (user, id) -> resource
    search: Callable  # (user, params, count, offset) -> Page
    params: list[SearchParam]
    patient_ref: Callable | None = None  # resource -> patient id (for _include)


def _uuid(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise NotFound("Not found.") from None


def _int_id(value) -> int:
    text = str(value)
    if not text.isdigit() or len(text) > 18:
        raise NotFound("Not found.")
    return int(text)


def _page(rows: list, count: int, mapper) -> tuple[list, bool]:
    return [mapper(row) for row in rows[:count]], len(rows) > count


def _slice(qs: QuerySet, count: int, offset: int) -> list:
    return list(qs[offset : offset + count + 1])


def _audit_directory(user, kind: str, action: str, object_id: str = "", details=None) -> None:
    audit_record(
        action=f"fhir.{kind.lower()}.{action}",
        actor=user,
        object_type=f"fhir.{kind.lower()}",
        object_id=object_id,
        details=details,
    )


def audit_search(user, kind: str, page: Page, params: dict) -> None:
    """One audit row per patient shown (one insert), or one row naming the search."""
    details = {"params": {k: v for k, v in params.items()}, "count": len(page.resources)}
    if page.patients:
        audit_record_patients(
            action=f"fhir.{kind.lower()}.search",
            actor=user,
            patients=page.patients,
            details=details,
        )
    else:
        _audit_directory(user, kind, "search", details=details)


# --- Patient -------------------------------------------------------------------------------


def _patients_visible(user) -> QuerySet[Patient]:
    qs = Patient.objects.prefetch_related(mappers.PATIENT_IDENTIFIERS)
    if is_portal_user(user):
        own = patient_of_user(user)
        return qs.filter(pk=own.pk) if own is not None else qs.none()
    return qs


_PATIENT_ROW = attrgetter(*(f.attname for f in Patient._meta.concrete_fields))


def _patient_inputs(patient: Patient) -> tuple:
    """Everything `mappers.patient_to_fhir` reads: the row, the MRN as shown (worked out by the
    patients app's code) and the identifiers (prefetched)."""
    identifiers = tuple(
        (i.system, i.system_uri, i.value) for i in mappers.patient_identifiers(patient)
    )
    return _PATIENT_ROW(patient), patient.mrn_display, identifiers


def _patients_rendered(patients: list[Patient]) -> list[Rendered]:
    return render_cached("Patient", patients, _patient_inputs, mappers.patient_to_fhir)


def patient_read(user, pk) -> Rendered:
    # The selector checks access (a patient reads only their own record) and audits the read.
    patient = patient_get_for_user(user=user, patient_id=pk, action="fhir.patient.read")
    prefetch_related_objects([patient], mappers.PATIENT_IDENTIFIERS)
    return _patients_rendered([patient])[0]


def patients_read_many(user, refs: list[str]) -> list[Rendered]:
    """The patients a page refers to (`_include`), as `patient_read` gives each one, in three
    queries however many: each read audited (one insert), each refusal too, the rest left out."""
    wanted = list(dict.fromkeys(refs))
    rows = Patient.objects.prefetch_related(mappers.PATIENT_IDENTIFIERS).in_bulk(
        [_safe_uuid(ref) for ref in wanted]
    )
    shown = []
    for ref in wanted:
        patient = rows.get(_safe_uuid(ref))
        if patient is None or not can_view_patient(user, patient):
            patient_access_refused(user=user, patient_id=ref, action="fhir.patient.read")
            continue
        shown.append(patient)
    if not shown:
        return []
    audit_record_patients(action="fhir.patient.read", actor=user, patients=shown)
    return _patients_rendered(shown)


def _prefix(field_name: str, prefix: str) -> Q:
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(**{f"{field_name}__gte": prefix, f"{field_name}__lt": upper})


def patient_search(user, params: dict, count: int, offset: int) -> Page:
    qs = _patients_visible(user).filter(merged_into__isnull=True)
    for name, values in params.items():
        for value in values:
            if name == "_id":
                qs = qs.filter(pk__in=[_safe_uuid(v) for v in value.split(",")])
            elif name == "identifier":
                system, code = token(value)
                if system == mappers.MRN_SYSTEM or system is None:
                    by_mrn = Q(pk__in=patient_refs_for_mrn(code)) if code else Q(pk__in=[])
                else:
                    by_mrn = Q(pk__in=[])
                others = PatientIdentifier.objects.filter(value=code)
                if system:
                    others = others.filter(system_uri=system)
                qs = qs.filter(by_mrn | Q(pk__in=others.values("patient_id")))
            elif name in ("name", "given", "family"):
                words = fold(value).split()
                if not words:
                    raise BadParam(f"{name}: give at least one letter.")
                for word in words:
                    if name == "family":
                        qs = qs.filter(_prefix("search_family", word))
                    elif name == "given":
                        tokens = PatientNameToken.objects.filter(_prefix("token", word))
                        qs = qs.filter(pk__in=tokens.values("patient_id")).filter(
                            given_name__istartswith=word[:1]
                        )
                    else:
                        tokens = PatientNameToken.objects.filter(_prefix("token", word))
                        qs = qs.filter(pk__in=tokens.values("patient_id"))
            elif name == "birthdate":
                qs = qs.filter(date_range(name, value).q_date("birth_date"))
            elif name == "gender":
                if value not in ("male", "female", "other", "unknown"):
                    raise BadParam(f"gender: {value!r} is not male, female, other or unknown.")
                qs = qs.filter(sex=value)
            elif name == "phone":
                keys = [k for k in phone_query_keys(value) if k]
                if not keys or len(digits(value)) < 4:
                    raise BadParam("phone: give at least four digits.")
                condition = Q()
                for key in keys:
                    condition |= _prefix("token", key)
                phones = PatientPhoneToken.objects.filter(condition)
                qs = qs.filter(pk__in=phones.values("patient_id"))
            else:
                raise BadParam(f"Patient: the search parameter {name!r} is not supported.")
    rows = _slice(qs.order_by("family_name", "given_name", "pk"), count, offset)
    shown = rows[:count]
    return Page(_patients_rendered(shown), len(rows) > count, [p.pk for p in shown])


def _safe_uuid(value):
    try:
        return uuid.UUID(value)
    except ValueError:
        return uuid.UUID(int=0)


PATIENT_PARAMS = [
    SearchParam("_id", "token", "The patient's id"),
    SearchParam("identifier", "token", f"MRN ({mappers.MRN_SYSTEM}) or another identifier"),
    SearchParam("name", "string", "Any name word, prefix, accents and case ignored"),
    SearchParam("family", "string", "Family name, prefix"),
    SearchParam("given", "string", "Given name word, prefix"),
    SearchParam("birthdate", "date", "Date of birth, with eq/ge/le/gt/lt"),
    SearchParam("gender", "token", "male | female | other | unknown"),
    SearchParam("phone", "token", "A phone number or its last digits (four at least)"),
]


# --- Clinical record -------------------------------------------------------------------------


def _own_patient_filter(user, qs: QuerySet) -> QuerySet:
    """A patient's searches stay inside their compartment."""
    if is_portal_user(user):
        own = patient_of_user(user)
        return qs.filter(patient=own) if own is not None else qs.none()
    return qs


def _patient_param(qs: QuerySet, name: str, value: str) -> QuerySet:
    return qs.filter(patient_id=_safe_uuid(reference_id(name, value, "Patient")))


def _code_filter(qs: QuerySet, value: str, system_field: str | None, code_field: str):
    condition = Q()
    for one in value.split(","):
        system, code = token(one)
        part = Q(**{code_field: code})
        if system and system_field:
            part &= Q(**{system_field: system})
        condition |= part
    return qs.filter(condition)


def _clinical_search(
    *,
    kind: str,
    qs: QuerySet,
    user,
    params: dict,
    count: int,
    offset: int,
    date_field: str,
    mapper,
    order: str,
    code: tuple[str | None, str] | None = None,
    statuses: dict[str, str] | None = None,
    extra: Callable | None = None,
) -> Page:
    qs = _own_patient_filter(user, qs)
    for name, values in params.items():
        for value in values:
            if name in ("patient", "subject"):
                qs = _patient_param(qs, name, value)
            elif name == "_id":
                qs = qs.filter(pk__in=[_safe_uuid(v) for v in value.split(",")])
            elif name == "date":
                qs = qs.filter(date_range(name, value).q(date_field))
            elif name == "code" and code is not None:
                qs = _code_filter(qs, value, code[0], code[1])
            elif name in ("status", "clinical-status") and statuses is not None:
                wanted = [statuses.get(v) for v in value.split(",")]
                qs = qs.filter(status__in=[w for w in wanted if w])
            elif name == "encounter" and kind != "Encounter":
                qs = qs.filter(encounter_id=_safe_uuid(reference_id(name, value, "Encounter")))
            elif extra is not None and extra(name) is not None:
                qs = extra(name)(qs, value)
            else:
                raise BadParam(f"{kind}: the search parameter {name!r} is not supported.")
    rows = _slice(qs.order_by(order, "pk"), count, offset)
    resources, more = _page(rows, count, mapper)
    return Page(resources, more, [r.patient_id for r in rows[:count]])


def _area_or_empty(user, area: Area, qs: QuerySet) -> QuerySet:
    return qs if may_read_area(user, area) else qs.none()


def encounter_read(user, pk):
    row = record_get_for_user(
        user=user, model=Encounter, pk=_uuid(pk), action="fhir.encounter.read"
    )
    return mappers.encounter_to_fhir(row)


_ENCOUNTER_STATUS = {"arrived": "opened", "in-progress": "in_progress", "finished": "closed"}


def _encounter_class(name):
    if name != "class":
        return None
    codes = {code: kind for kind, (code, _) in mappers.ENCOUNTER_CLASS.items()}
    return lambda qs, value: qs.filter(kind__in=[codes.get(token(v)[1]) for v in value.split(",")])


def encounter_search(user, params, count, offset) -> Page:
    qs = _area_or_empty(user, Area.CLINICAL, Encounter.objects.all())
    return _clinical_search(
        kind="Encounter",
        qs=qs,
        user=user,
        params=params,
        count=count,
        offset=offset,
        date_field="started_at",
        mapper=mappers.encounter_to_fhir,
        order="-started_at",
        statuses=_ENCOUNTER_STATUS,
        extra=_encounter_class,
    )


def condition_read(user, pk):
    row = record_get_for_user(
        user=user, model=Diagnosis, pk=_uuid(pk), action="fhir.condition.read"
    )
    return mappers.condition_to_fhir(row)


def _condition_category(name):
    if name != "category":
        return None

    def apply(qs, value):
        wanted = {token(v)[1] for v in value.split(",")}
        condition = Q(pk__in=[])
        if "encounter-diagnosis" in wanted:
            condition |= Q(encounter__isnull=False)
        if "problem-list-item" in wanted:
            condition |= Q(encounter__isnull=True)
        return qs.filter(condition)

    return apply


def condition_search(user, params, count, offset) -> Page:
    qs = _area_or_empty(user, Area.CLINICAL, Diagnosis.objects.all())
    return _clinical_search(
        kind="Condition",
        qs=qs,
        user=user,
        params=params,
        count=count,
        offset=offset,
        date_field="recorded_at",
        mapper=mappers.condition_to_fhir,
        order="-recorded_at",
        code=("code_system", "code"),
        statuses={"active": "active", "inactive": "inactive", "resolved": "resolved"},
        extra=_condition_category,
    )


def allergy_read(user, pk):
    row = record_get_for_user(
        user=user, model=Allergy, pk=_uuid(pk), action="fhir.allergyintolerance.read"
    )
    return mappers.allergy_to_fhir(row)


def _allergy_extra(name):
    if name == "category":
        return lambda qs, value: qs  # every allergy we record may be any category
    if name == "type":
        return lambda qs, value: qs.filter(is_intolerance=(value == "intolerance"))
    return None


def allergy_search(user, params, count, offset) -> Page:
    qs = _area_or_empty(user, Area.MEDICATION, Allergy.objects.all())
    return _clinical_search(
        kind="AllergyIntolerance",
        qs=qs,
        user=user,
        params=params,
        count=count,
        offset=offset,
        date_field="recorded_at",
        mapper=mappers.allergy_to_fhir,
        order="-recorded_at",
        code=(None, "substance__iexact"),
        statuses={"active": "active", "inactive": "inactive", "resolved": "resolved"},
        extra=_allergy_extra,
    )


def prescription_read(user, pk):
    row = record_get_for_user(
        user=user, model=Prescription, pk=_uuid(pk), action="fhir.medicationrequest.read"
    )
    return mappers.prescription_to_fhir(row)


def prescription_search(user, params, count, offset) -> Page:
    qs = _area_or_empty(user, Area.MEDICATION, Prescription.objects.all())
    return _clinical_search(
        kind="MedicationRequest",
        qs=qs,
        user=user,
        params=params,
        count=count,
        offset=offset,
        date_field="prescribed_at",
        mapper=mappers.prescription_to_fhir,
        order="-prescribed_at",
        code=(None, "drug_code"),
        statuses={"active": "active", "completed": "completed", "stopped": "stopped"},
        extra=lambda name: (lambda qs, value: qs) if name == "intent" else None,
    )


# --- Observation: vital signs (one per sign of a set of vitals) and laboratory results -----


def _vital_key(pk: str) -> tuple[uuid.UUID, str]:
    text = str(pk)
    if len(text) <= 37 or text[36] != "-":
        raise NotFound("Not found.")
    key = text[37:].replace("-", "_")
    if key not in (*mappers.VITAL_FIELDS, "bp"):
        raise NotFound("Not found.")
    return _uuid(text[:36]), key


def observation_read(user, pk):
    text = str(pk)
    if len(text) == 36:
        row = record_get_for_user(
            user=user,
            model=LabResult,
            pk=_uuid(text),
            action="fhir.observation.read",
            queryset=LabResult.objects.select_related("order"),
        )
        return mappers.lab_result_to_fhir(row)
    vitals_id, key = _vital_key(text)
    row = record_get_for_user(user=user, model=Vitals, pk=vitals_id, action="fhir.observation.read")
    for observation in mappers.vitals_to_fhir(row):
        if observation.id == text:
            return observation
    raise NotFound("Not found.")


# LOINC code -> the vital sign it is (BP components answer with the panel).
_VITAL_BY_LOINC = {code: key for key, (code, _) in mappers.VITAL_LOINC.items()}
_VITAL_BY_LOINC |= {mappers.BP_PANEL[0]: "bp", "8480-6": "bp", "8462-4": "bp"}


def observation_search(user, params, count, offset) -> Page:
    vitals = _own_patient_filter(user, _area_or_empty(user, Area.CLINICAL, Vitals.objects.all()))
    labs = LabResult.objects.select_related("order").filter(is_current=True)
    labs = _own_patient_filter(user, _area_or_empty(user, Area.LABS, labs))
    if is_portal_user(user):
        labs = labs.filter(released_to_patient=True)
    wanted_keys: set[str] | None = None
    for name, values in params.items():
        for value in values:
            if name in ("patient", "subject"):
                vitals, labs = (
                    _patient_param(vitals, name, value),
                    _patient_param(labs, name, value),
                )
            elif name == "category":
                wanted = {token(v)[1] for v in value.split(",")}
                if "vital-signs" not in wanted:
                    vitals = vitals.none()
                if "laboratory" not in wanted:
                    labs = labs.none()
            elif name == "date":
                span = date_range(name, value)
                vitals = vitals.filter(span.q("recorded_at"))
                labs = labs.filter(span.q("resulted_at"))
            elif name == "code":
                codes = {token(v)[1] for v in value.split(",")}
                keys = {_VITAL_BY_LOINC[c] for c in codes if c in _VITAL_BY_LOINC}
                wanted_keys = keys if wanted_keys is None else wanted_keys & keys
                if keys:
                    fields = [mappers.VITAL_FIELDS.get(k) for k in keys if k != "bp"]
                    if "bp" in keys:
                        fields += ["systolic_mmhg", "diastolic_mmhg"]
                    condition = Q(pk__in=[])
                    for f in fields:
                        condition |= Q(**{f"{f}__isnull": False})
                    vitals = vitals.filter(condition)
                else:
                    vitals = vitals.none()
                labs = labs.filter(order__test_code__in=codes)
            elif name == "status":
                wanted = set(value.split(","))
                if "final" not in wanted:
                    vitals = vitals.none()
                    labs = (
                        labs.filter(corrects__isnull=False)
                        if "corrected" in wanted
                        else labs.none()
                    )
                elif "corrected" not in wanted:
                    labs = labs.filter(corrects__isnull=True)
            elif name == "encounter":
                ref = _safe_uuid(reference_id(name, value, "Encounter"))
                vitals, labs = vitals.filter(encounter_id=ref), labs.filter(order__encounter_id=ref)
            else:
                raise BadParam(f"Observation: the search parameter {name!r} is not supported.")
    # Each row gives at least one Observation, so this many rows of each cover the page.
    need = offset + count + 1
    found = []
    for row in vitals.order_by("-recorded_at", "pk")[:need]:
        for observation in mappers.vitals_to_fhir(row):
            key = observation.id[37:].replace("-", "_")
            if wanted_keys is None or key in wanted_keys:
                found.append((row.recorded_at, observation, row.patient_id))
    for row in labs.order_by("-resulted_at", "pk")[:need]:
        found.append((row.resulted_at, mappers.lab_result_to_fhir(row), row.patient_id))
    found.sort(key=lambda item: item[0], reverse=True)
    window = found[offset : offset + count + 1]
    return Page(
        [obs for _, obs, _ in window[:count]],
        len(window) > count,
        [patient for _, _, patient in window[:count]],
    )


# --- Scheduling -------------------------------------------------------------------------------


def appointment_read(user, pk):
    row = appointment_get_for_user(user=user, appointment_id=pk, action="fhir.appointment.read")
    return mappers.appointment_to_fhir(row)


_APPOINTMENT_STATUS: dict[str, list[str]] = {}
for _ours, _theirs in Appointment.FHIR_STATUS.items():
    _APPOINTMENT_STATUS.setdefault(_theirs, []).append(str(_ours))


def appointment_search(user, params, count, offset) -> Page:
    qs = appointments_visible_to(user)
    for name, values in params.items():
        for value in values:
            if name in ("patient", "actor") and (name == "patient" or "Patient/" in value):
                qs = _patient_param(qs, name, value)
            elif name in ("practitioner", "actor"):
                qs = qs.filter(
                    practitioner_id=_int_or_none(reference_id(name, value, "Practitioner"))
                )
            elif name == "date":
                qs = qs.filter(date_range(name, value).q("start"))
            elif name == "status":
                ours = [s for v in value.split(",") for s in _APPOINTMENT_STATUS.get(v, [])]
                qs = qs.filter(status__in=ours)
            elif name == "location":
                qs = qs.filter(department_id=_int_or_none(reference_id(name, value, "Location")))
            elif name == "_id":
                qs = qs.filter(pk__in=[_safe_uuid(v) for v in value.split(",")])
            else:
                raise BadParam(f"Appointment: the search parameter {name!r} is not supported.")
    rows = _slice(qs.order_by("start", "pk"), count, offset)
    resources, more = _page(rows, count, mappers.appointment_to_fhir)
    return Page(resources, more, [a.patient_id for a in rows[:count]])


def _int_or_none(value: str) -> int:
    return int(value) if value.isdigit() and len(value) < 18 else -1


def _schedules() -> QuerySet[Schedule]:
    return Schedule.objects.select_related("practitioner", "department")


def schedule_read(user, pk):
    row = _schedules().filter(pk=_int_id(pk)).first()
    if row is None:
        raise NotFound("Not found.")
    _audit_directory(user, "Schedule", "read", str(row.pk))
    return mappers.schedule_to_fhir(row)


def schedule_search(user, params, count, offset) -> Page:
    qs = _schedules()
    for name, values in params.items():
        for value in values:
            if name == "actor":
                kind = "Location" if "Location/" in value else "Practitioner"
                ref = _int_or_none(reference_id(name, value, kind))
                qs = qs.filter(
                    **{"department_id" if kind == "Location" else "practitioner_id": ref}
                )
            elif name == "active":
                qs = qs.filter(is_active=value == "true")
            elif name == "_id":
                qs = qs.filter(pk__in=[_int_or_none(v) for v in value.split(",")])
            else:
                raise BadParam(f"Schedule: the search parameter {name!r} is not supported.")
    rows = _slice(qs.order_by("pk"), count, offset)
    return Page(*_page(rows, count, mappers.schedule_to_fhir))


SLOT_DAYS = 31


def _slot_parts(pk: str):
    practitioner, _, when = str(pk).partition(".")
    from datetime import datetime

    try:
        start = datetime.strptime(when, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.UTC)
    except ValueError:
        raise NotFound("Not found.") from None
    return _int_id(practitioner), start


def slot_read(user, pk):
    practitioner_id, start = _slot_parts(pk)
    schedule = Schedule.objects.filter(practitioner_id=practitioner_id).first()
    slots = free_slots(
        start=start, end=start + timedelta(hours=12), practitioner_ids=[practitioner_id]
    )
    slot = next((s for s in slots if s.slot_id == str(pk)), None)
    if slot is None or schedule is None:
        raise NotFound("This slot is not free (or does not exist).")
    _audit_directory(user, "Slot", "read", str(pk))
    return mappers.slot_to_fhir(slot, schedule.pk)


def slot_search(user, params, count, offset) -> Page:
    practitioner_ids = None
    now = timezone.now()
    start, end = now, now + timedelta(days=7)
    for name, values in params.items():
        for value in values:
            if name == "schedule":
                ref = _int_or_none(reference_id(name, value, "Schedule"))
                ids = list(
                    Schedule.objects.filter(pk=ref).values_list("practitioner_id", flat=True)
                )
                practitioner_ids = (
                    ids if practitioner_ids is None else [i for i in practitioner_ids if i in ids]
                )
            elif name == "start":
                span = date_range(name, value)
                if span.prefix in ("ge", "gt", "sa"):
                    start = max(start, span.start if span.prefix == "ge" else span.end)
                elif span.prefix in ("le", "lt", "eb"):
                    end = span.end if span.prefix == "le" else span.start
                elif span.prefix == "eq":
                    start, end = max(span.start, now), span.end
                else:
                    raise BadParam("start: use eq, ge, gt, le or lt.")
            elif name == "status":
                if set(value.split(",")) - {"free", "busy"}:
                    raise BadParam("status: only free slots are published (status=free).")
                if "free" not in value.split(","):
                    return Page([], False)
            else:
                raise BadParam(f"Slot: the search parameter {name!r} is not supported.")
    if end - start > timedelta(days=SLOT_DAYS):
        end = start + timedelta(days=SLOT_DAYS)
    slots = free_slots(start=start, end=end, practitioner_ids=practitioner_ids)
    schedule_of = dict(
        Schedule.objects.filter(practitioner_id__in={s.practitioner_id for s in slots}).values_list(
            "practitioner_id", "pk"
        )
    )
    window = slots[offset : offset + count + 1]
    resources = [mappers.slot_to_fhir(s, schedule_of[s.practitioner_id]) for s in window[:count]]
    return Page(resources, len(window) > count)


# --- Directory: practitioners, the hospital, its departments ----------------------------------


def _staff() -> QuerySet[User]:
    return User.objects.filter(role__in=[str(r) for r in STAFF_ROLES]).select_related(
        "staff_profile"
    )


def _directory_search(kind, qs, params, count, offset, mapper, filters) -> Page:
    for name, values in params.items():
        for value in values:
            if name == "_id":
                qs = qs.filter(pk__in=[_int_or_none(v) for v in value.split(",")])
            elif name in filters:
                qs = filters[name](qs, value)
            else:
                raise BadParam(f"{kind}: the search parameter {name!r} is not supported.")
    rows = _slice(qs.order_by("pk"), count, offset)
    return Page(*_page(rows, count, mapper))


def _name_words(fields: tuple[str, ...]):
    def apply(qs, value):
        for word in value.split():
            condition = Q()
            for f in fields:
                condition |= Q(**{f"{f}__istartswith": word})
            qs = qs.filter(condition)
        return qs

    return apply


def practitioner_read(user, pk):
    row = _staff().filter(pk=_int_id(pk)).first()
    if row is None:
        raise NotFound("Not found.")
    _audit_directory(user, "Practitioner", "read", str(row.pk))
    return mappers.practitioner_to_fhir(row)


def practitioner_search(user, params, count, offset) -> Page:
    return _directory_search(
        "Practitioner",
        _staff(),
        params,
        count,
        offset,
        mappers.practitioner_to_fhir,
        {
            "name": _name_words(("given_name", "family_name")),
            "family": _name_words(("family_name",)),
            "given": _name_words(("given_name",)),
            "active": lambda qs, v: qs.filter(is_active=v == "true"),
        },
    )


def practitioner_role_read(user, pk):
    row = _staff().filter(pk=_int_id(pk)).first()
    if row is None:
        raise NotFound("Not found.")
    _audit_directory(user, "PractitionerRole", "read", str(row.pk))
    return mappers.practitioner_role_to_fhir(row, hospital_get())


def practitioner_role_search(user, params, count, offset) -> Page:
    hospital = hospital_get()

    def practitioner(qs, value):
        return qs.filter(pk=_int_or_none(reference_id("practitioner", value, "Practitioner")))

    return _directory_search(
        "PractitionerRole",
        _staff(),
        params,
        count,
        offset,
        lambda u: mappers.practitioner_role_to_fhir(u, hospital),
        {
            "practitioner": practitioner,
            "specialty": lambda qs, v: qs.filter(staff_profile__specialty__iexact=token(v)[1]),
            "location": lambda qs, v: qs.filter(
                staff_profile__department_id=_int_or_none(reference_id("location", v, "Location"))
            ),
        },
    )


def organization_read(user, pk):
    hospital = hospital_get()
    if hospital is None or str(hospital.pk) != str(pk):
        raise NotFound("Not found.")
    _audit_directory(user, "Organization", "read", str(hospital.pk))
    return mappers.organization_to_fhir(hospital)


def organization_search(user, params, count, offset) -> Page:
    hospital = hospital_get()
    for name, values in params.items():
        for value in values:
            if name == "_id":
                hospital = hospital if hospital and str(hospital.pk) in value.split(",") else None
            elif name == "name":
                hospital = hospital if hospital and value.lower() in hospital.name.lower() else None
            else:
                raise BadParam(f"Organization: the search parameter {name!r} is not supported.")
    rows = [hospital] if hospital is not None and offset == 0 and count else []
    return Page([mappers.organization_to_fhir(h) for h in rows], False)


def location_read(user, pk):
    row = Department.objects.filter(pk=_int_id(pk)).first()
    if row is None:
        raise NotFound("Not found.")
    _audit_directory(user, "Location", "read", str(row.pk))
    return mappers.location_to_fhir(row, hospital_get())


def location_search(user, params, count, offset) -> Page:
    hospital = hospital_get()
    return _directory_search(
        "Location",
        Department.objects.all(),
        params,
        count,
        offset,
        lambda d: mappers.location_to_fhir(d, hospital),
        {
            "name": lambda qs, v: qs.filter(name__icontains=v),
            "status": lambda qs, v: qs.filter(is_active=v == "active"),
        },
    )


# --- The registry ------------------------------------------------------------------------------

_CLINICAL_PARAMS = [
    SearchParam("patient", "reference", "The patient (Patient/<id>)"),
    SearchParam("date", "date", "When, with eq/ge/le/gt/lt"),
    SearchParam("_id", "token", "The resource's id"),
]


def _subject(resource):
    ref = getattr(resource, "subject", None) or getattr(resource, "patient", None)
    return ref.reference.split("/", 1)[1] if ref is not None and ref.reference else None


def _appointment_patient(resource):
    for participant in resource.participant:
        ref = participant.actor.reference if participant.actor else ""
        if ref and ref.startswith("Patient/"):
            return ref.split("/", 1)[1]
    return None


TYPES: dict[str, ResourceType] = {
    t.name: t
    for t in [
        ResourceType("Patient", patient_read, patient_search, PATIENT_PARAMS),
        ResourceType(
            "Practitioner",
            practitioner_read,
            practitioner_search,
            [
                SearchParam("name", "string", "Name word, prefix"),
                SearchParam("family", "string", "Family name, prefix"),
                SearchParam("given", "string", "Given name, prefix"),
                SearchParam("active", "token", "true | false"),
            ],
        ),
        ResourceType(
            "PractitionerRole",
            practitioner_role_read,
            practitioner_role_search,
            [
                SearchParam("practitioner", "reference", "The practitioner"),
                SearchParam("specialty", "token", "Specialty (text)"),
                SearchParam("location", "reference", "The department"),
            ],
        ),
        ResourceType(
            "Organization",
            organization_read,
            organization_search,
            [SearchParam("name", "string", "Part of the name")],
        ),
        ResourceType(
            "Location",
            location_read,
            location_search,
            [
                SearchParam("name", "string", "Part of the name"),
                SearchParam("status", "token", "active | inactive"),
            ],
        ),
        ResourceType(
            "Encounter",
            encounter_read,
            encounter_search,
            [
                *_CLINICAL_PARAMS,
                SearchParam("status", "token", "arrived | in-progress | finished"),
                SearchParam("class", "token", "AMB | IMP | EMER"),
            ],
            _subject,
        ),
        ResourceType(
            "Observation",
            observation_read,
            observation_search,
            [
                *_CLINICAL_PARAMS,
                SearchParam("code", "token", "LOINC code"),
                SearchParam("category", "token", "vital-signs | laboratory"),
                SearchParam("status", "token", "final | corrected"),
                SearchParam("encounter", "reference", "The encounter"),
            ],
            _subject,
        ),
        ResourceType(
            "Condition",
            condition_read,
            condition_search,
            [
                *_CLINICAL_PARAMS,
                SearchParam("code", "token", "ICD-10-CM (or SNOMED CT) code"),
                SearchParam("clinical-status", "token", "active | inactive | resolved"),
                SearchParam("category", "token", "encounter-diagnosis | problem-list-item"),
                SearchParam("encounter", "reference", "The encounter"),
            ],
            _subject,
        ),
        ResourceType(
            "AllergyIntolerance",
            allergy_read,
            allergy_search,
            [
                *_CLINICAL_PARAMS,
                SearchParam("code", "token", "The substance (text)"),
                SearchParam("clinical-status", "token", "active | inactive | resolved"),
                SearchParam("type", "token", "allergy | intolerance"),
                SearchParam("category", "token", "accepted, not filtered"),
            ],
            _subject,
        ),
        ResourceType(
            "MedicationRequest",
            prescription_read,
            prescription_search,
            [
                *_CLINICAL_PARAMS,
                SearchParam("code", "token", "RxNorm code"),
                SearchParam("status", "token", "active | completed | stopped"),
                SearchParam("intent", "token", "order"),
                SearchParam("encounter", "reference", "The encounter"),
            ],
            _subject,
        ),
        ResourceType(
            "Appointment",
            appointment_read,
            appointment_search,
            [
                SearchParam("patient", "reference", "The patient"),
                SearchParam("practitioner", "reference", "The practitioner"),
                SearchParam("actor", "reference", "Patient or practitioner"),
                SearchParam("location", "reference", "The department"),
                SearchParam("date", "date", "Start, with eq/ge/le/gt/lt"),
                SearchParam("status", "token", "booked | arrived | fulfilled | cancelled | noshow"),
                SearchParam("_id", "token", "The appointment's id"),
            ],
            _appointment_patient,
        ),
        ResourceType(
            "Schedule",
            schedule_read,
            schedule_search,
            [
                SearchParam("actor", "reference", "Practitioner or Location"),
                SearchParam("active", "token", "true | false"),
            ],
        ),
        ResourceType(
            "Slot",
            slot_read,
            slot_search,
            [
                SearchParam("schedule", "reference", "The schedule"),
                SearchParam("start", "date", "Start, with eq/ge/gt/le/lt (31 days at most)"),
                SearchParam("status", "token", "free (only free slots are published)"),
            ],
        ),
    ]
}


def search_page(user, resource_type: ResourceType, raw_params) -> tuple[Page, int, int]:
    """Parse `_count`/`_offset`, run the type's search; the others are its own parameters."""
    count, offset = count_and_offset(raw_params, settings.FHIR_MAX_COUNT)
    params = {
        name: [v for v in raw_params.getlist(name)]
        for name in raw_params
        if name not in ("_count", "_offset", "_format", "_include", "_total", "_summary")
    }
    for name, values in params.items():
        if any(len(v) > 200 for v in values):
            raise BadParam(f"{name}: the value is too long.")
    try:
        page = resource_type.search(user, params, count, offset)
    except ValidationError as exc:
        raise BadParam("; ".join(exc.messages)) from None
    except (ValueError, OverflowError) as exc:
        raise BadParam(str(exc)[:200]) from None
    return page, count, offset
