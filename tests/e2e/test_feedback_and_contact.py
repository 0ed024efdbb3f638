"""Issue 13's feedback and Contact Us journeys in a real browser: a completed visit asks its
patient once, the answer shows on the feedback dashboard; a visitor's message reaches the
inbox and the receptionist's reply reaches the sender by email."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from hms.accounts.tests.factories import TEST_PASSWORD, UserFactory
from hms.core.access import as_system
from hms.core.permissions import Role
from hms.feedback.models import ContactMessage, VisitFeedback
from hms.scheduling import services as scheduling
from hms.scheduling.models import Appointment, AppointmentStatus
from hms.scheduling.tests.factories import PortalPatientFactory, weekly_schedule

pytestmark = pytest.mark.e2e


def test_a_completed_visit_asks_once_and_the_answer_reaches_the_dashboard(page, sign_in, login_as):
    schedule = weekly_schedule()
    me = PortalPatientFactory(user__given_name="Amara", consent_email=True)
    start = timezone.now() - timedelta(hours=2)
    visit = Appointment.objects.create(
        patient=me, practitioner=schedule.practitioner, department=schedule.department,
        start=start, end=start + timedelta(minutes=15), status=AppointmentStatus.IN_CONSULTATION,
    )  # fmt: skip
    with as_system():
        scheduling.appointment_complete(actor=None, appointment_id=visit.pk)
    assert VisitFeedback.objects.filter(appointment=visit).count() == 1
    assert [m.to for m in mail.outbox] == [[me.email]]

    sign_in(page, me.user.email, TEST_PASSWORD)
    notices = page.locator("#notices")
    expect(notices).to_contain_text(f"How was your visit to {schedule.department.name}?")
    notices.get_by_role("link", name="How was your visit").click()
    expect(page.get_by_role("heading", name="How was your visit?")).to_be_visible()
    page.get_by_role("group", name="How was your visit?").get_by_label("5").check()
    page.get_by_role("group", name="recommend").get_by_label("10").check()
    page.get_by_label("Anything you would like to tell us?").fill("Friendly and on time.")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_text("Thank you: your answer reached the hospital.")).to_be_visible()
    expect(page.locator("#no-feedback")).to_be_visible()

    page.context.clear_cookies()
    login_as(page, UserFactory(role=Role.ADMIN))
    page.goto("/dashboard/")
    menu = page.get_by_role("navigation", name="Main")
    menu.get_by_role("button", name="Feedback").click()  # an administrator's menu is grouped
    menu.get_by_role("link", name="Feedback").click()
    expect(page.locator("#nps")).to_have_text("100")
    expect(page.locator("#by-department")).to_contain_text(schedule.department.name)
    expect(page.locator("#comments")).to_contain_text("Friendly and on time.")


def test_a_visitors_message_reaches_the_inbox_and_the_reply_reaches_them(page, login_as):
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto("/")
    page.get_by_role("link", name="Write to us").click()
    page.get_by_label("Your name").fill("Ada Lovelace")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Topic").select_option(label="Appointments")
    page.get_by_label("Message").fill("Can I bring my carer to my appointment?")
    page.get_by_role("button", name="Send the message").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    contact = ContactMessage.objects.get()
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]

    page.set_viewport_size({"width": 1280, "height": 900})
    login_as(page, UserFactory(role=Role.RECEPTIONIST))
    page.goto("/dashboard/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contact inbox").click()
    page.get_by_role("link", name="Ada Lovelace").click()
    expect(page.locator("#message")).to_contain_text("carer")
    page.get_by_label("Text").fill("Yes, carers are always welcome.")
    page.get_by_label("Email this to the sender").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Reply sent by email.")).to_be_visible()
    expect(page.locator("#status")).to_have_text("Answered")
    expect(page.locator("#history")).to_contain_text("carers are always welcome")
    contact.refresh_from_db()
    assert contact.status == "answered"
    assert mail.outbox[-1].to == ["ada@example.org"]
    assert "carers are always welcome" in mail.outbox[-1].body
