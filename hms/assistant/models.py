"""The assistant's knowledge base (articles staff edit) and its conversations (kept for
ASSISTANT_RETENTION_DAYS, rated by patients so staff can improve the answers)."""

import uuid

from django.conf import settings
from django.db import models

from hms.core.models import TimeStampedModel


class Article(TimeStampedModel):
    """A knowledge-base article the assistant answers from and links to."""

    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField()
    keywords = models.CharField(
        max_length=500, blank=True, help_text="Words and phrases patients use, comma-separated."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Conversation(TimeStampedModel):
    """One chat: a signed-in user's, or an anonymous browser session's. `state` holds what the
    assistant offered and waits to be confirmed (never personal data of anyone else)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    session_key = models.CharField(max_length=64, blank=True, db_index=True)
    state = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["updated_at"])]


class Sender(models.TextChoices):
    USER = "user", "Patient"
    ASSISTANT = "assistant", "Assistant"


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sender = models.CharField(max_length=10, choices=Sender.choices)
    text = models.TextField()
    intent = models.CharField(max_length=40, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    sources = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list, blank=True)
    rating = models.SmallIntegerField(
        null=True, blank=True, help_text="+1 helpful, -1 not helpful (assistant replies only)."
    )

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__in=[-1, 1]) | models.Q(rating__isnull=True),
                name="assistant_rating_up_or_down",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_sender_display()}: {self.text[:60]}"
