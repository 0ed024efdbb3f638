"""The "My tasks" widget on every staff dashboard. It costs the dashboard no query: the card
loads its list with htmx once the page is shown."""

from hms.core.dashboard import DashboardWidget, register_widget
from hms.core.permissions import Perm


def _nothing(*, user) -> dict:
    return {}


register_widget(
    DashboardWidget(
        key="my-tasks",
        title="My tasks",
        order=5,
        perm=Perm.STAFF_AREA,
        template="workflows/widgets/my_tasks.html",
        load=_nothing,
    )
)
