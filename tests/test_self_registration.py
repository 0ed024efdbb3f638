"""Patients register themselves; the account opens only once the emailed link is followed."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.http import urlsafe_base64_encode

from hms.accounts.models import User
from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.patients.models import Patient

LOGIN = reverse("accounts:login")
PASSWORD = "tulips-in-the-ward-2026"
FORM = {
    "given_name": "Amara",
    "family_name": "Okafor",
    "birth_date": "1988-04-12",
    "email": "Amara.Okafor@example.org",
    "phone": "+44 20 7946 0000",
    "password1": PASSWORD,
    "password2": PASSWORD,
}


def link_in(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


@pytest.fixture
def registered(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:register"), FORM)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:register-done")
    return User.objects.get(email="amara.okafor@example.org")


def test_a_new_registration_is_inactive_and_cannot_sign_in(registered):
    assert registered.role == Role.PATIENT
    assert not registered.is_active and not registered.email_verified
    response = Client().post(LOGIN, {"username": registered.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in Client().session


def test_registration_creates_a_patient_record_with_an_mrn(registered):
    patient = Patient.objects.get(user=registered)
    assert patient.mrn
    assert (patient.given_name, patient.family_name) == ("Amara", "Okafor")
    assert str(patient.birth_date) == "1988-04-12"
    assert AuditEvent.objects.filter(action="account.register", actor=registered).exists()


def test_the_emailed_link_activates_the_account_and_then_sign_in_works(registered):
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [registered.email]
    client = Client()
    response = client.get(link_in(message))
    assert response.status_code == 302 and response["Location"] == LOGIN
    registered.refresh_from_db()
    assert registered.is_active and registered.email_verified
    response = client.post(LOGIN, {"username": registered.email, "password": PASSWORD})
    assert response.status_code == 302
    dashboard = client.get(response["Location"])
    assert dashboard.status_code == 200
    assert "core/dashboard_patient.html" in [t.name for t in dashboard.templates]


def test_a_confirmation_link_works_once(registered):
    link = link_in(mail.outbox[0])
    Client().get(link)
    # Later the account is switched off; the old link must not switch it back on.
    User.objects.filter(pk=registered.pk).update(is_active=False)
    response = Client().get(link)
    assert response.status_code == 400
    registered.refresh_from_db()
    assert not registered.is_active


def test_a_tampered_link_is_refused(registered):
    link = link_in(mail.outbox[0])
    response = Client().get(link[:-3] + "abc/")
    assert response.status_code == 400
    registered.refresh_from_db()
    assert not registered.is_active


def test_registering_a_taken_email_answers_as_a_new_one_and_emails_the_owner(
    registered, client, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=registered.pk).update(is_active=True, email_verified=True)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:register"), {**FORM, "email": "AMARA.okafor@example.org"}
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:register-done")
    assert User.objects.filter(email__iexact=FORM["email"]).count() == 1
    (message,) = mail.outbox
    assert message.to == [registered.email]
    assert "tried to register" in message.body
    assert "/accounts/login/" in message.body and "/accounts/password/forgot/" in message.body
    assert AuditEvent.objects.filter(action="account.register_existing_email").exists()


def test_registering_again_before_confirming_sends_a_new_confirmation_link(
    registered, client, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:register"), FORM)
    assert response["Location"] == reverse("accounts:register-done")
    (message,) = mail.outbox
    assert "/accounts/confirm/" in link_in(message)


@pytest.mark.django_db
def test_registration_is_rate_limited_per_address(client, settings):
    settings.REGISTRATION_RATE_PER_ADDRESS = 2
    for n in range(2):
        response = client.post(reverse("accounts:register"), {**FORM, "email": f"p{n}@example.org"})
        assert response.status_code == 302
    response = client.post(reverse("accounts:register"), {**FORM, "email": "p9@example.org"})
    assert response.status_code == 200
    assert "Too many registrations" in response.content.decode()
    assert not User.objects.filter(email="p9@example.org").exists()
    other = client.post(
        reverse("accounts:register"), {**FORM, "email": "p8@example.org"}, REMOTE_ADDR="10.3.3.3"
    )
    assert other.status_code == 302


@pytest.mark.django_db
def test_a_weak_password_is_refused_at_registration(client):
    response = client.post(
        reverse("accounts:register"),
        {**FORM, "password1": "q1w2e3r4t5y6", "password2": "q1w2e3r4t5y6"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    assert not User.objects.exists()
    assert not Patient.objects.exists()


@pytest.mark.django_db
def test_a_birth_date_in_the_future_is_refused(client):
    response = client.post(reverse("accounts:register"), {**FORM, "birth_date": "2999-01-01"})
    assert response.context["form"].errors["birth_date"]


def test_a_patient_who_lost_the_email_gets_a_new_confirmation_link(
    registered, client, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password-forgot"), {"email": registered.email})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert "/accounts/confirm/" in link_in(message)
    Client().get(link_in(message))
    registered.refresh_from_db()
    assert registered.is_active
    assert AuditEvent.objects.filter(action="account.confirmation_resent").exists()


def test_a_confirmed_then_deactivated_patient_gets_no_link(
    registered, client, django_capture_on_commit_callbacks
):
    Client().get(link_in(mail.outbox[0]))
    User.objects.filter(pk=registered.pk).update(is_active=False)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password-forgot"), {"email": registered.email})
    assert mail.outbox == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "uid", [b"99999999999999999999", b"-1", b"abc", b"1.5", b"\xff\xfe", b""], ids=repr
)
@pytest.mark.parametrize("route", ["accounts:confirm-email", "accounts:set-password"])
def test_a_mangled_link_is_a_400_page_not_a_crash(client, uid, route):
    uidb64 = urlsafe_base64_encode(uid) or "AA"
    response = client.get(reverse(route, kwargs={"uidb64": uidb64, "token": "abc-123"}))
    assert response.status_code == 400


def test_registration_refuses_an_overlong_email(client):
    from hms.accounts.tests.test_long_input import LONG_EMAIL

    response = client.post("/accounts/register/", {**FORM, "email": LONG_EMAIL})
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
