"""Our records as FHIR R4 resources (`fhir.resources`, R4B models): functions from our models to
resource objects, so there is no second copy of any record. Every function builds a validated
model (pydantic refuses an invalid resource at construction).

Ids: a resource's id is our row's primary key, except
- vital signs: one set of vitals (`Vitals`) is one Observation per sign, `<vitals id>-<sign>`
  (blood pressure is one panel, `<vitals id>-bp`, with systolic and diastolic components);
- Slot: a computed free slot, `<practitioner id>.<start as UTC>`;
- PractitionerRole: the staff member's user id, like their Practitioner.

`meta.versionId` is the row's `updated_at` in microseconds: it changes whenever the row does
(we keep no history, so only the current version can be read).
"""

import re
from datetime import datetime
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone
from fhir.resources.R4B.allergyintolerance import AllergyIntolerance as FhirAllergy
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.condition import Condition as FhirCondition
from fhir.resources.R4B.encounter import Encounter as FhirEncounter
from fhir.resources.R4B.location import Location as FhirLocation
from fhir.resources.R4B.medicationrequest import MedicationRequest as FhirMedicationRequest
from fhir.resources.R4B.observation import Observation as FhirObservation
from fhir.resources.R4B.organization import Organization as FhirOrganization
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.practitioner import Practitioner as FhirPractitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole as FhirPractitionerRole
from fhir.resources.R4B.schedule import Schedule as FhirSchedule
from fhir.resources.R4B.slot import Slot as FhirSlot

from hms.accounts.models import User
from hms.clinical.models import (
    RXNORM_SYSTEM,
    Allergy,
    Diagnosis,
    Encounter,
    EncounterKind,
    EncounterStatus,
    LabResult,
    Prescription,
    Vitals,
)
from hms.core.models import Department, Hospital
from hms.patients.models import IdentifierSystem, Patient, PatientIdentifier
from hms.scheduling.models import Appointment, Schedule
from hms.scheduling.slots import Slot

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
MRN_SYSTEM = "urn:hms:mrn"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


def version_of(updated_at: datetime | None) -> str:
    if updated_at is None:
        return "1"
    return str(int(updated_at.timestamp() * 1_000_000))


def _meta(updated_at: datetime | None) -> dict:
    moment = updated_at or timezone.now()
    return {"versionId": version_of(updated_at), "lastUpdated": _iso(moment)}


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.UTC).isoformat()


def _ref(kind: str, pk, display: str = "") -> dict:
    ref = {"reference": f"{kind}/{pk}"}
    if display:
        ref["display"] = display
    return ref


def _identifier_system(identifier) -> str:
    return identifier.system_uri or f"urn:hms:{identifier.system}"


# --- Administration: Patient, Practitioner, PractitionerRole, Organization, Location -------


# A page's identifiers in one query, as a plain list on each patient: a prefetch into the
# `identifiers` manager would also build one QuerySet per patient, which cost more CPU than the
# query itself.
PATIENT_IDENTIFIERS = Prefetch(
    "identifiers", queryset=PatientIdentifier.objects.order_by("pk"), to_attr="identifiers_in_order"
)


def patient_identifiers(patient: Patient) -> list[PatientIdentifier]:
    """The patient's other identifiers (beside the MRN), as prefetched by `PATIENT_IDENTIFIERS`,
    else read now."""
    prefetched = getattr(patient, PATIENT_IDENTIFIERS.to_attr, None)
    return prefetched if prefetched is not None else list(patient.identifiers.order_by("pk"))


# The identifier types every patient carries the same, validated once here and shared by every
# Patient built (fhir.resources takes a built element as it is; none is ever changed after).
_MRN_TYPE = CodeableConcept(coding=[{"system": V2_0203, "code": "MR"}], text="MRN")
_EXTERNAL_MRN_TYPE = CodeableConcept(coding=[{"system": V2_0203, "code": "MR"}])


def patient_to_fhir(patient: Patient) -> FhirPatient:
    """Demographics and contacts. Prefetch `PATIENT_IDENTIFIERS` (one query per page)."""
    identifiers = [
        {
            "use": "usual",
            "type": _MRN_TYPE,
            "system": MRN_SYSTEM,
            "value": patient.mrn_display,
        }
    ]
    for extra in patient_identifiers(patient):
        entry = {"system": _identifier_system(extra), "value": extra.value}
        if extra.system == IdentifierSystem.EXTERNAL_MRN:
            entry["type"] = _EXTERNAL_MRN_TYPE
        identifiers.append(entry)
    given = [patient.given_name, *patient.middle_names.split()]
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone, "use": "mobile"})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    address = {}
    if patient.address_line:
        address["line"] = [patient.address_line]
    for key, value in (
        ("city", patient.city),
        ("postalCode", patient.postal_code),
        ("country", patient.country),
    ):
        if value:
            address[key] = value
    data = {
        "id": str(patient.pk),
        "meta": _meta(patient.updated_at),
        "identifier": identifiers,
        "active": patient.is_active and patient.merged_into_id is None,
        "name": [{"use": "official", "family": patient.family_name, "given": given}],
        "gender": patient.sex,
        "birthDate": patient.birth_date.isoformat(),
        "telecom": telecom or None,
        "address": [address] if address else None,
    }
    if patient.preferred_language:
        data["communication"] = [{"language": {"text": patient.preferred_language}}]
    if patient.merged_into_id:
        data["link"] = [{"other": _ref("Patient", patient.merged_into_id), "type": "replaced-by"}]
    return FhirPatient(**data)


def _user_updated(user: User) -> datetime:
    profile = getattr(user, "staff_profile", None)
    return profile.updated_at if profile is not None else user.date_joined


def practitioner_to_fhir(user: User) -> FhirPractitioner:
    """A member of staff. `staff_profile` should be selected with the user."""
    profile = getattr(user, "staff_profile", None)
    identifier = []
    if profile is not None and profile.licence_number:
        identifier.append({"system": "urn:hms:licence", "value": profile.licence_number})
    return FhirPractitioner(
        id=str(user.pk),
        meta=_meta(_user_updated(user)),
        identifier=identifier or None,
        active=user.is_active,
        name=[{"use": "official", "family": user.family_name, "given": [user.given_name]}],
        telecom=[{"system": "email", "value": user.email, "use": "work"}],
    )


def practitioner_role_to_fhir(user: User, hospital: Hospital | None) -> FhirPractitionerRole:
    profile = getattr(user, "staff_profile", None)
    data = {
        "id": str(user.pk),
        "meta": _meta(_user_updated(user)),
        "active": user.is_active,
        "practitioner": _ref("Practitioner", user.pk, user.full_name),
        "code": [{"text": (profile.job_title if profile else "") or user.role_label}],
    }
    if hospital is not None:
        data["organization"] = _ref("Organization", hospital.pk, hospital.name)
    if profile is not None and profile.specialty:
        data["specialty"] = [{"text": profile.specialty}]
    if profile is not None and profile.department_id:
        data["location"] = [_ref("Location", profile.department_id)]
    return FhirPractitionerRole(**data)


def organization_to_fhir(hospital: Hospital) -> FhirOrganization:
    telecom = [
        {"system": system, "value": value}
        for system, value in (("phone", hospital.phone), ("email", hospital.email))
        if value
    ]
    return FhirOrganization(
        id=str(hospital.pk),
        meta=_meta(hospital.updated_at),
        active=True,
        type=[
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/organization-type",
                        "code": "prov",
                        "display": "Healthcare Provider",
                    }
                ]
            }
        ],
        name=hospital.name,
        telecom=telecom or None,
        address=[{"text": hospital.address}] if hospital.address else None,
    )


def location_to_fhir(department: Department, hospital: Hospital | None) -> FhirLocation:
    data = {
        "id": str(department.pk),
        "meta": _meta(department.updated_at),
        "status": "active" if department.is_active else "inactive",
        "name": department.name,
        "description": department.description or None,
        "mode": "instance",
        "telecom": [{"system": "phone", "value": department.phone}] if department.phone else None,
    }
    if department.location:
        data["address"] = {"text": department.location}
    if hospital is not None:
        data["managingOrganization"] = _ref("Organization", hospital.pk, hospital.name)
    return FhirLocation(**data)


# --- Clinical: Encounter, Observation, Condition, AllergyIntolerance, MedicationRequest ------

ENCOUNTER_STATUS = {
    EncounterStatus.OPENED: "arrived",
    EncounterStatus.IN_PROGRESS: "in-progress",
    EncounterStatus.CLOSED: "finished",
}
ENCOUNTER_CLASS = {
    EncounterKind.OUTPATIENT: ("AMB", "ambulatory"),
    EncounterKind.INPATIENT: ("IMP", "inpatient encounter"),
    EncounterKind.EMERGENCY: ("EMER", "emergency"),
}


def encounter_to_fhir(encounter: Encounter) -> FhirEncounter:
    code, display = ENCOUNTER_CLASS[EncounterKind(encounter.kind)]
    period = {"start": _iso(encounter.started_at)}
    if encounter.ended_at:
        period["end"] = _iso(encounter.ended_at)
    data = {
        "id": str(encounter.pk),
        "meta": _meta(encounter.updated_at),
        "status": ENCOUNTER_STATUS[EncounterStatus(encounter.status)],
        "class": {"system": ACT_CODE, "code": code, "display": display},
        "subject": _ref("Patient", encounter.patient_id),
        "period": period,
    }
    if encounter.practitioner_id:
        data["participant"] = [{"individual": _ref("Practitioner", encounter.practitioner_id)}]
    elif encounter.practitioner_name:
        data["participant"] = [{"individual": {"display": encounter.practitioner_name}}]
    if encounter.reason:
        data["reasonCode"] = [{"text": encounter.reason}]
    if encounter.department_id:
        data["location"] = [{"location": _ref("Location", encounter.department_id)}]
    if encounter.appointment_id:
        data["appointment"] = [_ref("Appointment", encounter.appointment_id)]
    return FhirEncounter(**data)


# name -> (LOINC code, display); the units are the UCUM codes stored with each value.
VITAL_LOINC = {
    "temperature": ("8310-5", "Body temperature"),
    "pulse": ("8867-4", "Heart rate"),
    "respiratory_rate": ("9279-1", "Respiratory rate"),
    "spo2": ("2708-6", "Oxygen saturation in Arterial blood"),
    "weight": ("29463-7", "Body weight"),
    "height": ("8302-2", "Body height"),
    "bmi": ("39156-5", "Body mass index (BMI) [Ratio]"),
}
VITAL_FIELDS = {
    "temperature": "temperature_c",
    "pulse": "pulse_per_min",
    "respiratory_rate": "respiratory_rate_per_min",
    "spo2": "spo2_percent",
    "weight": "weight_kg",
    "height": "height_cm",
    "bmi": "bmi",
}
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
BP_PARTS = {
    "systolic_mmhg": ("8480-6", "Systolic blood pressure"),
    "diastolic_mmhg": ("8462-4", "Diastolic blood pressure"),
}
UNIT_DISPLAY = {
    "Cel": "Cel",
    "/min": "/min",
    "%": "%",
    "kg": "kg",
    "cm": "cm",
    "kg/m2": "kg/m2",
    "mm[Hg]": "mm[Hg]",
}
FLAG_CODES = {
    "low": ("L", "Low"),
    "high": ("H", "High"),
    "critical": ("AA", "Critical abnormal"),
    "normal": ("N", "Normal"),
}


def _quantity(value, unit: str) -> dict:
    number = value if isinstance(value, Decimal) else Decimal(value)
    return {"value": number, "unit": UNIT_DISPLAY.get(unit, unit), "system": UCUM, "code": unit}


def _interpretation(flag: str) -> list | None:
    if not flag or flag not in FLAG_CODES:
        return None
    code, display = FLAG_CODES[flag]
    return [{"coding": [{"system": INTERPRETATION, "code": code, "display": display}]}]


def _vital_base(vitals: Vitals, key: str, code: tuple[str, str]) -> dict:
    data = {
        "id": f"{vitals.pk}-{key.replace('_', '-')}",  # FHIR ids have no underscores
        "meta": _meta(vitals.updated_at),
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": OBSERVATION_CATEGORY,
                        "code": "vital-signs",
                        "display": "Vital Signs",
                    }
                ]
            }
        ],
        "code": {
            "coding": [{"system": LOINC, "code": code[0], "display": code[1]}],
            "text": code[1],
        },
        "subject": _ref("Patient", vitals.patient_id),
        "effectiveDateTime": _iso(vitals.recorded_at),
    }
    if vitals.encounter_id:
        data["encounter"] = _ref("Encounter", vitals.encounter_id)
    return data


def vitals_to_fhir(vitals: Vitals) -> list[FhirObservation]:
    """One Observation per sign recorded (vital-signs profile codes, UCUM units)."""
    units = vitals.units or {}
    out = []
    for key, field in VITAL_FIELDS.items():
        value = getattr(vitals, field)
        if value is None:
            continue
        data = _vital_base(vitals, key, VITAL_LOINC[key])
        unit = units.get(field) or ("kg/m2" if key == "bmi" else "")
        data["valueQuantity"] = _quantity(value, unit)
        data["interpretation"] = _interpretation((vitals.flags or {}).get(field, ""))
        out.append(FhirObservation(**data))
    if vitals.systolic_mmhg is not None or vitals.diastolic_mmhg is not None:
        data = _vital_base(vitals, "bp", BP_PANEL)
        data["component"] = [
            {
                "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
                "valueQuantity": _quantity(getattr(vitals, field), "mm[Hg]"),
                "interpretation": _interpretation((vitals.flags or {}).get(field, "")),
            }
            for field, (code, display) in BP_PARTS.items()
            if getattr(vitals, field) is not None
        ]
        out.append(FhirObservation(**data))
    return out


def vital_observation_ids(vitals: Vitals) -> list[str]:
    return [obs.id for obs in vitals_to_fhir(vitals)]


def lab_result_to_fhir(result: LabResult) -> FhirObservation:
    """A laboratory result (`order` selected with it): LOINC test code, value and range."""
    order = result.order
    if result.is_current:
        status = "corrected" if result.corrects_id else "final"
    else:
        status = "entered-in-error"  # replaced by a correction
    data = {
        "id": str(result.pk),
        "meta": _meta(result.updated_at),
        "status": status,
        "category": [
            {
                "coding": [
                    {"system": OBSERVATION_CATEGORY, "code": "laboratory", "display": "Laboratory"}
                ]
            }
        ],
        "code": {
            "coding": [{"system": LOINC, "code": order.test_code, "display": order.test_name}],
            "text": result.analyte,
        },
        "subject": _ref("Patient", result.patient_id),
        "effectiveDateTime": _iso(order.collected_at or order.ordered_at),
        "issued": _iso(result.resulted_at),
        "interpretation": _interpretation(result.flag),
    }
    if order.encounter_id:
        data["encounter"] = _ref("Encounter", order.encounter_id)
    if result.value is not None:
        data["valueQuantity"] = _quantity(result.value, result.unit or "1")
    else:
        data["valueString"] = result.value_text
    if result.reference_low is not None or result.reference_high is not None:
        reference = {}
        if result.reference_low is not None:
            reference["low"] = _quantity(result.reference_low, result.unit or "1")
        if result.reference_high is not None:
            reference["high"] = _quantity(result.reference_high, result.unit or "1")
        data["referenceRange"] = [reference]
    return FhirObservation(**data)


def condition_to_fhir(diagnosis: Diagnosis) -> FhirCondition:
    """A diagnosis: ICD-10-CM (recorded here) or the code it was imported with (SNOMED CT)."""
    code = {}
    if diagnosis.code:
        code["coding"] = [
            {
                "system": diagnosis.code_system,
                "code": diagnosis.code,
                "display": diagnosis.code_display or None,
            }
        ]
    code["text"] = diagnosis.description or diagnosis.code_display or diagnosis.code
    category = "encounter-diagnosis" if diagnosis.encounter_id else "problem-list-item"
    data = {
        "id": str(diagnosis.pk),
        "meta": _meta(diagnosis.updated_at),
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": diagnosis.status}]},
        "verificationStatus": {"coding": [{"system": CONDITION_VERIFICATION, "code": "confirmed"}]},
        "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": category}]}],
        "code": code,
        "subject": _ref("Patient", diagnosis.patient_id),
        "recordedDate": _iso(diagnosis.recorded_at),
    }
    if diagnosis.encounter_id:
        data["encounter"] = _ref("Encounter", diagnosis.encounter_id)
    if diagnosis.onset_date:
        data["onsetDateTime"] = diagnosis.onset_date.isoformat()
    if diagnosis.recorded_by_id:
        data["recorder"] = _ref("Practitioner", diagnosis.recorded_by_id)
    return FhirCondition(**data)


ALLERGY_CRITICALITY = {"severe": "high", "mild": "low"}


def allergy_to_fhir(allergy: Allergy) -> FhirAllergy:
    data = {
        "id": str(allergy.pk),
        "meta": _meta(allergy.updated_at),
        "clinicalStatus": {"coding": [{"system": ALLERGY_CLINICAL, "code": allergy.status}]},
        "verificationStatus": {"coding": [{"system": ALLERGY_VERIFICATION, "code": "confirmed"}]},
        "type": "intolerance" if allergy.is_intolerance else "allergy",
        "criticality": ALLERGY_CRITICALITY.get(allergy.severity),
        "code": {"text": allergy.substance},
        "patient": _ref("Patient", allergy.patient_id),
        "recordedDate": _iso(allergy.recorded_at),
    }
    if allergy.reaction:
        data["reaction"] = [
            {
                "manifestation": [{"text": part} for part in allergy.reaction.split(", ") if part],
                "severity": allergy.severity,
            }
        ]
    if allergy.recorded_by_id:
        data["recorder"] = _ref("Practitioner", allergy.recorded_by_id)
    return FhirAllergy(**data)


_FREQUENCY = re.compile(r"^(\d+) times every ([\d.]+) (\w+)")


def _timing(frequency: str) -> dict | None:
    match = _FREQUENCY.match(frequency or "")
    if not match:
        return None
    period = Decimal(match.group(2))
    return {
        "repeat": {
            "frequency": int(match.group(1)),
            "period": period,
            "periodUnit": match.group(3),
        }
    }


def prescription_to_fhir(prescription: Prescription) -> FhirMedicationRequest:
    concept = {"text": prescription.drug}
    if prescription.drug_code:
        concept["coding"] = [
            {"system": RXNORM_SYSTEM, "code": prescription.drug_code, "display": prescription.drug}
        ]
    dosage: dict = {}
    text = prescription.instructions or " ".join(
        p
        for p in (
            prescription.strength,
            prescription.dose,
            prescription.route,
            prescription.frequency,
            prescription.duration,
        )
        if p
    )
    if text:
        dosage["text"] = text
    timing = _timing(prescription.frequency)
    if timing:
        dosage["timing"] = timing
    if "as needed" in (prescription.frequency or ""):
        dosage["asNeededBoolean"] = True
    try:
        dose = Decimal(prescription.dose) if prescription.dose else None
    except ArithmeticError:
        dose = None
    if dose is not None and dose.is_finite():
        dosage["doseAndRate"] = [{"doseQuantity": {"value": dose}}]
    if prescription.route:
        dosage["route"] = {"text": prescription.route}
    data = {
        "id": str(prescription.pk),
        "meta": _meta(prescription.updated_at),
        "status": prescription.status,
        "intent": "order",
        "medicationCodeableConcept": concept,
        "subject": _ref("Patient", prescription.patient_id),
        "authoredOn": _iso(prescription.prescribed_at),
        "dosageInstruction": [dosage] if dosage else None,
    }
    if prescription.encounter_id:
        data["encounter"] = _ref("Encounter", prescription.encounter_id)
    if prescription.prescriber_id:
        data["requester"] = _ref("Practitioner", prescription.prescriber_id)
    if prescription.quantity:
        data["dispenseRequest"] = {"quantity": {"value": prescription.quantity}}
    return FhirMedicationRequest(**data)


# --- Scheduling: Schedule, Slot, Appointment -------------------------------------------------


def schedule_to_fhir(schedule: Schedule) -> FhirSchedule:
    """A practitioner's bookable calendar (`practitioner` and `department` selected)."""
    return FhirSchedule(
        id=str(schedule.pk),
        meta=_meta(schedule.updated_at),
        active=schedule.is_active,
        actor=[
            _ref("Practitioner", schedule.practitioner_id, schedule.practitioner.full_name),
            _ref("Location", schedule.department_id, schedule.department.name),
        ],
        serviceType=[{"text": schedule.department.name}],
    )


def slot_to_fhir(slot: Slot, schedule_id: int) -> FhirSlot:
    """A computed free slot; `schedule_id` is its practitioner's schedule."""
    return FhirSlot(
        id=slot.slot_id,
        meta={"versionId": "1", "lastUpdated": _iso(timezone.now())},
        schedule=_ref("Schedule", schedule_id),
        status="free",
        start=_iso(slot.start),
        end=_iso(slot.end),
    )


def appointment_to_fhir(appointment: Appointment) -> FhirAppointment:
    """Patient and practitioner as participants (`patient`, `practitioner`, `department`
    selected)."""
    return FhirAppointment(
        id=str(appointment.pk),
        meta=_meta(appointment.updated_at),
        status=appointment.fhir_status,
        start=_iso(appointment.start),
        end=_iso(appointment.end),
        minutesDuration=int((appointment.end - appointment.start).total_seconds() // 60),
        description=appointment.reason or None,
        cancelationReason={"text": appointment.cancel_reason}
        if appointment.cancel_reason
        else None,
        appointmentType={"text": appointment.get_kind_display()},
        serviceType=[{"text": appointment.department.name}],
        created=_iso(appointment.created_at),
        participant=[
            {
                "actor": _ref("Patient", appointment.patient_id, appointment.patient.full_name),
                "status": "accepted",
            },
            {
                "actor": _ref(
                    "Practitioner", appointment.practitioner_id, appointment.practitioner.full_name
                ),
                "status": "accepted",
            },
            {"actor": _ref("Location", appointment.department_id), "status": "accepted"},
        ],
    )
