"""Arguments for the role-matrix test (tests/url_samples.py merges these in)."""


def _visit() -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from hms.feedback.services import feedback_request
    from hms.scheduling.models import Appointment, AppointmentStatus
    from hms.scheduling.tests.factories import PatientFactory, weekly_schedule

    schedule = weekly_schedule()
    start = timezone.now() - timedelta(days=2)
    appointment = Appointment.objects.create(
        patient=PatientFactory(), practitioner=schedule.practitioner,
        department_id=schedule.department_id, start=start, end=start + timedelta(minutes=15),
        status=AppointmentStatus.COMPLETED,
    )  # fmt: skip
    feedback_request(appointment_id=appointment.pk)
    return {"appointment_id": appointment.pk}


def _message() -> dict:
    from hms.feedback.services import contact_message_submit

    contact = contact_message_submit(
        name="Sample", email="sample@example.org", topic="other", message="A sample."
    )
    return {"contact_id": contact.pk}


URL_SAMPLES = {
    "feedback:portal-answer": _visit,
    "feedback:inbox-message": _message,
    "feedback:inbox-status": _message,
    "feedback:inbox-assign": _message,
    "feedback:inbox-note": _message,
}
