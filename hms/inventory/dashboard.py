"""Menu entries and dashboard widgets of the pharmacy and stores (a fixed number of queries)."""

from django.db.models import Count, Q

from hms.core.dashboard import DashboardWidget, register_widget
from hms.core.navigation import MenuItem, Section, register_count, register_menu_item
from hms.core.permissions import Perm
from hms.inventory.models import Alert, AlertKind


def _alerts(*, user) -> dict:
    alerts = Alert.objects.filter(resolved_at__isnull=True)
    counts = alerts.aggregate(
        low=Count("pk", filter=Q(kind=AlertKind.LOW_STOCK)),
        expiring=Count("pk", filter=Q(kind=AlertKind.EXPIRING)),
    )
    return {**counts, "alerts": list(alerts.select_related("item")[:6])}


def _queue(*, user) -> dict:
    from hms.inventory.selectors import dispensing_queue

    return {"count": len(dispensing_queue())}


register_widget(
    DashboardWidget(
        "inventory-alerts", "Stock alerts", 35, Perm.INVENTORY_VIEW,
        "inventory/widgets/alerts.html", _alerts,
    )
)  # fmt: skip
register_widget(
    DashboardWidget(
        "dispensing-queue", "Dispensing queue", 36, Perm.DISPENSE,
        "inventory/widgets/queue.html", _queue,
    )
)  # fmt: skip


def _count_alerts(*, user) -> str:
    return f"{Alert.objects.filter(resolved_at__isnull=True).count()} alerts"


register_count("inventory:home", _count_alerts)

for _item in (
    MenuItem("Dispensing", "inventory:dispense-queue", Perm.DISPENSE,
             "Prescriptions waiting at the pharmacy.", order=105),
    MenuItem("Pharmacy and stores", "inventory:home", Perm.INVENTORY_VIEW,
             "Stock, lots, alerts, receipts and purchase orders.", order=110,
             section=Section.BACK_OFFICE),
):  # fmt: skip
    register_menu_item(_item)
