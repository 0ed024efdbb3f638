from datetime import time

import factory

from hms.accounts.tests.factories import DepartmentFactory, StaffProfileFactory, UserFactory
from hms.core.permissions import Role
from hms.patients.tests.factories import PatientFactory
from hms.scheduling.models import Schedule, Service, WorkingHours


class PortalPatientFactory(PatientFactory):
    """A patient with a portal account."""

    user = factory.SubFactory(UserFactory, role=Role.PATIENT)


class ScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Schedule

    practitioner = factory.LazyAttribute(lambda o: StaffProfileFactory().user)
    department = factory.LazyAttribute(lambda o: o.practitioner.staff_profile.department)


class WorkingHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingHours

    schedule = factory.SubFactory(ScheduleFactory)
    weekday = 0
    start_time = time(9, 0)
    end_time = time(12, 0)
    slot_minutes = 15
    location = "Clinic 1"


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    department = factory.SubFactory(DepartmentFactory)
    name = factory.Sequence(lambda n: f"Consultation {n}")
    duration_minutes = 15


def weekly_schedule(days=range(7), start=time(9, 0), end=time(17, 0), slot=15, **kwargs):
    """A schedule open on the given weekdays (every day by default)."""
    schedule = ScheduleFactory(**kwargs)
    for day in days:
        WorkingHoursFactory(
            schedule=schedule, weekday=day, start_time=start, end_time=end, slot_minutes=slot
        )
    return schedule
