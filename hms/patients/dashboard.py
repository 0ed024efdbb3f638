"""The registry's count on the dashboard's "Patients" card."""

from hms.core.navigation import register_count
from hms.patients.models import Patient


def _count_registered(*, user) -> str:
    return f"{Patient.objects.current().filter(is_active=True).count()} registered"


register_count("patients:list", _count_registered)
