"""The patients' menu entries and the registry's count on the dashboard's "Patients" card."""

from hms.core.navigation import MenuItem, Section, register_count, register_menu_item
from hms.core.permissions import Perm
from hms.patients.models import Patient


def _count_registered(*, user) -> str:
    return f"{Patient.objects.current().filter(is_active=True).count()} registered"


register_count("patients:list", _count_registered)

for _item in (
    MenuItem("Patients", "patients:list", Perm.PATIENT_VIEW_DEMOGRAPHICS,
             "Find a patient by name, MRN or phone and open the chart.", order=10,
             section=Section.PATIENTS),
    MenuItem("Merge records", "patients:merge", Perm.PATIENT_MERGE,
             "Join two records of the same person; undo a merge.", order=20,
             section=Section.PATIENTS),
    MenuItem("My record", "patients:my-record", Perm.PORTAL_USE,
             "Your results, medicines, allergies and visits.", order=110),
    MenuItem("My details", "patients:my-details", Perm.PORTAL_USE,
             "Your contact details as the hospital has them.", order=120),
):  # fmt: skip
    register_menu_item(_item)
