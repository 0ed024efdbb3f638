"""The outbox: an event is stored with the change that caused it, delivered after commit to the
durable subscribers at least once, in order per aggregate, acted on once, retried with backoff,
and not lost when the worker dies mid-delivery."""

import datetime
import time
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hms.core.events import emit, plain, subscribe
from hms.core.models import Notification, OutboxDelivery, OutboxEvent
from hms.core.outbox import backoff, outbox_dispatch
from hms.core.tasks import dispatch_events
from hms.core.tests import outbox_probe, workers
from hms.core.tests.outbox_probe import FLAKY, PROBE

QUEUED = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _fresh_probe():
    outbox_probe.seen.clear()
    outbox_probe.failures["left"] = 0


def test_payload_values_become_plain_json(make_user):
    user = make_user()
    moment = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC)
    assert plain({"actor": user, "at": moment, "fee": Decimal("12.50"), "ids": (1, user)}) == {
        "actor": str(user.pk),
        "at": "2026-03-01T09:30:00+00:00",
        "fee": "12.50",
        "ids": [1, str(user.pk)],
    }


@pytest.mark.django_db
def test_emit_stores_the_event_and_in_process_handlers_still_get_the_objects(make_user):
    user = make_user()
    got = []
    subscribe(PROBE)(lambda **payload: got.append(payload))
    emit(PROBE, user=user, key="a")
    assert got[-1]["user"] is user
    stored = OutboxEvent.objects.get()
    assert (stored.name, stored.payload) == (PROBE, {"user": str(user.pk), "key": "a"})
    assert stored.event_id and stored.version == 1 and stored.delivered_at is None


@pytest.mark.django_db
def test_an_uncatalogued_event_without_durable_subscribers_is_not_stored():
    emit("test.nobody_listens", value=1)
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_stores_no_event(make_user):
    user = make_user()
    with pytest.raises(RuntimeError), transaction.atomic():
        emit(PROBE, user=user)
        raise RuntimeError("the booking failed")
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=QUEUED, OUTBOX_DISPATCH_WINDOW_MS=300)
def test_commits_within_the_window_share_one_delivery_task_that_delivers_them_all(make_user):
    from hms.core.events import delivery_queue

    delivery_queue.forget()
    user = make_user()
    started = timezone.now()
    for key in "abc":  # three bookings, each committed on its own
        with transaction.atomic():
            emit(PROBE, user=user, key=key)
    task = DBTaskResult.objects.get()  # one task for the three, due at the window's end
    assert started + datetime.timedelta(milliseconds=300) <= task.run_after
    assert task.run_after <= timezone.now() + datetime.timedelta(milliseconds=300)

    while timezone.now() < task.run_after:  # the window ends: the next commit queues anew
        time.sleep(0.05)
    with transaction.atomic():
        emit(PROBE, user=user, key="d")
    assert DBTaskResult.objects.count() == 2

    while timezone.now() < DBTaskResult.objects.latest("run_after").run_after:
        time.sleep(0.05)
    from django.core.management import call_command

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert sorted(outbox_probe.seen) == ["a", "b", "c", "d"]
    assert not OutboxEvent.objects.filter(delivered_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=QUEUED)
def test_the_worker_delivers_after_commit_and_a_repeat_acts_once(make_user):
    user = make_user()
    with transaction.atomic():
        emit(PROBE, user=user, key="x")
        assert not DBTaskResult.objects.exists()  # nothing is queued before the commit
    assert DBTaskResult.objects.count() == 1
    from django.core.management import call_command

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    event = OutboxEvent.objects.get()
    assert event.delivered_at is not None
    assert Notification.objects.filter(user=user).count() == 1
    # Delivered again (a dispatcher that died before marking it): the subscriber does nothing.
    OutboxEvent.objects.filter(pk=event.pk).update(delivered_at=None)
    outbox_dispatch()
    assert Notification.objects.filter(user=user).count() == 1
    assert OutboxDelivery.objects.filter(event=event, subscriber="test.outbox_probe").count() == 1


@pytest.mark.django_db
def test_a_failing_subscriber_is_retried_with_backoff_and_holds_its_aggregate_back():
    outbox_probe.failures["left"] = 1
    emit(FLAKY, thing_id="7", key="first")
    emit(FLAKY, thing_id="7", key="second")
    emit(FLAKY, thing_id="8", key="other")
    assert outbox_dispatch() == 1  # only the other aggregate goes through
    assert outbox_probe.seen == ["other"]
    first = OutboxEvent.objects.get(payload__key="first")
    assert first.attempts == 1 and "receiver down" in first.last_error
    assert first.next_attempt_at > timezone.now()
    assert outbox_dispatch() == 0  # still backing off: the second waits behind the first
    later = timezone.now() + backoff(1) + datetime.timedelta(seconds=1)
    assert outbox_dispatch(now=later) == 2
    assert outbox_probe.seen == ["other", "first", "second"]


@pytest.mark.django_db
@override_settings(OUTBOX_MAX_ATTEMPTS=2)
def test_an_event_that_keeps_failing_is_marked_failed_and_releases_its_aggregate():
    outbox_probe.failures["left"] = 5
    emit(FLAKY, thing_id="7", key="doomed")
    emit(FLAKY, thing_id="7", key="next")
    far = timezone.now() + datetime.timedelta(days=1)
    outbox_dispatch()
    outbox_dispatch(now=far)
    doomed = OutboxEvent.objects.get(payload__key="doomed")
    assert doomed.failed_at is not None and doomed.delivered_at is None
    outbox_probe.failures["left"] = 0
    outbox_dispatch(now=far)
    assert outbox_probe.seen == ["next"]


def test_backoff_doubles_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [5, 10, 20]
    assert backoff(40).total_seconds() == 3600


@pytest.fixture(params=["database", "rq"])
def queue(request):
    """The task queue: the database table (the embedded default) or RQ on the real Redis."""
    if request.param == "rq":
        workers.require_redis()
        workers.empty_rq_database()
        with override_settings(TASKS=workers.RQ_TASKS, RQ_QUEUES=workers.RQ_QUEUES):
            yield request.param
    else:
        with override_settings(TASKS=QUEUED):
            yield request.param


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_loses_nothing(make_user, tmp_path, queue):
    user = make_user()
    with transaction.atomic():
        emit(PROBE, user=user, hang=True)

    def start():
        return workers.start_worker(
            queue, prelude="import hms.core.tests.outbox_probe",
            HMS_OUTBOX_PROBE_DIR=str(tmp_path),
        )  # fmt: skip

    worker = start()
    try:
        assert workers.wait_for((tmp_path / "started").exists), "the worker never took the event"
        workers.kill(worker)  # mid-delivery: the subscriber is running
        event = OutboxEvent.objects.get()
        assert event.delivered_at is None and not Notification.objects.exists()
        worker = start()
        dispatch_events.enqueue()  # the scheduler's next minute
        assert workers.wait_for(
            lambda: OutboxEvent.objects.filter(delivered_at__isnull=False).exists()
        )
    finally:
        workers.kill(worker)
    assert Notification.objects.filter(user=user).count() == 1
