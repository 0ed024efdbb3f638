"""Reads of feedback and the inbox: the dashboard's figures, the lists, the patient's own."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from hms.accounts.models import User
from hms.core.access import require
from hms.core.audit import audit_record
from hms.core.permissions import Perm, Role, role_has_perm
from hms.feedback.models import ContactMessage, ContactStatus, VisitFeedback
from hms.patients.selectors import patient_of_user

PROMOTER, DETRACTOR = Q(nps__gte=9), Q(nps__lte=6)


def nps_of(promoters: int, detractors: int, answers: int) -> int | None:
    """Net Promoter Score: % answering 9-10 minus % answering 0-6 (None without answers)."""
    if not answers:
        return None
    return round(100 * (promoters - detractors) / answers)


def _figures(rows: QuerySet) -> dict:
    return rows.aggregate(
        answers=Count("pk"),
        promoters=Count("pk", filter=PROMOTER),
        detractors=Count("pk", filter=DETRACTOR),
        rating=Avg("rating"),
    )


def _score(figures: dict) -> dict:
    return {
        "answers": figures["answers"],
        "nps": nps_of(figures["promoters"], figures["detractors"], figures["answers"]),
        "rating": round(figures["rating"], 2) if figures["rating"] is not None else None,
    }


@dataclass
class FeedbackSummary:
    overall: dict
    by_department: list[dict]
    by_practitioner: list[dict]
    by_month: list[dict]
    requested: int


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def answered_feedback(
    *, start: date | None = None, end: date | None = None, department_id=None
) -> QuerySet[VisitFeedback]:
    rows = VisitFeedback.objects.filter(answered_at__isnull=False)
    if start:
        rows = rows.filter(appointment__start__gte=datetime.combine(start, time.min))
    if end:
        rows = rows.filter(
            appointment__start__lt=datetime.combine(end + timedelta(days=1), time.min)
        )
    if department_id:
        rows = rows.filter(appointment__department_id=department_id)
    return rows


def feedback_summary(
    *, user, start: date | None = None, end: date | None = None, department_id=None
) -> FeedbackSummary:
    """NPS and average rating over the period: overall, per department, per doctor, per month
    (a fixed number of queries, whatever the number of answers)."""
    require(user, Perm.FEEDBACK_VIEW)
    rows = answered_feedback(start=start, end=end, department_id=department_id)
    grouped = {
        "by_department": ("appointment__department_id", "appointment__department__name"),
        "by_practitioner": (
            "appointment__practitioner_id",
            "appointment__practitioner__given_name",
            "appointment__practitioner__family_name",
        ),
    }
    tables = {}
    for name, keys in grouped.items():
        tables[name] = [
            {"key": row[keys[0]], "label": " ".join(row[k] or "" for k in keys[1:]).strip(),
             **_score(row)}
            for row in rows.values(*keys).annotate(
                answers=Count("pk"), promoters=Count("pk", filter=PROMOTER),
                detractors=Count("pk", filter=DETRACTOR), rating=Avg("rating"),
            ).order_by(*keys[1:])
        ]  # fmt: skip
    months = [
        {"month": row["month"], **_score(row)}
        for row in rows.annotate(month=TruncMonth("answered_at"))
        .values("month")
        .annotate(
            answers=Count("pk"),
            promoters=Count("pk", filter=PROMOTER),
            detractors=Count("pk", filter=DETRACTOR),
            rating=Avg("rating"),
        )
        .order_by("month")
    ]
    return FeedbackSummary(
        overall=_score(_figures(rows)),
        by_department=tables["by_department"],
        by_practitioner=tables["by_practitioner"],
        by_month=months,
        requested=VisitFeedback.objects.count(),
    )


def feedback_answered_list(*, user) -> QuerySet[VisitFeedback]:
    """Every answer, newest first, for the API's paged list (the API audits the patients of the
    page it shows)."""
    require(user, Perm.FEEDBACK_VIEW)
    return (
        answered_feedback()
        .select_related("appointment__practitioner", "appointment__department")
        .order_by("-answered_at", "-pk")
    )


def feedback_recent(*, user, limit: int = 20, **period) -> list[VisitFeedback]:
    """The latest answers with a comment; the comment is the patient's own words about their
    care, so each patient shown leaves an audit row."""
    require(user, Perm.FEEDBACK_VIEW)
    rows = list(
        answered_feedback(**period)
        .exclude(comment="")
        .select_related("appointment__practitioner", "appointment__department")
        .order_by("-answered_at")[:limit]
    )
    for row in rows:
        audit_record(
            action="feedback.view", actor=user, obj=row, patient=row.appointment.patient_id
        )
    return rows


def feedback_export(*, user, **period) -> list[tuple]:
    """Answered feedback for a spreadsheet: the visit, where, whom, the answers; no patient
    names. The export itself is audited."""
    require(user, Perm.FEEDBACK_VIEW)
    audit_record(
        action="feedback.export", actor=user, details={k: str(v) for k, v in period.items()}
    )
    return [
        (
            timezone.localtime(row.appointment.start).strftime("%Y-%m-%d %H:%M"),
            row.appointment.department.name,
            row.appointment.practitioner.full_name,
            timezone.localtime(row.answered_at).strftime("%Y-%m-%d"),
            row.rating,
            row.nps,
            row.comment,
        )
        for row in answered_feedback(**period)
        .select_related("appointment__practitioner", "appointment__department")
        .order_by("appointment__start")
    ]


def feedback_open_for(user) -> list[VisitFeedback]:
    """The portal patient's visits still waiting for their answer."""
    patient = patient_of_user(user)
    if patient is None:
        return []
    return list(
        VisitFeedback.objects.filter(appointment__patient=patient, answered_at__isnull=True)
        .select_related("appointment__practitioner", "appointment__department")
        .order_by("-appointment__start")
    )


def contact_inbox(*, user, status: str = "", mine: bool = False) -> QuerySet[ContactMessage]:
    require(user, Perm.CONTACT_MANAGE)
    """The inbox: open messages (not closed), "all", or those of one status; newest first."""
    messages = ContactMessage.objects.select_related("assignee")
    if status in ContactStatus.values:
        messages = messages.filter(status=status)
    elif status != "all":
        messages = messages.exclude(status=ContactStatus.CLOSED)
    if mine:
        messages = messages.filter(assignee=user)
    return messages


def contact_message_get(*, user, contact_id) -> ContactMessage | None:
    """One message with its history; the read is audited (a message may speak of anyone's
    care)."""
    require(user, Perm.CONTACT_MANAGE)
    try:
        contact = ContactMessage.objects.select_related("assignee").get(pk=int(contact_id))
    except (ContactMessage.DoesNotExist, ValueError, TypeError, OverflowError):
        return None
    audit_record(action="contact.view", actor=user, obj=contact)
    return contact


def contact_inbox_staff() -> list[User]:
    """Colleagues a message may be assigned to."""
    roles = [role for role in Role if role_has_perm(role, Perm.CONTACT_MANAGE)]
    return list(User.objects.filter(is_active=True, role__in=roles).order_by("family_name"))
