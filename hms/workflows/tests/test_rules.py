"""Rules end to end: an event stored by the outbox, delivered by the real worker on the database
backend, fires the rule, whose actions notify, email or create a task. A rule fires once per
event however often it is delivered, and each run records the rule version it used."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from hms.clinical import services as clinical
from hms.clinical.models import LabOrderStatus
from hms.clinical.tests.factories import LabOrderFactory
from hms.core.errors import DomainError
from hms.core.models import Notification, OutboxEvent
from hms.core.outbox import outbox_dispatch
from hms.core.permissions import Role
from hms.scheduling import services as scheduling
from hms.scheduling.models import Appointment, AppointmentStatus
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import PatientFactory
from hms.workflows import engine, services
from hms.workflows.models import ActionRun, Rule, RuleRun, RunStatus, StaffTask

NOTIFY_NURSES = [
    {"type": "notify_role", "role": "nurse", "title": "Cardiology: {{ patient_name }}"}
]
CARDIOLOGY = [{"field": "department_name", "op": "eq", "value": "Cardiology"}]


@pytest.mark.parametrize(
    ("op", "value", "actual", "holds"),
    [
        ("eq", "cardiology", "Cardiology", True),
        ("ne", "Cardiology", "Neurology", True),
        ("contains", "card", "Cardiology", True),
        ("in", "Neurology, Cardiology", "Cardiology", True),
        ("in", ["Neurology"], "Cardiology", False),
        ("gt", "5", "10", True),
        ("lt", "5", "10", False),
        ("gt", "2026-01-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00", True),
        ("gt", "5", None, False),
    ],
)
def test_each_operator_compares_as_staff_expect(op, value, actual, holds):
    condition = {"field": "f", "op": op, "value": value}
    assert engine.condition_holds(condition, {"f": actual}) is holds


def test_match_any_needs_one_condition_and_all_needs_every_one():
    rule = {"conditions": [{"field": "a", "op": "eq", "value": "1"},
                           {"field": "b", "op": "eq", "value": "1"}]}  # fmt: skip
    assert engine.rule_matches({**rule, "match": "any"}, {"a": "1", "b": "2"})
    assert not engine.rule_matches({**rule, "match": "all"}, {"a": "1", "b": "2"})


@pytest.mark.django_db(transaction=True)
def test_a_cardiology_booking_notifies_the_nurses_through_the_worker(
    make_user, cardiology_doctor, worker, committed
):
    admin, nurse = make_user(Role.ADMIN), make_user(Role.NURSE)
    services.rule_create(
        actor=admin, name="Cardiology bookings", event="appointment.booked",
        conditions=CARDIOLOGY, actions=NOTIFY_NURSES,
    )  # fmt: skip
    patient = PatientFactory(given_name="Ada", family_name="Byron")
    committed(
        scheduling.appointment_book,
        actor=make_user(Role.RECEPTIONIST), patient=patient, practitioner=cardiology_doctor,
        start=at(2, 10),
    )  # fmt: skip
    assert not Notification.objects.filter(user=nurse).exists()  # nothing before the worker
    worker()
    notice = Notification.objects.get(user=nurse)
    assert notice.title == f"Cardiology: {patient.full_name}"
    run = RuleRun.objects.get()
    assert (run.status, run.rule_version) == (RunStatus.SUCCEEDED, 1)


@pytest.mark.django_db(transaction=True)
def test_a_booking_elsewhere_does_not_fire_the_rule(make_user, worker, committed):
    from hms.scheduling.tests.factories import weekly_schedule

    services.rule_create(
        actor=make_user(Role.ADMIN), name="Cardiology", event="appointment.booked",
        conditions=CARDIOLOGY, actions=NOTIFY_NURSES,
    )  # fmt: skip
    make_user(Role.NURSE)
    from hms.accounts.tests.factories import DepartmentFactory

    skin = DepartmentFactory(name="Dermatology", slug="dermatology")
    doctor = weekly_schedule(department=skin).practitioner
    committed(
        scheduling.appointment_book, actor=make_user(Role.RECEPTIONIST),
        patient=PatientFactory(), practitioner=doctor, start=at(2, 10),
    )  # fmt: skip
    worker()
    assert not RuleRun.objects.exists() and not Notification.objects.exists()


@pytest.mark.django_db
def test_an_event_delivered_twice_fires_the_rule_once(make_user, cardiology_doctor):
    admin, nurse = make_user(Role.ADMIN), make_user(Role.NURSE)
    services.rule_create(
        actor=admin, name="Cardiology", event="appointment.booked",
        conditions=CARDIOLOGY, actions=NOTIFY_NURSES,
    )  # fmt: skip
    scheduling.appointment_book(
        actor=make_user(Role.RECEPTIONIST), patient=PatientFactory(),
        practitioner=cardiology_doctor, start=at(2, 10),
    )  # fmt: skip
    outbox_dispatch()
    event = OutboxEvent.objects.get(name="appointment.booked")
    engine.on_event(event=event)  # a second delivery, past the outbox's own guard
    OutboxEvent.objects.update(delivered_at=None)
    outbox_dispatch()
    assert Notification.objects.filter(user=nurse).count() == 1
    assert RuleRun.objects.count() == 1


@pytest.mark.django_db
def test_a_run_records_the_version_it_used_and_editing_makes_a_new_one(
    make_user, cardiology_doctor
):
    admin = make_user(Role.ADMIN)
    make_user(Role.NURSE)
    rule = services.rule_create(
        actor=admin, name="Cardiology", event="appointment.booked", actions=NOTIFY_NURSES
    )
    rule = services.rule_update(actor=admin, rule=rule, conditions=CARDIOLOGY)
    assert rule.version == 2 and rule.versions.count() == 2
    scheduling.appointment_book(
        actor=make_user(Role.RECEPTIONIST), patient=PatientFactory(),
        practitioner=cardiology_doctor, start=at(2, 10),
    )  # fmt: skip
    outbox_dispatch()
    assert RuleRun.objects.get().rule_version == 2
    services.rule_set_enabled(actor=admin, rule=rule, enabled=False)
    scheduling.appointment_book(
        actor=make_user(Role.RECEPTIONIST), patient=PatientFactory(),
        practitioner=cardiology_doctor, start=at(2, 11),
    )  # fmt: skip
    outbox_dispatch()
    assert RuleRun.objects.count() == 1  # a disabled rule does not fire


@pytest.mark.django_db
def test_a_rule_with_an_unknown_field_role_or_plain_http_webhook_is_refused(make_user):
    admin = make_user(Role.ADMIN)
    bad = [
        ({"event": "nope.nothing", "actions": NOTIFY_NURSES}, "event"),
        ({"event": "appointment.booked", "actions": NOTIFY_NURSES,
          "conditions": [{"field": "colour", "op": "eq", "value": "x"}]}, "conditions"),
        ({"event": "appointment.booked",
          "actions": [{"type": "notify_role", "role": "janitor"}]}, "actions"),
        ({"event": "appointment.booked",
          "actions": [{"type": "webhook", "url": "http://example.org/", "secret": "s"}]},
         "actions"),
    ]  # fmt: skip
    for fields, field in bad:
        with pytest.raises(DomainError) as refused:
            services.rule_create(actor=admin, name="x", **fields)
        assert field in refused.value.fields
    assert not Rule.objects.exists()


@pytest.mark.django_db
def test_a_dry_run_shows_what_would_happen_and_does_nothing(make_user):
    admin = make_user(Role.ADMIN)
    make_user(Role.NURSE)
    rule = services.rule_create(
        actor=admin, name="Cardiology", event="appointment.booked",
        conditions=CARDIOLOGY, actions=NOTIFY_NURSES,
    )  # fmt: skip
    yes = services.rule_dry_run(actor=admin, rule=rule, payload={"department_name": "Cardiology"})
    no = services.rule_dry_run(actor=admin, rule=rule, payload={"department_name": "Dermatology"})
    assert yes["matched"] and yes["actions"][0]["type"] == "notify_role"
    assert not no["matched"] and no["actions"] == []
    assert not Notification.objects.exists() and not RuleRun.objects.exists()


@pytest.mark.django_db
def test_a_failed_action_is_shown_failed_and_can_be_retried(
    make_user, cardiology_doctor, django_capture_on_commit_callbacks
):
    admin = make_user(Role.ADMIN)
    services.rule_create(
        actor=admin, name="Email staff", event="appointment.booked",
        actions=[{"type": "email_staff", "template": "missing", "role": "nurse"}],
    )  # fmt: skip
    nurse = make_user(Role.NURSE)
    scheduling.appointment_book(
        actor=make_user(Role.RECEPTIONIST), patient=PatientFactory(),
        practitioner=cardiology_doctor, start=at(2, 10),
    )  # fmt: skip
    outbox_dispatch()
    run = RuleRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert "no email template" in run.actions.get().error
    services.email_template_save(
        actor=admin, key="missing", name="Now here", subject="Hello", body="Body"
    )
    services.rule_run_retry(actor=admin, run=run)
    with django_capture_on_commit_callbacks(execute=True):
        engine.actions_run_due()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert [m.to for m in mail.outbox] == [[nurse.email]]


# --- The built-in workflows, end to end through the worker ---------------------------------------


@pytest.fixture
def builtins(db):
    services.builtin_workflows_seed()


@pytest.mark.django_db(transaction=True)
def test_builtin_reminder_emails_the_patient_a_day_before(
    builtins, make_user, cardiology_doctor, worker, committed
):
    patient = PatientFactory(email="ada@example.org", consent_email=True)
    appointment = committed(
        scheduling.appointment_book, actor=make_user(Role.RECEPTIONIST), patient=patient,
        practitioner=cardiology_doctor, start=at(3, 10),
    )  # fmt: skip
    worker()
    reminder = ActionRun.objects.get(run__rule__builtin="appointment-reminder")
    assert reminder.status == RunStatus.PENDING
    assert reminder.due_at == appointment.start - timedelta(days=1)
    assert engine.actions_run_due() == 0  # not yet
    engine.actions_run_due(now=reminder.due_at + timedelta(seconds=1))
    worker()  # the email leaves through the queue
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]
    assert "Reminder" in mail.outbox[0].subject


@pytest.mark.django_db(transaction=True)
def test_builtin_reminder_skips_a_cancelled_appointment(
    builtins, make_user, cardiology_doctor, worker, committed
):
    patient = PatientFactory(email="ada@example.org", consent_email=True)
    clerk = make_user(Role.RECEPTIONIST)
    appointment = committed(
        scheduling.appointment_book, actor=clerk, patient=patient,
        practitioner=cardiology_doctor, start=at(3, 10),
    )  # fmt: skip
    committed(scheduling.appointment_cancel, actor=clerk, appointment=appointment, reason="ill")
    worker()
    engine.actions_run_due(now=appointment.start)
    reminder = ActionRun.objects.get(run__rule__builtin="appointment-reminder")
    assert reminder.status == RunStatus.SKIPPED and mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_builtin_no_show_marks_a_booked_appointment_after_its_slot(
    builtins, make_user, cardiology_doctor, worker, committed
):
    appointment = committed(
        scheduling.appointment_book, actor=make_user(Role.RECEPTIONIST),
        patient=PatientFactory(), practitioner=cardiology_doctor, start=at(1, 10),
    )  # fmt: skip
    worker()
    marking = ActionRun.objects.get(run__rule__builtin="no-show-marking")
    assert marking.due_at == appointment.end + timedelta(minutes=15)
    # The day of the visit comes: the slot is over by the time the action is due.
    hour_ago = timezone.now() - timedelta(hours=1)
    Appointment.objects.filter(pk=appointment.pk).update(
        start=hour_ago, end=hour_ago + timedelta(minutes=15)
    )
    engine.actions_run_due(now=marking.due_at + timedelta(seconds=1))
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.NO_SHOW
    marking.refresh_from_db()
    assert marking.status == RunStatus.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_builtin_feedback_request_follows_a_completed_visit_once(
    builtins, make_user, cardiology_doctor, worker, committed
):
    from hms.feedback.models import VisitFeedback

    patient = PatientFactory(email="ada@example.org", consent_email=True)
    appointment = committed(
        scheduling.appointment_book, actor=make_user(Role.RECEPTIONIST), patient=patient,
        practitioner=cardiology_doctor, start=at(1, 10),
    )  # fmt: skip
    committed(
        scheduling.appointment_complete, actor=cardiology_doctor, appointment_id=appointment.pk
    )
    worker()
    engine.actions_run_due()
    worker()
    feedback = ActionRun.objects.get(run__rule__builtin="feedback-request")
    assert feedback.status in (RunStatus.SUCCEEDED, RunStatus.SKIPPED)
    assert VisitFeedback.objects.filter(appointment=appointment).count() == 1
    asked = [m for m in mail.outbox if m.subject.startswith("How was your visit")]
    assert [m.to for m in asked] == [["ada@example.org"]]  # asked once, however it came


@pytest.mark.django_db(transaction=True)
def test_builtin_critical_result_reaches_the_ordering_doctor_at_once(
    builtins, make_user, worker, committed
):
    doctor = make_user(Role.DOCTOR, email="dr.who@example.org")
    order = LabOrderFactory(
        test_code="718-7", test_name="Haemoglobin", ordered_by=doctor,
        status=LabOrderStatus.COLLECTED, collected_at=timezone.now(),
    )  # fmt: skip
    committed(clinical.lab_result_record, actor=make_user(Role.LAB), order=order, value="60")
    worker()
    task = StaffTask.objects.get(assignee=doctor)
    assert "Act on critical result" in task.title and task.due_at is not None
    assert task.patient_id == str(order.patient_id)
    assert ["dr.who@example.org"] in [m.to for m in mail.outbox]


@pytest.mark.django_db
def test_a_failing_action_is_retried_with_backoff_then_shown_failed(
    make_user, cardiology_doctor, settings, monkeypatch
):
    settings.WORKFLOW_ACTION_MAX_ATTEMPTS = 2
    calls = []

    def receiver_down(spec, payload, action):
        calls.append(action.attempts)
        raise ConnectionError("receiver down")

    monkeypatch.setitem(engine.BUILTINS, "flaky", receiver_down)
    services.rule_create(
        actor=make_user(Role.ADMIN), name="Flaky", event="appointment.booked",
        actions=[{"type": "builtin", "name": "flaky"}],
    )  # fmt: skip
    scheduling.appointment_book(
        actor=make_user(Role.RECEPTIONIST), patient=PatientFactory(),
        practitioner=cardiology_doctor, start=at(2, 10),
    )  # fmt: skip
    outbox_dispatch()
    action = ActionRun.objects.get()
    assert (action.status, action.attempts) == (RunStatus.PENDING, 1)
    assert action.due_at > timezone.now()  # backing off
    assert engine.actions_run_due() == 0
    engine.actions_run_due(now=action.due_at + timedelta(seconds=1))
    action.refresh_from_db()
    assert (action.status, action.attempts) == (RunStatus.FAILED, 2)
    assert "receiver down" in action.error and calls == [1, 2]
    assert action.run.status == RunStatus.FAILED


@pytest.mark.django_db
def test_a_user_who_chose_email_gets_the_notice_by_email(
    make_user, cardiology_doctor, django_capture_on_commit_callbacks
):
    from hms.core.notifications import notification_preferences_set

    nurse = make_user(Role.NURSE, email="nurse.n@example.org")
    notification_preferences_set(user=nurse, in_app=False, email=True)
    services.rule_create(
        actor=make_user(Role.ADMIN), name="Cardiology", event="appointment.booked",
        conditions=CARDIOLOGY, actions=NOTIFY_NURSES,
    )  # fmt: skip
    scheduling.appointment_book(
        actor=make_user(Role.RECEPTIONIST), patient=PatientFactory(),
        practitioner=cardiology_doctor, start=at(2, 10),
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        outbox_dispatch()
    assert not Notification.objects.filter(user=nurse).exists()
    assert [m.to for m in mail.outbox] == [["nurse.n@example.org"]]
