"""The dispatcher of the outbox: hands stored events to the asynchronous subscribers.

At least once: an event stays pending until every subscriber has taken it; a worker killed
half-way rolls its transaction back and the next run (the worker shortly after a commit, the
scheduler every minute) delivers it again. Exactly once in effect: each subscriber's writes
commit together with its `OutboxDelivery` row, so a repeat finds the row and skips. In order
per aggregate: a later event of an appointment waits while an earlier one is pending or backing
off. A failing subscriber is retried with exponential backoff; after OUTBOX_MAX_ATTEMPTS the
event is marked failed (shown on the events page) and stops holding its aggregate back.

Cost: one query for the pending batch, then per event one read of its deliveries, one
transaction per subscriber and one update.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from hms.core.access import as_system
from hms.core.events import async_subscribers
from hms.core.models import OutboxDelivery, OutboxEvent


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s... doubling, at most an hour."""
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 3600))


def _deliver(event: OutboxEvent) -> list[str]:
    errors = []
    done = set(OutboxDelivery.objects.filter(event=event).values_list("subscriber", flat=True))
    for subscriber in async_subscribers(event.name):
        if subscriber.name in done:
            continue
        try:
            with transaction.atomic():
                try:
                    with transaction.atomic():
                        OutboxDelivery.objects.create(event=event, subscriber=subscriber.name)
                except IntegrityError:
                    continue  # another dispatcher delivered it meanwhile
                with as_system():
                    subscriber.handler(event=event)
        except Exception as exc:  # the subscriber's writes rolled back with its delivery row
            errors.append(f"{subscriber.name}: {type(exc).__name__}: {exc}")
    return errors


def outbox_dispatch(*, limit: int = 500, now: datetime | None = None) -> int:
    """Deliver the pending events (oldest first); returns how many were fully delivered."""
    now = now or timezone.now()
    pending = OutboxEvent.objects.filter(delivered_at__isnull=True, failed_at__isnull=True)
    held: set[str] = set()
    delivered = 0
    for event in pending.order_by("id")[:limit]:
        if event.aggregate and event.aggregate in held:
            continue
        if event.next_attempt_at and event.next_attempt_at > now:
            held.add(event.aggregate)
            continue
        errors = _deliver(event)
        at = timezone.now()
        if not errors:
            OutboxEvent.objects.filter(pk=event.pk).update(delivered_at=at, last_error="")
            delivered += 1
            continue
        attempts = event.attempts + 1
        changes = {
            "attempts": attempts,
            "last_error": "\n".join(errors)[:4000],
            "next_attempt_at": at + backoff(attempts),
        }
        if attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            changes["failed_at"] = at
        else:
            held.add(event.aggregate)
        OutboxEvent.objects.filter(pk=event.pk).update(**changes)
    return delivered
