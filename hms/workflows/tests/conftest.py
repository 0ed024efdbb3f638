import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from hms.accounts.tests.factories import DepartmentFactory
from hms.scheduling.tests.factories import weekly_schedule

QUEUED = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def cardiology_doctor(db):
    cardiology = DepartmentFactory(name="Cardiology", slug="cardiology")
    schedule = weekly_schedule(department=cardiology)
    return schedule.practitioner


@pytest.fixture
def worker():
    """The real worker on the database backend: `worker()` runs every queued task, as
    `manage.py db_worker` does, until the queue is empty."""

    def run():
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    with override_settings(TASKS=QUEUED):
        yield run


@pytest.fixture
def committed():
    """Run a block in its own committed transaction (the outbox delivers after commit)."""

    def run(function, *args, **kwargs):
        with transaction.atomic():
            return function(*args, **kwargs)

    return run
