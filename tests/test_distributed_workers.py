"""Past one machine: with TASKS_BACKEND=rq the outbox and a staff rule run end to end through
RQ on the real Redis, taken by several `manage.py task_worker` processes (as on several
machines), none of them the web process."""

import pytest
from django.test import override_settings
from rq import Worker

from hms.accounts.tests.factories import DepartmentFactory
from hms.core.models import Notification, OutboxEvent
from hms.core.permissions import Role
from hms.core.tests import workers
from hms.scheduling import services as scheduling
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import PatientFactory, weekly_schedule
from hms.workflows import services as workflows
from hms.workflows.models import RuleRun, RunStatus

WORKERS = 3
BOOKINGS = 6


@pytest.fixture
def rq_workers():
    workers.require_redis()
    workers.empty_rq_database()
    with override_settings(TASKS=workers.RQ_TASKS, RQ_QUEUES=workers.RQ_QUEUES):
        started = [workers.start_worker("rq") for _ in range(WORKERS)]
        try:
            yield started
        finally:
            for worker in started:
                workers.kill(worker)


def nothing_undelivered() -> bool:
    return not OutboxEvent.objects.filter(delivered_at__isnull=True).exists()


def _registered_workers() -> set[int]:
    import django_rq

    return {worker.pid for worker in Worker.all(connection=django_rq.get_connection("default"))}


@pytest.mark.django_db(transaction=True)
# 0: a job per booking; 300: the bookings of a window share a job queued to run at its end,
# which the workers' scheduler moves onto the queue when due.
@pytest.mark.parametrize("window_ms", [0, 300])
def test_a_rule_fires_through_rq_workers_in_other_processes(make_user, rq_workers, window_ms):
    from hms.core.events import delivery_queue

    delivery_queue.forget()
    admin, nurse = make_user(Role.ADMIN), make_user(Role.NURSE)
    workflows.rule_create(
        actor=admin, name="Cardiology bookings", event="appointment.booked",
        conditions=[{"field": "department_name", "op": "eq", "value": "Cardiology"}],
        actions=[{"type": "notify_role", "role": "nurse", "title": "Cardio: {{ patient_name }}"}],
    )  # fmt: skip
    cardiology = DepartmentFactory(name="Cardiology", slug="cardiology")
    doctor = weekly_schedule(department=cardiology).practitioner
    receptionist = make_user(Role.RECEPTIONIST)
    ours = {worker.pid for worker in rq_workers}
    assert workers.wait_for(lambda: ours <= _registered_workers()), "the workers did not start"

    patients = [PatientFactory() for _ in range(BOOKINGS)]
    assert workers.wait_for(nothing_undelivered), "the registrations' events were not delivered"
    with override_settings(OUTBOX_DISPATCH_WINDOW_MS=window_ms):
        for hour, patient in enumerate(patients, start=9):
            # Each booking commits on its own; its outbox event is dispatched by an RQ job.
            scheduling.appointment_book(
                actor=receptionist, patient=patient, practitioner=doctor, start=at(2, hour)
            )

    def all_delivered():
        return Notification.objects.filter(user=nurse).count() == BOOKINGS

    assert workers.wait_for(all_delivered), "the workers did not deliver every booking"
    titles = set(Notification.objects.filter(user=nurse).values_list("title", flat=True))
    assert titles == {f"Cardio: {patient.full_name}" for patient in patients}
    assert set(RuleRun.objects.values_list("status", flat=True)) == {RunStatus.SUCCEEDED}
    assert RuleRun.objects.count() == BOOKINGS  # once per event, however many workers
    assert nothing_undelivered()
