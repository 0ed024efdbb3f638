"""The assistant: emergencies first, answers with their source, acts for the signed-in patient
only after a yes and through the portal's services, never shows anyone else's record, and hands
over to a person."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from hms.assistant import demo, nlu
from hms.assistant.models import Article, Conversation, Message
from hms.assistant.services import assistant_message_send, conversations_purge
from hms.billing import services as billing
from hms.billing.models import Invoice
from hms.core.access import as_system
from hms.core.errors import NotFound
from hms.core.models import AuditEvent, Department, Hospital
from hms.core.permissions import Role
from hms.feedback.models import ContactMessage
from hms.scheduling.models import Appointment, AppointmentStatus, BookingChannel
from hms.scheduling.services import appointment_book_as
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import PortalPatientFactory, weekly_schedule

pytestmark = pytest.mark.django_db

EMERGENCY_PHONE = "+44 20 7946 0999"


@pytest.fixture(autouse=True)
def hospital(db):
    demo.seed(None)
    return Hospital.objects.create(name="St. Test", emergency_phone=EMERGENCY_PHONE)


@pytest.fixture
def schedule(db):
    return weekly_schedule()


@pytest.fixture
def patient(db):
    return PortalPatientFactory()


def say(user, *texts, conversation=None):
    answer = None
    for text in texts:
        conversation, answer = assistant_message_send(
            user=user, conversation_id=conversation.pk if conversation else None, text=text
        )
    return conversation, answer


def api(client, text, conversation=None):
    body = {"text": text}
    if conversation:
        body["conversation"] = conversation
    return client.post("/api/v1/assistant/messages", body, content_type="application/json")


# --- Safety ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I have crushing chest pain",
        "book me a doctor, I have crushing chest pain",
        "my chset is hurtng really bad",
        "I think my dad is having a stroke, his face is drooping",
        "I want to end my life",
        "she collapsed and is unconscious",
        "my throat is swelling after a bee sting",
    ],
)
def test_an_emergency_gets_the_emergency_number_first(client, text):
    response = api(client, text)
    assert response.status_code == 200
    data = response.json()
    assert data["intent"] == "emergency"
    assert data["reply"].startswith("This may be an emergency. Call " + EMERGENCY_PHONE)


def test_an_emergency_wins_over_a_booking_waiting_for_its_yes(patient, schedule):
    conversation, _ = say(patient.user, f"Book with {schedule.department.name}", "option 1")
    assert conversation.state["pending"]["action"] == "book"
    conversation, answer = say(patient.user, "yes but I can't breathe", conversation=conversation)
    assert answer.intent == "emergency"
    conversation.refresh_from_db()
    assert "pending" not in conversation.state and not Appointment.objects.exists()


def test_it_declines_to_diagnose_or_prescribe(patient):
    _, answer = say(patient.user, "can you prescribe me antibiotics for my cough")
    assert "can't diagnose" in answer.text and "prescribe" in answer.text


def test_ordinary_words_are_not_emergencies():
    for text in ["what are the visiting hours", "book an appointment for my knee", "hello"]:
        assert nlu.emergency_in(text) is None, text


# --- Knowledge and doctors ------------------------------------------------------------------


def test_a_question_is_answered_from_the_knowledge_base_with_its_source(client):
    data = api(client, "where can I park my car?").json()
    assert data["intent"] == "faq"
    assert data["sources"] == [{"title": "Parking", "url": "/assistant/help/parking/"}]
    assert client.get("/assistant/help/parking/").status_code == 200


def test_staff_edits_reach_the_answers_at_once(client_for):
    admin = client_for(Role.ADMIN)
    response = admin.post(
        "/assistant/articles/new/",
        {"title": "Pharmacy", "body": "The pharmacy is open 8-20.", "keywords": "pharmacy, "
         "medicines pickup", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="assistant.article_save").exists()
    _, answer = say(None, "what are the pharmacy opening hours?")
    assert answer.sources[0]["title"] == "Pharmacy"


def test_symptom_words_find_the_department(schedule):
    Department.objects.filter(pk=schedule.department_id).update(name="Orthopaedics")
    _, answer = say(None, "my knee hurts")
    assert answer.intent == "find_doctor"
    assert answer.text.startswith("Orthopaedics:")
    assert schedule.practitioner.full_name in answer.text


# --- Acting for the signed-in patient -------------------------------------------------------


def test_a_patient_books_only_after_confirming(patient, schedule):
    conversation, offer = say(patient.user, f"I want to book with {schedule.department.name}")
    assert offer.intent == "book_appointment" and "Option 1" in offer.text
    conversation, question = say(patient.user, "option 1", conversation=conversation)
    assert "Say yes to confirm" in question.text
    assert not Appointment.objects.exists()
    conversation, done = say(patient.user, "yes", conversation=conversation)
    appointment = Appointment.objects.get()
    assert done.text.startswith("Booked:")
    assert (appointment.patient, appointment.channel) == (patient, BookingChannel.PORTAL)
    assert appointment.booked_by == patient.user


def test_no_means_nothing_is_booked(patient, schedule):
    _, answer = say(patient.user, f"Book with {schedule.department.name}", "option 1", "no")
    assert answer.text == "All right, nothing was changed." and not Appointment.objects.exists()


def test_a_slot_taken_meanwhile_is_refused_like_in_the_portal(patient, schedule):
    conversation, _ = say(patient.user, f"Book with {schedule.department.name}", "option 1")
    pending = conversation.state["pending"]
    other = PortalPatientFactory()
    appointment_book_as(
        actor=other.user,
        practitioner=schedule.practitioner,
        start=datetime.fromisoformat(pending["start"]),
    )
    _, answer = say(patient.user, "yes", conversation=conversation)
    assert "not a free slot" in answer.text
    assert Appointment.objects.filter(patient=patient).count() == 0


def test_a_patient_cancels_after_confirming(patient, schedule):
    # Booked a few days ahead (past the online cut-off) through the portal's service.
    appointment = appointment_book_as(
        actor=patient.user, practitioner=schedule.practitioner, start=at(3, 10)
    )
    conversation, question = say(patient.user, "cancel my appointment")
    appointment.refresh_from_db()
    assert "Say yes to confirm" in question.text and appointment.status == AppointmentStatus.BOOKED
    say(patient.user, "yes", conversation=conversation)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED


def test_anonymous_my_appointments_is_asked_to_sign_in(client):
    data = api(client, "when is my next appointment?").json()
    assert data["intent"] == "my_appointments"
    assert data["reply"].startswith("Please sign in first")
    assert data["actions"][0]["url"] == "/accounts/login/"


def test_another_patients_appointments_never_appear(client_for, patient, schedule):
    say(patient.user, f"Book with {schedule.department.name}", "option 1", "yes")
    assert Appointment.objects.filter(patient=patient).exists()
    mine, _ = say(patient.user, "hello")
    someone = PortalPatientFactory()
    _, answer = say(someone.user, "my appointments")
    assert "no upcoming appointments" in answer.text
    assert schedule.practitioner.full_name not in answer.text
    # Nor may they continue the first patient's conversation, by the page or the API.
    with pytest.raises(NotFound):
        say(someone.user, "yes", conversation=mine)
    response = api(client_for(user=someone.user), "yes", conversation=str(mine.pk))
    assert response.status_code == 404 and response.json()["error"]["code"] == "no_conversation"


def test_my_balance_needs_sign_in_and_tells_what_the_patient_owes(patient):
    _, anonymous = say(None, "how much do I owe")
    assert anonymous.text.startswith("Please sign in first")
    _, nothing = say(patient.user, "how much do I owe")
    assert "You owe nothing." in nothing.text
    with as_system():
        billing.charge_add(
            actor=None, patient=patient, description="Dressing", unit_price=Decimal("12.50")
        )
        billing.invoice_issue(actor=None, invoice=Invoice.objects.get(patient=patient))
    _, owed = say(patient.user, "what is my balance")
    assert "You owe 12.50." in owed.text
    assert AuditEvent.objects.filter(action="assistant.balance_view").count() == 2


# --- A person -------------------------------------------------------------------------------


def test_asking_for_a_person_opens_a_contact_us_message(patient):
    _, answer = say(patient.user, "I can't find parking info", "I want to talk to a person")
    contact = ContactMessage.objects.get()
    assert f"C-{contact.pk}" in answer.text
    assert (contact.sender, contact.email) == (patient.user, patient.user.email)
    assert "I can't find parking info" in contact.message


def test_an_anonymous_visitor_is_asked_for_a_way_back_first():
    conversation, answer = say(None, "let me talk to a human")
    assert "email address or phone number" in answer.text and not ContactMessage.objects.exists()
    _, done = say(None, "Ann Smith ann@example.org", conversation=conversation)
    contact = ContactMessage.objects.get()
    assert (contact.name, contact.email) == ("Ann Smith", "ann@example.org")
    assert f"C-{contact.pk}" in done.text


def test_two_misunderstandings_in_a_row_hand_over(patient):
    _, first = say(patient.user, "qwerty zxcv")
    assert first.intent == "unknown" and not ContactMessage.objects.exists()
    conversation, second = say(patient.user, "qwerty zxcv", "blorp flarn")
    assert ContactMessage.objects.count() == 1 and "patient relations" in second.text


# --- The API, ratings, logs, retention ------------------------------------------------------


def test_bad_input_is_a_json_error_with_a_code(client):
    assert api(client, "").json()["error"]["code"] == "invalid"
    assert api(client, "x" * 1001).status_code == 400
    response = api(client, "hi", conversation="not-a-uuid")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    response = api(client, "hi", conversation="00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404


def test_a_conversation_continues_through_the_api(client):
    first = api(client, "hello").json()
    second = api(client, "where do I park", conversation=first["conversation"]).json()
    assert second["conversation"] == first["conversation"]
    assert Conversation.objects.get().messages.count() == 4


def test_a_reply_is_rated_through_the_api_by_its_own_conversation_only(client, client_for):
    first = api(client, "where do I park").json()
    url = f"/api/v1/assistant/messages/{first['message']}/rating"
    response = client.post(url, {"rating": 1}, content_type="application/json")
    assert response.status_code == 200 and response.json()["rating"] == 1
    assert Message.objects.get(pk=first["message"]).rating == 1
    bad = client.post(url, {"rating": 5}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"
    other = client_for(Role.PATIENT).post(url, {"rating": -1}, content_type="application/json")
    assert other.status_code == 404


def test_a_patient_rates_a_reply_and_staff_see_it_in_the_logs(client, client_for):
    client.post("/assistant/", {"text": "where do I park"})
    reply = Message.objects.filter(sender="assistant").get()
    assert client.post(f"/assistant/messages/{reply.pk}/rate/", {"rating": "-1"}).status_code == 302
    reply.refresh_from_db()
    assert reply.rating == -1
    # Someone else's reply is not theirs to rate.
    other_client = client_for(Role.PATIENT)
    response = other_client.post(f"/assistant/messages/{reply.pk}/rate/", {"rating": "1"})
    assert response.status_code == 404
    admin = client_for(Role.ADMIN)
    logs = admin.get("/assistant/conversations/?rated=down").content.decode()
    assert f"/assistant/conversations/{reply.conversation_id}/" in logs
    page = admin.get(f"/assistant/conversations/{reply.conversation_id}/").content.decode()
    assert "where do I park" in page and "👎" in page
    assert AuditEvent.objects.filter(action="assistant.conversation_view").exists()


def test_the_widget_is_on_public_and_portal_pages_but_not_staff_pages(client, client_for):
    assert 'id="assistant-panel"' in client.get("/").content.decode()
    assert 'aria-live="polite"' in client.get("/").content.decode()
    assert 'id="assistant-panel"' in client_for(Role.PATIENT).get("/dashboard/").content.decode()
    assert 'id="assistant-panel"' not in client_for(Role.DOCTOR).get("/dashboard/").content.decode()


def test_the_chat_page_works_without_javascript(client):
    response = client.post("/assistant/", {"text": "what are the visiting hours"}, follow=True)
    page = response.content.decode()
    assert "what are the visiting hours" in page and "14:00 to 20:00" in page


def test_old_conversations_are_purged(settings):
    settings.ASSISTANT_RETENTION_DAYS = 30
    old, _ = say(None, "hello")
    Conversation.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=31))
    recent, _ = say(None, "hello")
    assert conversations_purge() == 1
    assert list(Conversation.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not Article.objects.filter(is_active=False).exists()


def test_every_emergency_of_the_evaluation_set_is_caught_without_the_classifier():
    """The emergency patterns alone (no trained model) catch each emergency the benchmark
    lists: a change to the pattern list cannot silently lose one."""
    from pathlib import Path

    import hms

    rows = (Path(hms.__file__).parent.parent / "bench/data/assistant_eval.tsv").read_text()
    emergencies = [
        line.split("\t")[2] for line in rows.splitlines() if line.startswith("emergency\t")
    ]
    assert len(emergencies) >= 40
    assert [text for text in emergencies if nlu.emergency_in(text) is None] == []
