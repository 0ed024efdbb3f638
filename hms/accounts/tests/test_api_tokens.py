"""API tokens record whether their sign-in passed two-factor; their owner lists and revokes them."""

import pytest
from django.urls import reverse

from hms.accounts.models import ApiToken
from hms.accounts.services import api_token_issue
from hms.accounts.tests.factories import TEST_PASSWORD, UserFactory
from hms.accounts.tests.test_two_factor import code_for
from hms.core.models import AuditEvent
from hms.core.permissions import Role

pytestmark = pytest.mark.django_db
TOKEN = "/api/v1/auth/token/"
TOKENS_PAGE = reverse("accounts:api-tokens")


def _me(client, secret: str):
    return client.get("/api/v1/me/", headers={"Authorization": f"Bearer {secret}"})


def test_an_admin_token_records_the_two_factor_sign_in_and_works(client, make_user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    admin = make_user(Role.ADMIN)
    device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    body = {"email": admin.email, "password": TEST_PASSWORD, "otp": code_for(device)}
    secret = client.post(TOKEN, body, "application/json").json()["token"]
    assert ApiToken.objects.get(user=admin).two_factor
    assert _me(client, secret).status_code == 200


def test_an_admin_token_without_two_factor_is_refused(client, make_user, settings):
    settings.DEMO_2FA_EXEMPT = False
    secret, _ = api_token_issue(user=make_user(Role.ADMIN), two_factor=False)
    response = _me(client, secret)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "two_factor_required"


def test_a_token_issued_while_debug_exempted_the_demo_admin_stops_when_the_exemption_ends(
    client, settings
):
    settings.DEMO_2FA_EXEMPT = True
    admin = UserFactory(role=Role.ADMIN, email="admin@demo.hms")
    response = client.post(
        TOKEN, {"email": admin.email, "password": TEST_PASSWORD}, "application/json"
    )
    secret = response.json()["token"]
    assert not ApiToken.objects.get(user=admin).two_factor
    assert _me(client, secret).status_code == 200
    settings.DEMO_2FA_EXEMPT = False  # DEBUG off
    assert _me(client, secret).status_code == 403


def test_other_roles_tokens_need_no_two_factor(client, make_user):
    secret, _ = api_token_issue(user=make_user(Role.NURSE))
    assert _me(client, secret).status_code == 200


def test_delete_revokes_the_token_it_is_sent_with_and_no_other(client, make_user):
    nurse = make_user(Role.NURSE)
    secret, _ = api_token_issue(user=nurse)
    other, _ = api_token_issue(user=nurse)
    response = client.delete(TOKEN, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 204
    assert _me(client, secret).status_code == 401
    assert _me(client, other).status_code == 200
    assert AuditEvent.objects.filter(action="auth.api_token_revoke", actor=nurse).exists()


def test_delete_without_a_token_is_a_401(client_for):
    assert client_for(Role.NURSE).delete(TOKEN).status_code == 401  # a session is not a token


def test_the_tokens_page_lists_ones_own_tokens_and_revokes_them(client_for, make_user):
    client = client_for(Role.PATIENT)
    _, mine = api_token_issue(user=client.user)
    _, theirs = api_token_issue(user=make_user(Role.PATIENT))
    page = client.get(TOKENS_PAGE)
    assert page.status_code == 200
    assert list(page.context["tokens"]) == [mine]
    refused = client.post(TOKENS_PAGE, {"token": theirs.pk}, follow=True)
    assert "No such token" in refused.content.decode()
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
    client.post(TOKENS_PAGE, {"token": mine.pk})
    assert not ApiToken.objects.filter(pk=mine.pk).exists()


def test_the_schema_describes_revoking_a_token(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    delete = schema["paths"]["/api/v1/auth/token/"]["delete"]
    assert "204" in delete["responses"]
    assert delete["security"] == [{"bearerAuth": []}]
    assert schema["paths"]["/api/v1/auth/token/"]["post"].get("security") in (None, [], [{}])
