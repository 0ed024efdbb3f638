"""Emailed links: a confirmation link is not a password link, and each works once."""

import pytest
from django.urls import reverse

from hms.accounts.services import token_link
from hms.accounts.tests.factories import UserFactory
from hms.core.permissions import Role

pytestmark = pytest.mark.django_db


def _path(link: str) -> str:
    return link.removeprefix("http://testserver")


def test_a_used_confirmation_link_cannot_set_the_password(client):
    patient = UserFactory(role=Role.PATIENT, is_active=False, email_verified=False)
    link = _path(
        token_link(user=patient, route="accounts:confirm-email", base_url="http://testserver/")
    )
    assert client.get(link).status_code == 302
    patient.refresh_from_db()
    assert patient.is_active and patient.email_verified
    uidb64, token = link.rstrip("/").split("/")[-2:]
    password_link = reverse("accounts:set-password", args=[uidb64, token])
    response = client.post(
        password_link, {"password1": "a-new-long-pass-2026", "password2": "a-new-long-pass-2026"}
    )
    assert response.status_code == 400
    patient.refresh_from_db()
    assert not patient.check_password("a-new-long-pass-2026")


def test_a_confirmation_link_works_once(client):
    patient = UserFactory(role=Role.PATIENT, is_active=False, email_verified=False)
    link = _path(
        token_link(user=patient, route="accounts:confirm-email", base_url="http://testserver/")
    )
    assert client.get(link).status_code == 302
    assert client.get(link).status_code == 400


def test_a_set_password_link_works_once(client):
    nurse = UserFactory(role=Role.NURSE)
    link = _path(
        token_link(user=nurse, route="accounts:set-password", base_url="http://testserver/")
    )
    data = {"password1": "first-long-pass-2026", "password2": "first-long-pass-2026"}
    assert client.post(link, data).status_code == 302
    data = {"password1": "second-long-pass-2026", "password2": "second-long-pass-2026"}
    assert client.post(link, data).status_code == 400
    nurse.refresh_from_db()
    assert nurse.check_password("first-long-pass-2026")


def test_a_set_password_link_does_not_confirm_an_email(client):
    patient = UserFactory(role=Role.PATIENT, is_active=False, email_verified=False)
    link = token_link(user=patient, route="accounts:set-password", base_url="http://testserver/")
    uidb64, token = link.rstrip("/").split("/")[-2:]
    assert client.get(reverse("accounts:confirm-email", args=[uidb64, token])).status_code == 400
    patient.refresh_from_db()
    assert not patient.email_verified
