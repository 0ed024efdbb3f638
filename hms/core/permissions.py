"""The permission catalogue: the single source of truth for what each role may do.

Views declare one permission (`@require_perm(Perm.X)`), the API declares one per action
(`required_perms`), and `manage.py sync_roles` mirrors the catalogue into Django's groups.
"""

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Administrator"
    DOCTOR = "doctor", "Doctor"
    NURSE = "nurse", "Nurse"
    RECEPTIONIST = "receptionist", "Receptionist"
    PHARMACIST = "pharmacist", "Pharmacist"
    BILLING = "billing", "Billing clerk"
    LAB = "lab", "Lab technician"
    PATIENT = "patient", "Patient"


STAFF_ROLES = frozenset(Role) - {Role.PATIENT}
CLINICAL_ROLES = frozenset({Role.DOCTOR, Role.NURSE})


class Perm(StrEnum):
    # Administration
    STAFF_MANAGE = "staff.manage"
    AUDIT_VIEW = "audit.view"
    WORKFLOW_MANAGE = "workflows.manage"  # rules, email templates, run history
    # Patients
    PATIENT_VIEW_DEMOGRAPHICS = "patients.view_demographics"
    PATIENT_REGISTER = "patients.register"
    PATIENT_MERGE = "patients.merge"
    # Clinical record
    CLINICAL_VIEW = "clinical.view"
    CLINICAL_WRITE = "clinical.write"  # vitals, allergies, notes, lab orders (doctors, nurses)
    PRESCRIBE = "clinical.prescribe"
    DIAGNOSE = "clinical.diagnose"
    ENCOUNTER_CLOSE = "clinical.close_encounters"
    PRESCRIPTION_VIEW = "clinical.view_prescriptions"
    LAB_VIEW = "clinical.view_lab_orders"
    LAB_RESULT_WRITE = "clinical.write_lab_results"
    LAB_RESULT_RELEASE = "clinical.release_lab_results"
    # Scheduling
    APPOINTMENT_VIEW = "scheduling.view_appointments"
    APPOINTMENT_BOOK = "scheduling.book_appointments"
    APPOINTMENT_WALK_IN = "scheduling.book_walk_ins"  # a patient who arrived without a slot
    APPOINTMENT_OVERBOOK = "scheduling.overbook"  # urgent: on top of booked slots, clinicians'
    SCHEDULE_MANAGE = "scheduling.manage_schedules"
    # Billing and inventory
    BILLING_VIEW = "billing.view"
    BILLING_WRITE = "billing.write"
    INVENTORY_VIEW = "inventory.view"
    INVENTORY_WRITE = "inventory.write"  # stores: receipts, adjustments, transfers, orders
    DISPENSE = "inventory.dispense"  # the pharmacy: dispense a patient's prescription
    # Patient relations: visit feedback and the Contact Us inbox
    FEEDBACK_VIEW = "feedback.view"
    CONTACT_MANAGE = "feedback.manage_contact"
    # The patients' assistant: its knowledge base and conversation logs
    ASSISTANT_MANAGE = "assistant.manage"
    # Portal (a patient's own record)
    PORTAL_USE = "portal.use"
    # Everyone on staff
    STAFF_AREA = "staff.area"
    # fhir
    FHIR_BULK_EXPORT = "fhir.bulk_export"  # every patient's record as NDJSON (administrators)

    @property
    def codename(self) -> str:
        return self.value.replace(".", "__")


_EVERY_STAFF = {Perm.STAFF_AREA}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.ADMIN: frozenset(
        _EVERY_STAFF
        | {
            Perm.STAFF_MANAGE,
            Perm.AUDIT_VIEW,
            Perm.WORKFLOW_MANAGE,
            Perm.PATIENT_VIEW_DEMOGRAPHICS,
            Perm.PATIENT_REGISTER,
            Perm.PATIENT_MERGE,
            Perm.APPOINTMENT_VIEW,
            Perm.SCHEDULE_MANAGE,
            Perm.BILLING_VIEW,
            Perm.BILLING_WRITE,
            Perm.INVENTORY_VIEW,
            Perm.INVENTORY_WRITE,
            Perm.FEEDBACK_VIEW,
            Perm.CONTACT_MANAGE,
            # fhir
            Perm.FHIR_BULK_EXPORT,
            Perm.ASSISTANT_MANAGE,
        }
    ),
    Role.DOCTOR: frozenset(
        _EVERY_STAFF
        | {
            Perm.PATIENT_VIEW_DEMOGRAPHICS,
            Perm.PATIENT_REGISTER,
            Perm.CLINICAL_VIEW,
            Perm.CLINICAL_WRITE,
            Perm.PRESCRIBE,
            Perm.DIAGNOSE,
            Perm.ENCOUNTER_CLOSE,
            Perm.PRESCRIPTION_VIEW,
            Perm.LAB_VIEW,
            Perm.LAB_RESULT_RELEASE,
            Perm.APPOINTMENT_VIEW,
            Perm.APPOINTMENT_BOOK,
            Perm.APPOINTMENT_WALK_IN,
            Perm.APPOINTMENT_OVERBOOK,
        }
    ),
    Role.NURSE: frozenset(
        _EVERY_STAFF
        | {
            Perm.PATIENT_VIEW_DEMOGRAPHICS,
            Perm.PATIENT_REGISTER,
            Perm.CLINICAL_VIEW,
            Perm.CLINICAL_WRITE,
            Perm.PRESCRIPTION_VIEW,
            Perm.LAB_VIEW,
            Perm.APPOINTMENT_VIEW,
        }
    ),
    Role.RECEPTIONIST: frozenset(
        _EVERY_STAFF
        | {
            Perm.PATIENT_VIEW_DEMOGRAPHICS,
            Perm.PATIENT_REGISTER,
            Perm.APPOINTMENT_VIEW,
            Perm.APPOINTMENT_BOOK,
            Perm.APPOINTMENT_WALK_IN,
            Perm.CONTACT_MANAGE,
        }
    ),
    Role.PHARMACIST: frozenset(
        _EVERY_STAFF
        | {
            Perm.PATIENT_VIEW_DEMOGRAPHICS,
            Perm.PRESCRIPTION_VIEW,
            Perm.INVENTORY_VIEW,
            Perm.INVENTORY_WRITE,
            Perm.DISPENSE,
        }
    ),
    Role.BILLING: frozenset(
        _EVERY_STAFF | {Perm.PATIENT_VIEW_DEMOGRAPHICS, Perm.BILLING_VIEW, Perm.BILLING_WRITE}
    ),
    Role.LAB: frozenset(
        _EVERY_STAFF | {Perm.PATIENT_VIEW_DEMOGRAPHICS, Perm.LAB_VIEW, Perm.LAB_RESULT_WRITE}
    ),
    Role.PATIENT: frozenset({Perm.PORTAL_USE}),
}


# Keyed by the plain string a user row holds: every page asks several dozen times (menu,
# widgets, views), so the check is one dictionary look-up.
_PERMS_OF_ROLE: dict[str, frozenset[Perm]] = {
    str(role): perms for role, perms in ROLE_PERMISSIONS.items()
}


def role_has_perm(role: str, perm: Perm) -> bool:
    return perm in _PERMS_OF_ROLE.get(role, frozenset())


def user_has_perm(user, perm: Perm) -> bool:
    """True when the user is signed in, active, and their role's permissions include `perm`."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and role_has_perm(user.role, perm)
    )
