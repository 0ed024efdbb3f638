"""Dashboard widgets of the clinical record: work waiting for each clinical role."""

from hms.clinical.models import (
    Encounter,
    EncounterStatus,
    LabOrder,
    LabOrderStatus,
    Prescription,
    PrescriptionStatus,
)
from hms.core.dashboard import DashboardWidget, register_widget
from hms.core.navigation import register_count
from hms.core.permissions import Perm


def _open_encounters(*, user) -> dict:
    open_ = Encounter.objects.exclude(status=EncounterStatus.CLOSED)
    return {"count": open_.filter(practitioner=user).count(), "all": open_.count()}


def _lab_backlog(*, user) -> dict:
    return {
        "ordered": LabOrder.objects.filter(status=LabOrderStatus.ORDERED).count(),
        "collected": LabOrder.objects.filter(status=LabOrderStatus.COLLECTED).count(),
    }


def _active_prescriptions(*, user) -> dict:
    return {"count": Prescription.objects.filter(status=PrescriptionStatus.ACTIVE).count()}


for widget in (
    DashboardWidget(
        "open-encounters", "Open encounters", 20, Perm.CLINICAL_WRITE,
        "clinical/widgets/open_encounters.html", _open_encounters,
    ),
    DashboardWidget(
        "lab-backlog", "Lab worklist", 30, Perm.LAB_RESULT_WRITE,
        "clinical/widgets/lab_backlog.html", _lab_backlog,
    ),
    DashboardWidget(
        "active-prescriptions", "Active prescriptions", 40, Perm.INVENTORY_WRITE,
        "clinical/widgets/prescriptions.html", _active_prescriptions,
    ),
):  # fmt: skip
    register_widget(widget)


def _count_open(*, user) -> str:
    return f"{Encounter.objects.exclude(status=EncounterStatus.CLOSED).count()} open"


def _count_lab(*, user) -> str:
    statuses = [LabOrderStatus.ORDERED, LabOrderStatus.COLLECTED]
    return f"{LabOrder.objects.filter(status__in=statuses).count()} to do"


def _count_prescriptions(*, user) -> str:
    return f"{_active_prescriptions(user=user)['count']} active"


for _url_name, _count in (
    ("clinical:encounter-list", _count_open),
    ("clinical:lab-worklist", _count_lab),
    ("clinical:prescription-list", _count_prescriptions),
):
    register_count(_url_name, _count)
