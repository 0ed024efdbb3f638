from django.conf import settings
from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Hospital(TimeStampedModel):
    """The hospital running this installation: shown on the public pages and documents."""

    name = models.CharField(max_length=200)
    tagline = models.CharField(max_length=300, blank=True)
    address = models.TextField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    emergency_phone = models.CharField(max_length=40, blank=True)
    opening_hours = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.name


class Department(TimeStampedModel):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    location = models.CharField(max_length=120, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


CHAIN_FIELDS = frozenset({"seq", "prev_hash", "hash", "sealed_at"})


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        """Only the sealer's one-time fill of the chain columns; the database refuses the rest."""
        if not kwargs or set(kwargs) - CHAIN_FIELDS:
            raise PermissionError("Audit events are append-only")
        return super().update(**kwargs)

    def delete(self):
        raise PermissionError("Audit events are append-only")

    def unsealed(self):
        return self.filter(seq__isnull=True)


class AuditEvent(models.Model):
    """One append-only line of the audit trail.

    A request inserts the row with a plain INSERT (no lock shared with other writers) and a keyed
    `mac` over its content. The sealer (`audit_seal`) later links unsealed rows in `id` order into
    a hash chain: `seq` is the row's place in the chain and `hash` = sha256(previous hash, seq,
    mac, content). Editing a row breaks its mac and the chain from it on; deleting a sealed row
    leaves a hole in `seq`; `manage.py audit_verify` reports both. Database triggers refuse
    UPDATE and DELETE, except that one fill of the chain columns.
    """

    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True)
    role = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient_ref = models.CharField(max_length=64, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)
    mac = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    sealed_at = models.DateTimeField(null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["actor", "occurred_at"]),
            models.Index(
                fields=["id"], condition=models.Q(seq__isnull=True), name="core_audit_unsealed"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} by {self.actor_email or 'anonymous'}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only")


class AuditChainHead(models.Model):
    """The last sealed link of the audit chain: one row, locked only by the sealer."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"


class Notification(models.Model):
    """An in-app message to one user (a reminder, a waitlist offer, a critical lab result)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.title


class OutboxEvent(models.Model):
    """A domain event, written by `emit` in the emitter's transaction (so it exists exactly when
    the change that caused it committed) and delivered after commit to the asynchronous
    subscribers by the dispatcher (`hms.core.outbox`). `id` gives the order; events of one
    aggregate (one appointment, one patient...) are delivered in that order."""

    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(unique=True, editable=False)
    name = models.CharField(max_length=100, db_index=True)
    version = models.PositiveSmallIntegerField(default=1)
    aggregate = models.CharField(max_length=120, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)  # gave up after the last retry
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"],
                condition=models.Q(delivered_at__isnull=True, failed_at__isnull=True),
                name="core_outbox_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.event_id}"


class OutboxDelivery(models.Model):
    """One event handed to one asynchronous subscriber. Written in the same transaction as the
    subscriber's own writes, so a second delivery of the event finds it and does nothing: the
    (event, subscriber) pair is the idempotency key."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.CharField(max_length=100)
    delivered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "subscriber"], name="core_delivery_once")
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.subscriber}"


class NotificationPreference(models.Model):
    """How a user wants to hear from the hospital's workflows: in the app, by email, or both."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"
