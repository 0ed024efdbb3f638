"""Arguments for the role-matrix test (tests/url_samples.py merges these in)."""

from hms.scheduling.tests.conftest import at


def _appointment() -> dict:
    from hms.scheduling.models import Appointment
    from hms.scheduling.tests.factories import PatientFactory, weekly_schedule

    schedule = weekly_schedule()
    appointment = Appointment.objects.create(
        patient=PatientFactory(),
        practitioner=schedule.practitioner,
        department_id=schedule.department_id,
        start=at(3, 10),
        end=at(3, 10, 15),
    )
    return {"appointment_id": appointment.pk}


def _schedule() -> dict:
    from hms.scheduling.tests.factories import weekly_schedule

    return {"schedule_id": weekly_schedule().pk}


def _practitioner() -> dict:
    from hms.scheduling.tests.factories import weekly_schedule

    return {"practitioner_id": weekly_schedule().practitioner_id}


def _department() -> dict:
    from hms.accounts.tests.factories import DepartmentFactory

    return {"department_id": DepartmentFactory().pk}


def _feed() -> dict:
    from hms.scheduling.tests.factories import weekly_schedule

    return {"token": weekly_schedule().calendar_token}


def _offer() -> dict:
    from hms.scheduling.models import WaitlistEntry
    from hms.scheduling.tests.factories import PatientFactory

    entry = WaitlistEntry.objects.create(
        patient=PatientFactory(), department_id=_department()["department_id"]
    )
    return {"entry_id": entry.pk}


def _api_pk(sample):
    def make() -> dict:
        value = next(iter(sample().values()))
        return {"pk": str(value)}

    return make


def _api_schedule() -> dict:
    return {"pk": str(_schedule()["schedule_id"])}


URL_SAMPLES = {
    "scheduling:appointment-detail": _appointment,
    "scheduling:appointment-check-in": _appointment,
    "scheduling:appointment-no-show": _appointment,
    "scheduling:appointment-cancel": _appointment,
    "scheduling:appointment-reschedule": _appointment,
    "scheduling:queue": _department,
    "scheduling:schedule-edit": _schedule,
    "scheduling:schedule-hours-add": _schedule,
    "scheduling:schedule-hours-remove": _schedule,
    "scheduling:schedule-exception-add": _schedule,
    "scheduling:schedule-exception-remove": _schedule,
    "scheduling:schedule-feed-rotate": _schedule,
    "scheduling:portal-doctor": _practitioner,
    "scheduling:portal-reschedule": _appointment,
    "scheduling:portal-cancel": _appointment,
    "scheduling:portal-ics": _appointment,
    "scheduling:portal-offer-decline": _offer,
    "scheduling:calendar-feed": _feed,
    "department-detail": _api_pk(_department),
    "practitioner-detail": _api_pk(_practitioner),
    "schedule-detail": _api_schedule,
    "schedule-working-hours": _api_schedule,
    "appointment-detail": _api_pk(_appointment),
    "appointment-reschedule": _api_pk(_appointment),
    "appointment-cancel": _api_pk(_appointment),
    "appointment-check-in": _api_pk(_appointment),
}
