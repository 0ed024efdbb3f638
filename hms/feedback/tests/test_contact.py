"""Contact Us: anyone writes (spam trap, rate limit, size limits), the sender is confirmed by
email, the inbox staff assign, note, reply by email and close; everything audited."""

import pytest
from django.core import mail

from hms.core.errors import DomainError, NotAllowed
from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.feedback import services
from hms.feedback.limits import CONTACT_LIMIT
from hms.feedback.models import ContactMessage, ContactStatus

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Ada Lovelace",
    "email": "ada@example.org",
    "phone": "",
    "topic": "appointments",
    "message": "Can I bring my carer to my appointment?",
    "website": "",
}


def test_a_message_reaches_the_inbox_and_its_sender_gets_a_confirmation(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/contact/", FORM)
    assert response.status_code == 302 and response.url == "/contact/thanks/"
    contact = ContactMessage.objects.get()
    assert (contact.name, contact.status, contact.sender) == ("Ada Lovelace", "new", None)
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]
    assert f"C-{contact.pk}" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="contact.receive", object_id=str(contact.pk)).exists()


def test_the_spam_trap_keeps_nothing_and_looks_like_success(client):
    response = client.post("/contact/", {**FORM, "website": "http://cheap-pills.example"})
    assert response.status_code == 302
    assert not ContactMessage.objects.exists() and not mail.outbox


def test_a_phone_number_is_enough_but_one_way_back_is_needed(client):
    page = client.post("/contact/", {**FORM, "email": "", "phone": ""})
    assert (
        page.status_code == 200
        and "Give an email address or a phone number" in page.content.decode()
    )
    assert (
        client.post("/contact/", {**FORM, "email": "", "phone": "+44 20 7946 0000"}).status_code
        == 302
    )
    assert ContactMessage.objects.get().phone == "+44 20 7946 0000" and not mail.outbox


def test_an_oversized_message_is_a_form_error_not_a_500(client):
    page = client.post("/contact/", {**FORM, "message": "x" * 6000})
    assert page.status_code == 200 and "is-invalid" in page.content.decode()
    assert not ContactMessage.objects.exists()


def test_one_sender_is_limited_per_hour(client):
    for n in range(CONTACT_LIMIT):
        assert client.post("/contact/", {**FORM, "email": f"a{n}@example.org"}).status_code == 302
    refused = client.post("/contact/", {**FORM, "email": "another@example.org"})
    assert refused.status_code == 200 and "several messages" in refused.content.decode()
    assert ContactMessage.objects.count() == CONTACT_LIMIT


def test_the_api_takes_anonymous_messages_and_shows_the_inbox_to_its_staff(client, client_for):
    body = {k: v for k, v in FORM.items() if k != "website"}
    created = client.post("/api/v1/contact/", body, content_type="application/json")
    assert created.status_code == 201 and created.json()["reference"].startswith("C-")
    missing = client.post(
        "/api/v1/contact/", {**body, "email": ""}, content_type="application/json"
    )
    assert missing.status_code == 400 and "email" in str(missing.json())
    assert client.get("/api/v1/contact/").status_code in (401, 403)
    assert client_for(Role.PATIENT).get("/api/v1/contact/").status_code == 403
    listed = client_for(Role.RECEPTIONIST).get("/api/v1/contact/").json()
    assert [row["name"] for row in listed["results"]] == ["Ada Lovelace"]


def message(**overrides):
    return services.contact_message_submit(
        **{**{k: v for k, v in FORM.items() if k != "website"}, **overrides}
    )


def test_staff_assign_note_and_reply_by_email_then_close(
    make_user, django_capture_on_commit_callbacks
):
    contact = message()
    mail.outbox.clear()
    clerk, colleague = make_user(Role.RECEPTIONIST), make_user(Role.ADMIN)
    services.contact_message_assign(actor=clerk, contact_id=contact.pk, assignee=colleague)
    contact.refresh_from_db()
    assert (contact.assignee, contact.status) == (colleague, ContactStatus.IN_PROGRESS)
    services.contact_note_add(actor=clerk, contact_id=contact.pk, body="Checked with the ward.")
    assert not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        services.contact_note_add(
            actor=colleague, contact_id=contact.pk, body="Yes, carers are welcome.", reply=True
        )
    contact.refresh_from_db()
    assert contact.status == ContactStatus.ANSWERED
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]
    assert "carers are welcome" in mail.outbox[0].body
    services.contact_message_set_status(actor=clerk, contact_id=contact.pk, status="closed")
    assert ContactMessage.objects.get().status == "closed"
    actions = set(
        AuditEvent.objects.filter(object_id=str(contact.pk)).values_list("action", flat=True)
    )
    assert {"contact.assign", "contact.note", "contact.reply", "contact.status"} <= actions


def test_what_the_inbox_refuses(make_user):
    contact = message(email="", phone="+44 20 7946 0000")
    clerk = make_user(Role.RECEPTIONIST)
    with pytest.raises(DomainError) as no_email:
        services.contact_note_add(actor=clerk, contact_id=contact.pk, body="Hello", reply=True)
    assert no_email.value.code == "no_email"
    with pytest.raises(DomainError):
        services.contact_message_assign(
            actor=clerk, contact_id=contact.pk, assignee=make_user(Role.DOCTOR)
        )
    with pytest.raises(NotAllowed):
        services.contact_message_set_status(
            actor=make_user(Role.NURSE), contact_id=contact.pk, status="closed"
        )


def test_the_inbox_pages_show_the_message_and_take_a_reply(client_for):
    contact = message()
    clerk = client_for(Role.RECEPTIONIST)
    assert "Ada Lovelace" in clerk.get("/feedback/inbox/").content.decode()
    page = clerk.get(f"/feedback/inbox/{contact.pk}/")
    assert "carer" in page.content.decode()
    assert AuditEvent.objects.filter(action="contact.view", object_id=str(contact.pk)).exists()
    clerk.post(f"/feedback/inbox/{contact.pk}/note/", {"body": "We will call you.", "reply": "on"})
    assert ContactMessage.objects.get().status == "answered"
    assert clerk.get("/feedback/inbox/99999/").status_code == 404
    assert client_for(Role.NURSE).get("/feedback/inbox/").status_code == 403
