from dataclasses import dataclass

from django.db.models import QuerySet

from hms.core.audit_labels import PatientLabel, patient_labels, patient_refs_for_mrn
from hms.core.models import AuditEvent, Hospital


def hospital_get() -> Hospital | None:
    return Hospital.objects.order_by("pk").first()


def audit_events_search(
    *,
    action: str = "",
    actor: str = "",
    patient: str = "",
    mrn: str = "",
    date_from=None,
    date_to=None,
) -> QuerySet[AuditEvent]:
    """The audit trail, newest first, filtered by what an administrator asks for. `mrn` finds
    the events of the patient with that MRN (typed with or without its dash)."""
    events = AuditEvent.objects.order_by("-id")
    if mrn:
        events = events.filter(patient_ref__in=patient_refs_for_mrn(mrn))
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


@dataclass
class AuditRow:
    """One audit event as a person reads it."""

    event: AuditEvent
    patient: PatientLabel | None
    object: PatientLabel | None  # when the object is a patient
    details: list[tuple[str, str]]


def audit_rows(events) -> list[AuditRow]:
    """The events with patient names and MRNs instead of ids (in the patient column and in the
    details) and the details as labelled lines; one query for all the names."""
    events = list(events)
    refs = set()
    for event in events:
        refs.update((event.patient_ref, event.object_id), _strings(event.details))
    labels = patient_labels(refs)
    return [
        AuditRow(
            event=event,
            patient=labels.get(event.patient_ref),
            object=labels.get(event.object_id),
            details=[
                (key.replace("_", " ").capitalize(), _readable(value, labels))
                for key, value in (event.details or {}).items()
            ]
            if isinstance(event.details, dict)
            else [("Details", _readable(event.details, labels))],
        )
        for event in events
    ]


def _strings(value) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_strings(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value))
    return {value} if isinstance(value, str) else set()


def _readable(value, labels: dict[str, PatientLabel]) -> str:
    if isinstance(value, dict):
        return "; ".join(
            f"{key.replace('_', ' ')}: {_readable(item, labels)}" for key, item in value.items()
        )
    if isinstance(value, list):
        return ", ".join(_readable(item, labels) for item in value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "":
        return "—"
    if isinstance(value, str) and value in labels:
        return str(labels[value])
    return str(value)
