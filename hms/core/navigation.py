"""The main menu: each entry names the permission that shows it, so each role sees its own."""

from dataclasses import dataclass

from hms.core.permissions import Perm, user_has_perm


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    perm: Perm
    icon: str = ""


MENU: list[MenuItem] = [
    MenuItem("Patients", "patients:list", Perm.PATIENT_VIEW_DEMOGRAPHICS),
    MenuItem("Merge records", "patients:merge", Perm.PATIENT_MERGE),
    MenuItem("Appointments", "scheduling:calendar", Perm.APPOINTMENT_VIEW),
    MenuItem("Waiting list", "scheduling:waitlist", Perm.APPOINTMENT_BOOK),
    MenuItem("Schedules", "scheduling:schedule-list", Perm.SCHEDULE_MANAGE),
    MenuItem("My appointments", "scheduling:portal-appointments", Perm.PORTAL_USE),
    MenuItem("Encounters", "clinical:encounter-list", Perm.CLINICAL_VIEW),
    MenuItem("Lab worklist", "clinical:lab-worklist", Perm.LAB_VIEW),
    MenuItem("Prescriptions", "clinical:prescription-list", Perm.PRESCRIPTION_VIEW),
    MenuItem("My record", "patients:my-record", Perm.PORTAL_USE),
    MenuItem("My details", "patients:my-details", Perm.PORTAL_USE),
    MenuItem("Staff", "accounts:staff-list", Perm.STAFF_MANAGE),
    MenuItem("Audit trail", "core:audit-list", Perm.AUDIT_VIEW),
]


def menu_for(user) -> list[MenuItem]:
    return [item for item in MENU if user_has_perm(user, item.perm)]


# Modules not built yet: shown on dashboards as clearly marked placeholders until they land.
PLANNED: list[tuple[str, Perm]] = [
    ("Billing", Perm.BILLING_VIEW),
    ("Pharmacy and stores", Perm.INVENTORY_VIEW),
    ("My invoices", Perm.PORTAL_USE),
]


def planned_for(user) -> list[str]:
    return [label for label, perm in PLANNED if user_has_perm(user, perm)]
