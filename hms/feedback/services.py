"""Visit feedback and the Contact Us inbox: every write, checked and audited.

A completed visit asks its patient for feedback once (`feedback_request`, run for the
`appointment.completed` event); the patient answers once (`feedback_submit`). Anyone may write
through Contact Us (`contact_message_submit`); the inbox staff assign, note, reply and close.
"""

import uuid

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from hms.accounts.models import User
from hms.core.access import require
from hms.core.audit import audit_record
from hms.core.errors import Conflict, DomainError, NotFound
from hms.core.events import emit
from hms.core.mail import email_after_commit
from hms.core.notifications import notify
from hms.core.permissions import Perm, role_has_perm
from hms.feedback.models import (
    ContactMessage,
    ContactNote,
    ContactNoteKind,
    ContactStatus,
    ContactTopic,
    VisitFeedback,
)
from hms.patients.selectors import patient_of_user
from hms.scheduling.models import Appointment, AppointmentStatus

MAX_COMMENT = 4000
MAX_MESSAGE = 5000


# --- Visit feedback -------------------------------------------------------------------------


def feedback_request(*, appointment_id) -> VisitFeedback | None:
    """Ask the patient of a completed visit how it went: once per visit (a repeated event asks
    nothing more), in the portal and, when they agreed to email, by email."""
    appointment = (
        Appointment.objects.select_related("patient", "practitioner", "department")
        .filter(pk=appointment_id, status=AppointmentStatus.COMPLETED)
        .first()
    )
    if appointment is None:
        return None
    try:
        with transaction.atomic():
            feedback = VisitFeedback.objects.create(
                appointment=appointment, requested_at=timezone.now()
            )
    except IntegrityError:  # asked before
        return None
    patient = appointment.patient
    title = f"How was your visit to {appointment.department.name}?"
    body = (
        f"You saw {appointment.practitioner.full_name} on "
        f"{timezone.localtime(appointment.start):%d %b %Y}. Two questions and a comment, "
        "if you like: it helps us improve."
    )
    url = reverse("feedback:portal-answer", args=[appointment.pk])
    email = patient.email if patient.consent_email else ""
    if patient.user_id is not None:
        notify(user=patient.user, title=title, body=body, url=url, email=email)
    elif email:
        email_after_commit(
            subject=title,
            body=f"{body}\n\nRegister for the patient portal with this address to answer.",
            to=email,
        )
    audit_record(action="feedback.request", obj=feedback, patient=patient)
    return feedback


def _check_answer(rating, nps, comment: str) -> dict:
    errors = {}
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        errors["rating"] = "Give a rating from 1 to 5."
    if not isinstance(nps, int) or isinstance(nps, bool) or not 0 <= nps <= 10:
        errors["nps"] = "Give a number from 0 to 10."
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        errors["comment"] = f"Keep the comment under {MAX_COMMENT} characters."
    return errors


def feedback_submit(
    *, actor: User, appointment_id, rating: int, nps: int, comment: str = ""
) -> VisitFeedback:
    """The patient's answer about their own completed visit: once (a second answer is a
    Conflict `already_answered`). Another patient's visit is NotFound."""
    require(actor, Perm.PORTAL_USE, "Only patients answer visit feedback.")
    errors = _check_answer(rating, nps, comment)
    if errors:
        raise DomainError("Please check the answers.", code="invalid", fields=errors)
    patient = patient_of_user(actor)
    try:
        key = uuid.UUID(str(appointment_id))
    except ValueError:
        raise NotFound("No such visit.") from None
    feedback = (
        VisitFeedback.objects.select_related("appointment")
        .filter(appointment_id=key, appointment__patient=patient)
        .first()
        if patient is not None
        else None
    )
    if feedback is None:
        raise NotFound("No such visit.")
    with transaction.atomic():
        answered = VisitFeedback.objects.filter(pk=feedback.pk, answered_at__isnull=True).update(
            answered_at=timezone.now(),
            rating=rating,
            nps=nps,
            comment=comment.strip(),
            updated_at=timezone.now(),
        )
        if not answered:
            raise Conflict("You have already answered for this visit.", code="already_answered")
        feedback.refresh_from_db()
        audit_record(
            action="feedback.answer",
            actor=actor,
            obj=feedback,
            patient=patient,
            details={"rating": rating, "nps": nps},
        )
        emit(
            "feedback.received",
            feedback_id=feedback.pk,
            appointment_id=str(feedback.appointment_id),
            patient_id=str(patient.pk),
            practitioner_id=feedback.appointment.practitioner_id,
            department_id=feedback.appointment.department_id,
            rating=rating,
            nps=nps,
        )
    return feedback


# --- Contact Us -----------------------------------------------------------------------------


def contact_message_submit(
    *,
    name: str,
    email: str = "",
    phone: str = "",
    topic: str,
    message: str,
    sender: User | None = None,
) -> ContactMessage:
    """A message for the hospital from anyone (the form checked the spam trap and the rate
    limit); its sender gets a confirmation by email when they gave an address."""
    errors = {}
    name, email, phone, message = (v.strip() for v in (name, email, phone, message))
    if not name:
        errors["name"] = "Tell us your name."
    if not email and not phone:
        errors["email"] = "Give an email address or a phone number so we can answer."
    if topic not in ContactTopic.values:
        errors["topic"] = "Choose a topic."
    if not message:
        errors["message"] = "Write your message."
    elif len(message) > MAX_MESSAGE:
        errors["message"] = f"Keep the message under {MAX_MESSAGE} characters."
    if errors:
        raise DomainError("Please check the form.", code="invalid", fields=errors)
    with transaction.atomic():
        contact = ContactMessage.objects.create(
            name=name[:120],
            email=email[:254],
            phone=phone[:40],
            topic=topic,
            message=message,
            sender=sender if sender is not None and sender.is_authenticated else None,
        )
        audit_record(action="contact.receive", actor=contact.sender, obj=contact)
        if email:
            email_after_commit(
                subject="We have your message",
                body=(
                    f"Dear {name},\n\nThank you for writing to us about "
                    f"{contact.get_topic_display().lower()}. Our patient relations team "
                    "reads every message and answers within two working days.\n\n"
                    f"Your reference: C-{contact.pk}"
                ),
                to=email,
            )
    return contact


def _inbox_message(contact_id) -> ContactMessage:
    try:
        return ContactMessage.objects.select_for_update().get(pk=int(contact_id))
    except (ContactMessage.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such message.") from None


def contact_message_assign(*, actor: User, contact_id, assignee: User | None) -> ContactMessage:
    """Give the message to a colleague who handles the inbox (or to nobody)."""
    require(actor, Perm.CONTACT_MANAGE, "Your role does not handle Contact Us messages.")
    if assignee is not None and not (
        assignee.is_active and role_has_perm(assignee.role, Perm.CONTACT_MANAGE)
    ):
        raise DomainError(
            "Assign it to someone who handles the inbox.",
            fields={"assignee": "This colleague does not handle the inbox."},
        )
    with transaction.atomic():
        contact = _inbox_message(contact_id)
        contact.assignee = assignee
        if assignee is not None and contact.status == ContactStatus.NEW:
            contact.status = ContactStatus.IN_PROGRESS
        contact.save(update_fields=["assignee", "status", "updated_at"])
        audit_record(
            action="contact.assign",
            actor=actor,
            obj=contact,
            details={"assignee": assignee.email if assignee else None},
        )
    return contact


def contact_message_set_status(*, actor: User, contact_id, status: str) -> ContactMessage:
    require(actor, Perm.CONTACT_MANAGE, "Your role does not handle Contact Us messages.")
    if status not in ContactStatus.values:
        raise DomainError("Choose a status.", fields={"status": "Choose a status."})
    with transaction.atomic():
        contact = _inbox_message(contact_id)
        contact.status = status
        contact.save(update_fields=["status", "updated_at"])
        audit_record(action="contact.status", actor=actor, obj=contact, details={"to": status})
    return contact


def contact_note_add(*, actor: User, contact_id, body: str, reply: bool = False) -> ContactNote:
    """An internal note, or (`reply`) an answer emailed to the sender, after which the message
    counts as answered."""
    require(actor, Perm.CONTACT_MANAGE, "Your role does not handle Contact Us messages.")
    body = (body or "").strip() if isinstance(body, str) else ""
    if not body:
        raise DomainError("Write something first.", fields={"body": "This field is required."})
    if len(body) > MAX_MESSAGE:
        raise DomainError("Too long.", fields={"body": f"Under {MAX_MESSAGE} characters."})
    with transaction.atomic():
        contact = _inbox_message(contact_id)
        if reply and not contact.email:
            raise DomainError(
                "The sender left no email address: call them on the number they gave.",
                code="no_email",
                fields={"body": "No email address to reply to."},
            )
        note = ContactNote.objects.create(
            contact=contact,
            author=actor,
            kind=ContactNoteKind.REPLY if reply else ContactNoteKind.NOTE,
            body=body,
        )
        if reply:
            contact.status = ContactStatus.ANSWERED
            if contact.assignee_id is None:
                contact.assignee = actor
            contact.save(update_fields=["status", "assignee", "updated_at"])
            email_after_commit(
                subject=f"Re: your message to us (C-{contact.pk})",
                body=f"Dear {contact.name},\n\n{body}\n\n{actor.full_name}\nPatient relations",
                to=contact.email,
            )
        audit_record(action=f"contact.{note.kind}", actor=actor, obj=contact)
    return note
