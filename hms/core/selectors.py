from django.db.models import QuerySet

from hms.core.models import AuditEvent, Hospital


def hospital_get() -> Hospital | None:
    return Hospital.objects.order_by("pk").first()


def audit_events_search(
    *,
    action: str = "",
    actor: str = "",
    patient: str = "",
    date_from=None,
    date_to=None,
) -> QuerySet[AuditEvent]:
    """The audit trail, newest first, filtered by what an administrator asks for."""
    events = AuditEvent.objects.order_by("-id")
    if action:
        events = events.filter(action__startswith=action)
    if actor:
        events = events.filter(actor_email__icontains=actor)
    if patient:
        events = events.filter(patient_ref=patient)
    if date_from:
        events = events.filter(occurred_at__date__gte=date_from)
    if date_to:
        events = events.filter(occurred_at__date__lte=date_to)
    return events
