"""SMART-style scopes, derived from the role through the one permission catalogue.

A token carries no scopes of its own: what a user's role may read or write in the rest of the
system is what their token may read or write here, written the SMART way:

- `patient/<Type>.read` for a patient: only their own compartment (another patient's resource
  is "not found"), and only the parts of the record the portal shows them;
- `user/<Type>.read` (or `user/*.read` when every type is readable) for staff, by role;
- `user/Patient.write`, `user/Appointment.write` for registering and booking roles,
  `patient/Appointment.write` for a patient booking their own visit;
- `system/*.read` for the Bulk Data export (administrators).

The rule for each type is the one the pages use: `hms.clinical.selectors.may_read` for the
clinical areas, the catalogue's permission for the rest.
"""

from hms.clinical.selectors import Area, is_portal_user
from hms.clinical.selectors import may_read as may_read_area
from hms.core.permissions import Perm, user_has_perm

# Practitioners, the hospital, its departments and free slots: what anyone signed in may look
# up to book a visit (no patient data).
DIRECTORY_TYPES = (
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Location",
    "Schedule",
    "Slot",
)
RECORD_TYPES = (
    "Patient",
    "Encounter",
    "Observation",
    "Condition",
    "AllergyIntolerance",
    "MedicationRequest",
    "Appointment",
)
READABLE_TYPES = RECORD_TYPES + DIRECTORY_TYPES
WRITABLE_TYPES = ("Patient", "Appointment")

# The clinical area each record type belongs to (Observation: vital signs are clinical,
# laboratory results are labs).
TYPE_AREAS: dict[str, tuple[Area, ...]] = {
    "Encounter": (Area.CLINICAL,),
    "Condition": (Area.CLINICAL,),
    "Observation": (Area.CLINICAL, Area.LABS),
    "AllergyIntolerance": (Area.MEDICATION,),
    "MedicationRequest": (Area.MEDICATION,),
}


def may_read(user, resource_type: str) -> bool:
    """Whether the user's role reads this type at all (which rows: see `resources.py`)."""
    if not (user is not None and user.is_authenticated and user.is_active):
        return False
    if resource_type in DIRECTORY_TYPES:
        return user_has_perm(user, Perm.STAFF_AREA) or is_portal_user(user)
    if resource_type == "Patient":
        return user_has_perm(user, Perm.PATIENT_VIEW_DEMOGRAPHICS) or is_portal_user(user)
    if resource_type == "Appointment":
        return user_has_perm(user, Perm.APPOINTMENT_VIEW) or is_portal_user(user)
    areas = TYPE_AREAS.get(resource_type)
    return bool(areas) and any(may_read_area(user, area) for area in areas)


def may_write(user, resource_type: str) -> bool:
    if resource_type == "Patient":
        return user_has_perm(user, Perm.PATIENT_REGISTER)
    if resource_type == "Appointment":
        return user_has_perm(user, Perm.APPOINTMENT_BOOK) or is_portal_user(user)
    return False


def scopes_for(user) -> list[str]:
    """The scopes a user's token holds, in SMART notation."""
    if user is None or not user.is_authenticated:
        return []
    context = "patient" if is_portal_user(user) else "user"
    readable = [kind for kind in READABLE_TYPES if may_read(user, kind)]
    if context == "user" and len(readable) == len(READABLE_TYPES):
        scopes = ["user/*.read"]
    else:
        scopes = [f"{context}/{kind}.read" for kind in readable]
    scopes += [f"{context}/{kind}.write" for kind in WRITABLE_TYPES if may_write(user, kind)]
    if user_has_perm(user, Perm.FHIR_BULK_EXPORT):
        scopes.append("system/*.read")
    return scopes
