"""Signing in and out, forgotten passwords and API tokens."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from hms.accounts.models import ApiToken
from hms.accounts.services import api_token_issue
from hms.accounts.tests.factories import TEST_PASSWORD
from hms.core.models import AuditEvent
from hms.core.permissions import ROLE_PERMISSIONS, Role

LOGIN = reverse("accounts:login")
FORGOT = reverse("accounts:password-forgot")


def test_sign_in_ignores_the_letter_case_of_the_email(client, make_user):
    nurse = make_user(Role.NURSE, email="florence@example.org")
    response = client.post(LOGIN, {"username": "Florence@EXAMPLE.org", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="auth.login", actor=nurse).exists()


def test_a_wrong_password_shows_one_message_that_does_not_reveal_the_account(client, make_user):
    nurse = make_user(Role.NURSE)
    known = client.post(LOGIN, {"username": nurse.email, "password": "wrong-password-123"})
    unknown = client.post(LOGIN, {"username": "nobody@example.org", "password": "wrong-pass-123"})
    assert known.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()


def test_sign_in_never_redirects_to_another_site(client, make_user):
    nurse = make_user(Role.NURSE)
    response = client.post(
        f"{LOGIN}?next=https://evil.example/", {"username": nurse.email, "password": TEST_PASSWORD}
    )
    assert response["Location"] == reverse("core:dashboard")


def test_the_two_factor_step_never_redirects_to_another_site(make_user):
    admin = make_user(Role.ADMIN)
    device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    client = Client()
    client.post(LOGIN, {"username": admin.email, "password": TEST_PASSWORD})
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    response = client.post(
        f"{reverse('accounts:2fa-verify')}?next=//evil.example/x", {"code": code}
    )
    assert response["Location"] == reverse("core:dashboard")


def test_signing_out_takes_a_post_and_is_audited(client_for):
    client = client_for(Role.DOCTOR)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.logout", actor=client.user).exists()


# --- Forgotten password ---------------------------------------------------------------------


def test_forgot_password_answers_the_same_whether_or_not_the_account_exists(
    client, make_user, django_capture_on_commit_callbacks
):
    nurse = make_user(Role.NURSE)
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(FORGOT, {"email": nurse.email}, follow=True)
        unknown = client.post(FORGOT, {"email": "nobody@example.org"}, follow=True)
    assert [str(m) for m in known.context["messages"]] == [
        str(m) for m in unknown.context["messages"]
    ]
    assert [m.to for m in mail.outbox] == [[nurse.email]]


def test_the_reset_link_sets_a_new_password_and_the_old_one_works_until_then(
    client, make_user, django_capture_on_commit_callbacks
):
    nurse = make_user(Role.NURSE)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(FORGOT, {"email": nurse.email})
    nurse.refresh_from_db()
    assert nurse.check_password(TEST_PASSWORD)
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    Client().post(link, {"password1": "new-and-long-pass-42", "password2": "new-and-long-pass-42"})
    nurse.refresh_from_db()
    assert nurse.check_password("new-and-long-pass-42")
    assert not nurse.check_password(TEST_PASSWORD)


def test_a_deactivated_account_gets_no_reset_link_and_old_links_stop_working(
    client, make_user, django_capture_on_commit_callbacks
):
    nurse = make_user(Role.NURSE)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(FORGOT, {"email": nurse.email})
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    nurse.is_active = False
    nurse.save()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(FORGOT, {"email": nurse.email})
    assert len(mail.outbox) == 1
    assert Client().get(link).status_code == 400


# --- API tokens -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_the_hash_of_an_api_token_is_stored(make_user):
    secret, token = api_token_issue(user=make_user(Role.NURSE))
    assert secret not in token.digest
    assert token.digest == ApiToken.digest_of(secret)


def test_an_expired_api_token_is_refused(client, make_user):
    secret, token = api_token_issue(user=make_user(Role.NURSE))
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get("/api/v1/me/", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401


def test_me_returns_the_user_their_role_and_its_permissions(client, make_user):
    pharmacist = make_user(Role.PHARMACIST)
    secret, _ = api_token_issue(user=pharmacist)
    body = client.get("/api/v1/me/", headers={"Authorization": f"Bearer {secret}"}).json()
    assert body["email"] == pharmacist.email
    assert body["role"] == "pharmacist" and body["role_label"] == "Pharmacist"
    assert body["permissions"] == sorted(ROLE_PERMISSIONS[Role.PHARMACIST])
    assert body["id"] == str(pharmacist.pk)


def test_the_token_endpoint_issues_a_working_bearer_token(client, make_user):
    nurse = make_user(Role.NURSE)
    response = client.post(
        "/api/v1/auth/token/", {"email": nurse.email, "password": TEST_PASSWORD}, "application/json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_at"]
    me = Client().get("/api/v1/me/", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json()["role"] == "nurse"
    assert AuditEvent.objects.filter(action="auth.api_token", actor=nurse).exists()
