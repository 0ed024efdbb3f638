"""Dashboard widgets of the clinical record: work waiting for each clinical role (one query
each)."""

from django.db.models import Count, Q

from hms.clinical import selectors
from hms.clinical.models import (
    Encounter,
    EncounterStatus,
    LabOrder,
    LabOrderStatus,
    Prescription,
    PrescriptionStatus,
)
from hms.core.audit import audit_record_patients
from hms.core.dashboard import DashboardWidget, register_widget
from hms.core.navigation import MenuItem, register_count, register_menu_item
from hms.core.permissions import Perm


def _open_encounters(*, user) -> dict:
    return Encounter.objects.exclude(status=EncounterStatus.CLOSED).aggregate(
        count=Count("pk", filter=Q(practitioner=user)), all=Count("pk")
    )


def _lab_backlog(*, user) -> dict:
    waiting = LabOrder.objects.filter(
        status__in=[LabOrderStatus.ORDERED, LabOrderStatus.COLLECTED]
    )  # the (status, priority) index finds them; the rest of the table is not read
    return waiting.aggregate(
        ordered=Count("pk", filter=Q(status=LabOrderStatus.ORDERED)),
        collected=Count("pk", filter=Q(status=LabOrderStatus.COLLECTED)),
    )


def _results_to_review(*, user) -> dict:
    """The doctor's results waiting for review (critical first); each patient shown is audited."""
    results = selectors.results_to_review(doctor=user)
    shown = list(results[:5])
    audit_record_patients(
        action="labresult.worklist_view", actor=user, patients=[r.patient_id for r in shown]
    )
    return {"results": shown, "count": len(shown) if len(shown) < 5 else results.count()}


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
        "results-to-review", "Results to review", 25, Perm.LAB_RESULT_RELEASE,
        "clinical/widgets/results_to_review.html", _results_to_review,
    ),
    DashboardWidget(
        "active-prescriptions", "Active prescriptions", 40, Perm.DISPENSE,
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

for _item in (
    MenuItem("Encounters", "clinical:encounter-list", Perm.CLINICAL_VIEW,
             "Visits in progress: vitals, diagnoses, prescriptions, notes.", order=80),
    MenuItem("Lab worklist", "clinical:lab-worklist", Perm.LAB_VIEW,
             "Lab orders to collect, report and release.", order=90),
    MenuItem("Prescriptions", "clinical:prescription-list", Perm.PRESCRIPTION_VIEW,
             "Active prescriptions across the hospital.", order=100),
):  # fmt: skip
    register_menu_item(_item)
