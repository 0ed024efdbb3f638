"""Visit feedback (one per completed visit) and the Contact Us inbox."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from hms.core.models import TimeStampedModel


class VisitFeedback(TimeStampedModel):
    """Asked once when a visit is completed (`requested_at`), answered once (`answered_at`).
    Who was seen, by whom and where is the appointment's: a merge that moves the appointment to
    the surviving record moves its feedback with it."""

    appointment = models.OneToOneField(
        "scheduling.Appointment", on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)  # 1-5
    nps = models.PositiveSmallIntegerField(null=True, blank=True)  # 0-10
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["answered_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="feedback_rating_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | Q(nps__gte=0, nps__lte=10),
                name="feedback_nps_0_to_10",
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(rating__isnull=False, nps__isnull=False),
                name="feedback_answer_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"Feedback on visit {self.appointment_id}"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None


class ContactTopic(models.TextChoices):
    APPOINTMENTS = "appointments", "Appointments"
    BILLING = "billing", "Bills and insurance"
    RECORDS = "records", "Medical records"
    COMPLIMENT = "compliment", "Compliment"
    COMPLAINT = "complaint", "Complaint"
    OTHER = "other", "Something else"


class ContactStatus(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"


class ContactMessage(TimeStampedModel):
    """A message sent through the public Contact Us form (or handed over by the assistant)."""

    name = models.CharField(max_length=120)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    topic = models.CharField(max_length=20, choices=ContactTopic.choices)
    message = models.TextField()
    status = models.CharField(
        max_length=20, choices=ContactStatus.choices, default=ContactStatus.NEW
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sender = models.ForeignKey(  # the signed-in account that sent it, if any
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(email="") | ~Q(phone=""), name="contact_email_or_phone"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_topic_display()} from {self.name}"


class ContactNoteKind(models.TextChoices):
    NOTE = "note", "Internal note"
    REPLY = "reply", "Reply sent"


class ContactNote(models.Model):
    """The history of an inbox message: internal notes, and replies emailed to the sender."""

    contact = models.ForeignKey(ContactMessage, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=ContactNoteKind.choices)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.contact_id}"
