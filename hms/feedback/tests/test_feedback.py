"""Visit feedback: asked once when a visit is completed, answered once by its own patient,
summed up as NPS and ratings per department and doctor."""

import itertools
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from hms.core.access import as_system
from hms.core.errors import Conflict, DomainError, NotAllowed, NotFound
from hms.core.models import AuditEvent, Notification
from hms.core.permissions import Role
from hms.feedback import selectors, services
from hms.feedback.models import VisitFeedback
from hms.scheduling import services as scheduling
from hms.scheduling.models import Appointment, AppointmentStatus
from hms.scheduling.tests.factories import PortalPatientFactory, weekly_schedule

pytestmark = pytest.mark.django_db


_hours = itertools.count(1)


def visit(patient=None, schedule=None, days_ago=1, status=AppointmentStatus.IN_CONSULTATION):
    """A visit of its own hour, so that several of one doctor never overlap."""
    schedule = schedule or weekly_schedule()
    patient = patient or PortalPatientFactory(consent_email=True)
    start = timezone.now() - timedelta(days=days_ago, hours=next(_hours))
    return Appointment.objects.create(
        patient=patient, practitioner=schedule.practitioner, department=schedule.department,
        start=start, end=start + timedelta(minutes=15), status=status,
    )  # fmt: skip


def complete(appointment, capture):
    with capture(execute=True), as_system():
        scheduling.appointment_complete(actor=None, appointment_id=appointment.pk)


def test_completing_a_visit_asks_its_patient_once_in_the_portal_and_by_email(
    django_capture_on_commit_callbacks,
):
    appointment = visit()
    complete(appointment, django_capture_on_commit_callbacks)
    feedback = VisitFeedback.objects.get()
    assert feedback.appointment == appointment and not feedback.is_answered
    notice = Notification.objects.get(user=appointment.patient.user)
    assert notice.title.startswith("How was your visit") and str(appointment.pk) in notice.url
    assert [m.to for m in mail.outbox] == [[appointment.patient.email]]
    # The event again (a replay, a second completion): nothing more is asked.
    with django_capture_on_commit_callbacks(execute=True), as_system():
        scheduling.emit(
            "appointment.completed", appointment_id=str(appointment.pk),
            patient_id=str(appointment.patient_id), service_id=None,
            practitioner_id=appointment.practitioner_id, department_id=appointment.department_id,
        )  # fmt: skip
    assert VisitFeedback.objects.count() == 1 and Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_no_email_without_consent_and_nothing_for_a_visit_not_completed(
    django_capture_on_commit_callbacks,
):
    quiet = visit(patient=PortalPatientFactory(consent_email=False))
    complete(quiet, django_capture_on_commit_callbacks)
    assert VisitFeedback.objects.count() == 1 and not mail.outbox
    booked = visit(status=AppointmentStatus.BOOKED, days_ago=-1)
    assert services.feedback_request(appointment_id=booked.pk) is None


def asked(**kwargs):
    appointment = visit(status=AppointmentStatus.COMPLETED, **kwargs)
    return services.feedback_request(appointment_id=appointment.pk)


def test_the_patient_answers_once_and_the_answer_is_audited():
    feedback = asked()
    patient_user = feedback.appointment.patient.user
    answer = services.feedback_submit(
        actor=patient_user, appointment_id=feedback.appointment_id, rating=5, nps=9,
        comment="  Kind and quick.  ",
    )  # fmt: skip
    assert (answer.rating, answer.nps, answer.comment) == (5, 9, "Kind and quick.")
    assert AuditEvent.objects.filter(action="feedback.answer", actor=patient_user).count() == 1
    with pytest.raises(Conflict) as refused:
        services.feedback_submit(
            actor=patient_user, appointment_id=feedback.appointment_id, rating=1, nps=0
        )
    assert refused.value.code == "already_answered"
    assert VisitFeedback.objects.get().rating == 5


def test_another_patients_visit_does_not_exist_and_staff_do_not_answer(make_user):
    feedback = asked()
    stranger = PortalPatientFactory().user
    with pytest.raises(NotFound):
        services.feedback_submit(
            actor=stranger, appointment_id=feedback.appointment_id, rating=5, nps=10
        )
    with pytest.raises(NotFound):
        services.feedback_submit(actor=stranger, appointment_id="not-a-uuid", rating=5, nps=10)
    with pytest.raises(NotAllowed):
        services.feedback_submit(
            actor=make_user(Role.RECEPTIONIST), appointment_id=feedback.appointment_id,
            rating=5, nps=10,
        )  # fmt: skip
    assert not VisitFeedback.objects.get().is_answered


@pytest.mark.parametrize(
    ("rating", "nps", "field"), [(0, 5, "rating"), (6, 5, "rating"), (3, 11, "nps"), (3, -1, "nps")]
)
def test_answers_out_of_range_are_refused_by_field(rating, nps, field):
    feedback = asked()
    with pytest.raises(DomainError) as refused:
        services.feedback_submit(
            actor=feedback.appointment.patient.user, appointment_id=feedback.appointment_id,
            rating=rating, nps=nps,
        )  # fmt: skip
    assert field in refused.value.fields


def test_nps_is_promoters_minus_detractors_per_department_and_doctor(make_user):
    assert selectors.nps_of(0, 0, 0) is None
    cardio, ortho = weekly_schedule(), weekly_schedule()
    for schedule, answers in ((cardio, [(5, 10), (4, 9), (2, 3)]), (ortho, [(3, 7), (1, 0)])):
        for rating, nps in answers:
            feedback = asked(schedule=schedule)
            services.feedback_submit(
                actor=feedback.appointment.patient.user,
                appointment_id=feedback.appointment_id, rating=rating, nps=nps,
            )  # fmt: skip
    asked(schedule=ortho)  # asked, not answered: not counted
    summary = selectors.feedback_summary(user=make_user(Role.ADMIN))
    # 2 promoters, 1 passive, 2 detractors of 5 answers: (2 - 2) / 5 = 0.
    assert summary.overall == {"answers": 5, "nps": 0, "rating": 3.0}
    by_department = {row["key"]: row for row in summary.by_department}
    assert by_department[cardio.department_id]["nps"] == 33  # (2 - 1) / 3
    assert by_department[ortho.department_id]["nps"] == -50  # (0 - 1) / 2
    assert by_department[ortho.department_id]["rating"] == 2.0
    assert {row["key"] for row in summary.by_practitioner} == {
        cardio.practitioner_id,
        ortho.practitioner_id,
    }
    assert summary.requested == 6
    with pytest.raises(NotAllowed):
        selectors.feedback_summary(user=make_user(Role.DOCTOR))


def test_the_portal_page_lists_and_takes_the_answer(client_for):
    feedback = asked()
    client = client_for(user=feedback.appointment.patient.user)
    page = client.get("/feedback/my/")
    assert f"/feedback/my/{feedback.appointment_id}/" in page.content.decode()
    bad = client.post(f"/feedback/my/{feedback.appointment_id}/", {"rating": "9", "nps": "3"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    done = client.post(
        f"/feedback/my/{feedback.appointment_id}/", {"rating": "4", "nps": "8", "comment": "ok"}
    )
    assert done.status_code == 302
    assert VisitFeedback.objects.get().rating == 4
    assert "No visit is waiting" in client.get("/feedback/my/").content.decode()


def test_the_dashboard_shows_the_answer_and_exports_csv_without_patient_names(client_for):
    feedback = asked()
    patient = feedback.appointment.patient
    services.feedback_submit(
        actor=patient.user, appointment_id=feedback.appointment_id, rating=5, nps=10,
        comment="=SUM(A1) lovely staff",
    )  # fmt: skip
    admin = client_for(Role.ADMIN)
    page = admin.get("/feedback/").content.decode()
    assert 'id="nps">100<' in page and "lovely staff" in page
    export = admin.get("/feedback/?format=csv")
    text = export.content.decode()
    assert export["Content-Type"].startswith("text/csv")
    assert "'=SUM(A1) lovely staff" in text and patient.family_name not in text
    assert client_for(Role.DOCTOR).get("/feedback/").status_code == 403


def test_the_api_takes_one_answer_per_visit_and_gives_staff_the_summary(client_for):
    feedback = asked()
    patient = client_for(user=feedback.appointment.patient.user)
    body = {"appointment": str(feedback.appointment_id), "rating": 4, "nps": 10, "comment": "ok"}
    created = patient.post("/api/v1/feedback/", body, content_type="application/json")
    assert created.status_code == 201 and created.json()["rating"] == 4
    again = patient.post("/api/v1/feedback/", body, content_type="application/json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_answered"
    bad = patient.post("/api/v1/feedback/", {**body, "nps": 11}, content_type="application/json")
    assert bad.status_code == 400
    assert patient.get("/api/v1/feedback/").status_code == 403
    admin = client_for(Role.ADMIN)
    listed = admin.get("/api/v1/feedback/").json()
    assert [row["appointment"] for row in listed["results"]] == [str(feedback.appointment_id)]
    assert AuditEvent.objects.filter(
        action="feedback.view", patient_ref=str(feedback.appointment.patient_id)
    ).exists()
    summary = admin.get("/api/v1/feedback/summary/").json()
    assert summary["overall"] == {"answers": 1, "nps": 100, "rating": 4.0}
