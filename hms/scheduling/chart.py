"""The appointments section of the patient chart (the page belongs to the patients app)."""

from django.utils import timezone

from hms.core.chart import ChartSection, register_section
from hms.core.permissions import Perm
from hms.scheduling.models import Appointment

LIMIT = 30


def load_appointments(*, patient, user=None) -> dict:
    """Upcoming and recent appointments, in one query whatever the history's size."""
    now = timezone.now()
    rows = list(
        Appointment.objects.filter(patient=patient)
        .select_related("practitioner", "department")
        .order_by("-start")[:LIMIT]
    )
    return {
        "upcoming": [a for a in reversed(rows) if a.end >= now and a.is_active],
        "recent": [a for a in rows if not (a.end >= now and a.is_active)][:10],
    }


T = "scheduling/chart/appointments.html"
for _section in (
    ChartSection("appointments", "Appointments", 15, Perm.APPOINTMENT_VIEW, T, load_appointments),
    ChartSection("my-appointments", "Appointments", 15, Perm.PORTAL_USE, T, load_appointments),
):
    register_section(_section)
