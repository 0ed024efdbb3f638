"""The CapabilityStatement (`GET /fhir/R4/metadata`): exactly what this server does, built from
the same registry the views use, so it cannot promise a type or parameter that is not served."""

from functools import cache

from django.conf import settings
from django.utils import timezone
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from hms.fhir.resources import TYPES
from hms.fhir.scopes import WRITABLE_TYPES

INCLUDES = {
    "Encounter",
    "Observation",
    "Condition",
    "AllergyIntolerance",
    "MedicationRequest",
    "Appointment",
}
SCOPES_TEXT = (
    "Bearer tokens (POST /api/v1/auth/token/). Scopes are derived from the user's role: "
    "patient/<Type>.read for a patient (their own compartment only), user/<Type>.read or "
    "user/*.read for staff, user/Patient.write and user/Appointment.write for registering and "
    "booking roles, patient/Appointment.write for a patient, system/*.read (Bulk Data export) "
    "for administrators."
)


def _resource(name: str) -> dict:
    kind = TYPES[name]
    interactions = [{"code": "read"}, {"code": "search-type"}]
    if name in WRITABLE_TYPES:
        interactions += [{"code": "create"}, {"code": "update"}]
    entry = {
        "type": name,
        "interaction": interactions,
        "versioning": "versioned",
        "readHistory": False,
        "updateCreate": False,
        "conditionalRead": "not-match",
        "searchParam": [
            {"name": p.name, "type": p.type, "documentation": p.doc} for p in kind.params
        ]
        + [
            {"name": "_count", "type": "number", "documentation": "Page size"},
            {"name": "_offset", "type": "number", "documentation": "Skip this many (next links)"},
        ],
    }
    if name in INCLUDES:
        entry["searchInclude"] = [f"{name}:patient"]
    if name == "Patient":
        entry["operation"] = [
            {
                "name": "everything",
                "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
            },
            {
                "name": "export",
                "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
            },
        ]
    return entry


@cache
def _static_part() -> dict:
    return {
        "status": "active",
        "kind": "instance",
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "software": {"name": "Hospital Management System", "version": "1.0"},
        "rest": [
            {
                "mode": "server",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/"
                                    "restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ],
                            "text": "Bearer token, SMART-style scopes",
                        }
                    ],
                    "description": SCOPES_TEXT,
                },
                "resource": [_resource(name) for name in TYPES],
                "operation": [
                    {
                        "name": "export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                    }
                ],
            }
        ],
    }


def capability_statement(base_url: str) -> CapabilityStatement:
    return CapabilityStatement(
        **_static_part(),
        date=timezone.now().isoformat(),
        publisher=settings.HOSPITAL_NAME,
        implementation={"description": f"{settings.HOSPITAL_NAME} FHIR R4 API", "url": base_url},
    )
