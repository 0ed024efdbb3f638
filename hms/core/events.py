"""Domain events: a lower app announces what happened; higher apps subscribe.

Two kinds of subscriber:

- `subscribe`: in-transaction handlers, called by `emit` in the emitter's transaction (so a
  handler's writes commit or roll back with the change that caused them). They receive the
  payload as the emitter passed it (model instances included). They run `as_system()`: they
  carry out what the emitting service, which checked its actor, started (a check-in opens the
  encounter even though the receptionist may not write the clinical record).
- `subscribe_async`: durable subscribers. `emit` also writes a catalogued event (or one that
  has an asynchronous subscriber) to the outbox (`OutboxEvent`) in the same transaction; the
  dispatcher (`hms.core.outbox`, run by the task worker) hands it to these after commit, at
  least once, in order per aggregate, retrying with backoff. They receive the stored
  `OutboxEvent` (plain JSON payload) and are idempotent by (event id, subscriber name).

The catalogue (`register_event`) documents each event's payload fields and their types; the
workflow rules and `GET /api/v1/workflows/events/` read it.
"""

import contextlib
import datetime
import decimal
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models, transaction

from hms.core.access import as_system

_handlers: dict[str, list[Callable[..., None]]] = defaultdict(list)

ANY_EVENT = "*"


@dataclass(frozen=True)
class EventType:
    """One catalogued event: its payload fields (name -> type: "id", "str", "int", "decimal",
    "bool", "datetime", "date") and the field that names its aggregate (delivery order)."""

    name: str
    fields: dict[str, str]
    description: str = ""
    version: int = 1
    aggregate: str = ""
    labels: dict[str, str] = field(default_factory=dict)  # field -> words for the rule builder


CATALOGUE: dict[str, EventType] = {}


def register_event(
    name: str,
    fields: dict[str, str],
    description: str = "",
    *,
    version: int = 1,
    aggregate: str = "",
    labels: dict[str, str] | None = None,
) -> EventType:
    """Add an event to the catalogue (one line in the emitting app, or in workflows)."""
    kind = EventType(name, dict(fields), description, version, aggregate, dict(labels or {}))
    CATALOGUE[name] = kind
    return kind


@dataclass(frozen=True)
class AsyncSubscriber:
    name: str
    event: str
    handler: Callable


_async: dict[str, AsyncSubscriber] = {}


def subscribe_async(event: str, *, name: str):
    """Decorator: hand each stored `event` (or every event, with "*") to the function after
    commit, as `handler(event=OutboxEvent)`. `name` is the subscriber's idempotency key: keep
    it stable."""

    def register(handler: Callable):
        _async[name] = AsyncSubscriber(name, event, handler)
        return handler

    return register


def async_subscribers(event: str) -> list[AsyncSubscriber]:
    return [s for s in _async.values() if s.event in (event, ANY_EVENT)]


def _stored(event: str) -> bool:
    """Catalogued events, and any other that a subscriber names (a "*" subscriber sees only
    the stored ones: an event nobody documented or asked for stays in-process)."""
    return event in CATALOGUE or any(s.event == event for s in _async.values())


def subscribe(event: str):
    """Decorator: call the function with the event's keyword payload each time it is emitted."""

    def register(handler: Callable[..., None]):
        if handler not in _handlers[event]:
            _handlers[event].append(handler)
        return handler

    return register


def plain(value):
    """A payload value as JSON: a model instance becomes its key as a string, times ISO 8601,
    decimals strings (exact), containers element by element."""
    if isinstance(value, models.Model):
        return None if value.pk is None else str(value.pk)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _aggregate_of(event: str, payload: dict) -> str:
    kind = CATALOGUE.get(event)
    prefix = event.split(".", 1)[0]
    keys = [kind.aggregate] if kind and kind.aggregate else [f"{prefix}_id", prefix]
    for key in keys:
        if payload.get(key) not in (None, ""):
            return f"{prefix}:{payload[key]}"[:120]
    return ""


def _store(event: str, payload: dict) -> None:
    from hms.core.models import OutboxEvent

    data = plain(payload)
    kind = CATALOGUE.get(event)
    OutboxEvent.objects.create(
        event_id=uuid.uuid4(),
        name=event,
        version=kind.version if kind else 1,
        aggregate=_aggregate_of(event, data),
        payload=data,
    )
    transaction.on_commit(_dispatch_soon)


class _DeliveryQueue:
    """Queues the outbox's delivery task after commits, at most one per process per window.

    A delivery task takes the events committed before it starts (the oldest 500 that are due;
    the scheduler's minute takes any left). So a task queued to run after a moment
    (`run_after`, the end of the window) serves every commit of this process until that moment:
    each of them happened before the task can start. Without a window (0),
    or with a queue that cannot defer, each commit queues its own task, as a row (database
    queue) or a job (RQ) each."""

    def __init__(self):
        self._lock = threading.Lock()
        self._runs_after: datetime.datetime | None = None  # the task this process queued last

    def after_commit(self) -> None:
        from django.conf import settings
        from django.utils import timezone

        from hms.core.tasks import dispatch_events

        window = settings.OUTBOX_DISPATCH_WINDOW_MS
        if window == 0 or not dispatch_events.get_backend().supports_defer:
            dispatch_events.enqueue()
            return
        with self._lock:
            now = timezone.now()
            if self._runs_after is not None and now < self._runs_after:
                return  # the task queued last has not started: it will deliver this commit's
            runs_after = now + datetime.timedelta(milliseconds=window)
            dispatch_events.using(run_after=runs_after).enqueue()
            self._runs_after = runs_after

    def forget(self) -> None:
        """As after the window (tests)."""
        self._runs_after = None


delivery_queue = _DeliveryQueue()


def _dispatch_soon() -> None:
    # A queue that is down loses nothing: the scheduler's next minute delivers the event.
    with contextlib.suppress(Exception):
        delivery_queue.after_commit()


def emit(event: str, **payload) -> None:
    with as_system():
        for handler in list(_handlers[event]):
            handler(**payload)
    if _stored(event):
        _store(event, payload)
