"""The main menu: each entry names the permission that shows it, so each role sees its own.

The dashboard shows the same entries as "Go to" cards, each with a line saying what is there
and a live count. Counts come from the apps that own the data (core imports none of them):
each registers one with `register_count` in its AppConfig.ready()."""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache

from hms.core.permissions import Perm, user_has_perm


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    perm: Perm
    description: str = ""


MENU: list[MenuItem] = [
    MenuItem("Patients", "patients:list", Perm.PATIENT_VIEW_DEMOGRAPHICS,
             "Find a patient by name, MRN or phone and open the chart."),
    MenuItem("Merge records", "patients:merge", Perm.PATIENT_MERGE,
             "Join two records of the same person; undo a merge."),
    MenuItem("Appointments", "scheduling:calendar", Perm.APPOINTMENT_VIEW,
             "The day or week of a doctor or department; book free slots."),
    MenuItem("Queue", "scheduling:queue-home", Perm.APPOINTMENT_VIEW,
             "Patients who have arrived today, in the order they came."),
    MenuItem("Waiting list", "scheduling:waitlist", Perm.APPOINTMENT_BOOK,
             "Patients waiting for an earlier slot; add one."),
    MenuItem("Schedules", "scheduling:schedule-list", Perm.SCHEDULE_MANAGE,
             "Doctors' working hours, leave and extra sessions."),
    MenuItem("My appointments", "scheduling:portal-appointments", Perm.PORTAL_USE,
             "Book, move or cancel a visit."),
    MenuItem("Encounters", "clinical:encounter-list", Perm.CLINICAL_VIEW,
             "Visits in progress: vitals, diagnoses, prescriptions, notes."),
    MenuItem("Lab worklist", "clinical:lab-worklist", Perm.LAB_VIEW,
             "Lab orders to collect, report and release."),
    MenuItem("Prescriptions", "clinical:prescription-list", Perm.PRESCRIPTION_VIEW,
             "Active prescriptions across the hospital."),
    MenuItem("My record", "patients:my-record", Perm.PORTAL_USE,
             "Your results, medicines, allergies and visits."),
    MenuItem("My details", "patients:my-details", Perm.PORTAL_USE,
             "Your contact details as the hospital has them."),
    MenuItem("Staff", "accounts:staff-list", Perm.STAFF_MANAGE,
             "Staff accounts, roles and invitations."),
    MenuItem("Audit trail", "core:audit-list", Perm.AUDIT_VIEW,
             "Who read or changed what, and when."),
]  # fmt: skip


def menu_for(user) -> list[MenuItem]:
    return [item for item in MENU if user_has_perm(user, item.perm)]


# url_name -> count(user=...) -> a short phrase ("12 today"), one query at most
_counts: dict[str, Callable[..., str]] = {}


def register_count(url_name: str, count: Callable[..., str]) -> None:
    _counts[url_name] = count


CARD_COUNTS_SECONDS = 30


def cards_for(user) -> list[tuple[MenuItem, str]]:
    """The dashboard's "Go to" cards: each menu entry with its count (or ""). The counts are a
    glance, not a worklist: kept for CARD_COUNTS_SECONDS per user, so a dashboard reload does
    not re-count every table."""
    items = menu_for(user)
    key = f"hms:dashboard-cards:{user.pk}"
    counts = cache.get(key)
    if counts is None:
        counts = {
            i.url_name: _counts[i.url_name](user=user) for i in items if i.url_name in _counts
        }
        cache.set(key, counts, CARD_COUNTS_SECONDS)
    return [(item, counts.get(item.url_name, "")) for item in items]


# Modules not built yet: shown on dashboards as clearly marked placeholders until they land.
PLANNED: list[tuple[str, Perm]] = [
    ("Billing", Perm.BILLING_VIEW),
    ("Pharmacy and stores", Perm.INVENTORY_VIEW),
    ("My invoices", Perm.PORTAL_USE),
]


def planned_for(user) -> list[str]:
    return [label for label, perm in PLANNED if user_has_perm(user, perm)]
