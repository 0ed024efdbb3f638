"""Issue 13's assistant journeys in a real browser: a signed-in patient books through the chat
widget, confirming before anything is booked; an anonymous visitor asking for their
appointments is asked to sign in."""

import pytest
from playwright.sync_api import expect

from hms.assistant import demo, nlu
from hms.scheduling.models import Appointment, BookingChannel
from hms.scheduling.tests.factories import PortalPatientFactory, weekly_schedule

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True, scope="module")
def _trained():
    """Train (or load) the model before the browser waits on the first answer."""
    nlu.intent_model()


def ask(page, text: str) -> None:
    box = page.get_by_label("Your question for the assistant")
    box.fill(text)
    box.press("Enter")


def test_a_patient_books_through_the_chat_widget_after_confirming(page, login_as):
    schedule = weekly_schedule()
    me = PortalPatientFactory()
    login_as(page, me.user)
    page.goto("/dashboard/")
    page.get_by_role("button", name="Ask us").click()
    log = page.get_by_role("log")
    ask(page, f"I want to book an appointment with {schedule.department.name}")
    expect(log).to_contain_text("Option 1:")
    log.get_by_role("button", name="Book option 1").click()
    expect(log).to_contain_text("Say yes to confirm")
    assert not Appointment.objects.exists()
    log.get_by_role("button", name="Yes, confirm").last.click()
    expect(log).to_contain_text("Booked:")
    appointment = Appointment.objects.get()
    assert (appointment.patient, appointment.channel) == (me, BookingChannel.PORTAL)
    # The box is cleared and keeps the focus: the keyboard can carry on.
    expect(page.get_by_label("Your question for the assistant")).to_have_value("")


def test_an_anonymous_visitor_asking_for_appointments_is_asked_to_sign_in(page):
    demo.seed(None)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto("/")
    page.get_by_role("button", name="Ask us").click()
    ask(page, "when is my next appointment?")
    log = page.get_by_role("log")
    expect(log).to_contain_text("Please sign in first")
    expect(log.get_by_role("link", name="Sign in")).to_have_attribute("href", "/accounts/login/")
    ask(page, "where can I park?")
    expect(log.get_by_role("link", name="Parking")).to_be_visible()
