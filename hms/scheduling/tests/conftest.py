from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from hms.scheduling.slots import local_zone
from hms.scheduling.tests.factories import weekly_schedule


def at(days: int, hour: int, minute: int = 0) -> datetime:
    """Local time `days` from today, as an aware datetime."""
    day = timezone.localtime(timezone.now(), local_zone()).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=local_zone())


@pytest.fixture
def schedule(db):
    return weekly_schedule()


@pytest.fixture
def doctor(schedule):
    return schedule.practitioner
