"""The outbox: an event is stored with the change that caused it, delivered after commit to the
durable subscribers at least once, in order per aggregate, acted on once, retried with backoff,
and not lost when the worker dies mid-delivery."""

import datetime
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hms.core.events import emit, plain, subscribe
from hms.core.models import Notification, OutboxDelivery, OutboxEvent
from hms.core.outbox import backoff, outbox_dispatch
from hms.core.tasks import dispatch_events
from hms.core.tests import outbox_probe
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


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


WORKER = (
    "import django; django.setup(); import hms.core.tests.outbox_probe; "
    "from django.core.management import call_command; "
    "call_command('db_worker', '--no-startup-delay', '--no-reload', '--interval', '0.2')"
)


def _start_worker(folder: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": _database_url(),
        "TASKS_BACKEND": "database",
        "HMS_OUTBOX_PROBE_DIR": str(folder),
    }
    return subprocess.Popen(  # noqa: S603  our own interpreter and code
        [sys.executable, "-c", WORKER],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_for(check, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=QUEUED)
def test_a_worker_killed_mid_delivery_loses_nothing(make_user, tmp_path):
    user = make_user()
    with transaction.atomic():
        emit(PROBE, user=user, hang=True)
    worker = _start_worker(tmp_path)
    try:
        assert _wait_for((tmp_path / "started").exists), "the worker never took the event"
        os.killpg(worker.pid, signal.SIGKILL)  # mid-delivery: the subscriber is running
        worker.wait(10)
        event = OutboxEvent.objects.get()
        assert event.delivered_at is None and not Notification.objects.exists()
        worker = _start_worker(tmp_path)
        dispatch_events.enqueue()  # the scheduler's next minute
        assert _wait_for(lambda: OutboxEvent.objects.filter(delivered_at__isnull=False).exists())
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    assert Notification.objects.filter(user=user).count() == 1
