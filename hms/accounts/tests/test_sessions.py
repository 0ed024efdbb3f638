"""Idle staff sessions end; password changes end every other session and every API token."""

import time

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hms.accounts.middleware import ACTIVITY_WRITE_SECONDS, BACKGROUND_HEADER, LAST_ACTIVITY
from hms.accounts.services import api_token_issue
from hms.accounts.tests.factories import TEST_PASSWORD
from hms.core.permissions import Role

DASHBOARD = reverse("core:dashboard")
LOGIN = reverse("accounts:login")
NEW_PASSWORD = "a-much-better-passphrase-7"


def _idle_for(client, seconds: float) -> None:
    session = client.session
    session[LAST_ACTIVITY] = time.time() - seconds
    session.save()


def _limit() -> int:
    return settings.STAFF_IDLE_TIMEOUT_MINUTES * 60


def test_the_idle_timeout_defaults_to_fifteen_minutes():
    assert settings.STAFF_IDLE_TIMEOUT_MINUTES == 15


def test_a_staff_session_idle_longer_than_the_limit_is_signed_out(client_for):
    client = client_for(Role.NURSE)
    assert client.get(DASHBOARD).status_code == 200
    _idle_for(client, _limit() + 5)
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"])
    assert "without activity" in page.content.decode()  # the person is told why
    assert client.get(DASHBOARD).status_code == 302  # still signed out afterwards


def test_a_staff_session_used_within_the_limit_stays_signed_in(client_for):
    client = client_for(Role.DOCTOR)
    client.get(DASHBOARD)
    _idle_for(client, _limit() - 30)
    assert client.get(DASHBOARD).status_code == 200
    assert time.time() - client.session[LAST_ACTIVITY] < 5  # the request counted as activity


def _session_writes(client, **headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(DASHBOARD, headers=headers).status_code == 200
    return sum(q["sql"].startswith("UPDATE") and "django_session" in q["sql"] for q in captured)


def test_a_busy_staff_session_stores_its_activity_time_at_most_once_a_minute(client_for):
    client = client_for(Role.NURSE)
    client.get(DASHBOARD)
    _idle_for(client, ACTIVITY_WRITE_SECONDS - 10)
    before = client.session[LAST_ACTIVITY]
    assert _session_writes(client) == 0
    assert client.session[LAST_ACTIVITY] == before
    _idle_for(client, ACTIVITY_WRITE_SECONDS + 1)
    assert _session_writes(client) == 1
    assert time.time() - client.session[LAST_ACTIVITY] < 5


def test_a_background_refresh_does_not_count_as_activity(client_for):
    client = client_for(Role.RECEPTIONIST)
    client.get(DASHBOARD)
    _idle_for(client, _limit() - 30)
    before = client.session[LAST_ACTIVITY]
    assert client.get(DASHBOARD, headers={BACKGROUND_HEADER: "1"}).status_code == 200
    assert client.session[LAST_ACTIVITY] == before
    _idle_for(client, _limit() + 5)
    response = client.get(DASHBOARD, headers={BACKGROUND_HEADER: "1"})
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_an_idle_api_session_answers_401_in_the_json_shape(client_for):
    client = client_for(Role.NURSE)
    client.get(DASHBOARD)
    _idle_for(client, _limit() + 5)
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "session_expired"


def test_patients_are_not_subject_to_the_staff_idle_timeout(client_for):
    client = client_for(Role.PATIENT)
    client.get(DASHBOARD)
    _idle_for(client, _limit() + 5)
    assert client.get(DASHBOARD).status_code == 200


# --- Password change ------------------------------------------------------------------------


@pytest.mark.django_db
def test_changing_the_password_ends_other_sessions_and_api_tokens(make_user):
    user = make_user(Role.DOCTOR)
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        assert (
            client.post(LOGIN, {"username": user.email, "password": TEST_PASSWORD}).status_code
            == 302
        )
    secret, _ = api_token_issue(user=user)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert Client().get("/api/v1/me/", headers=bearer).status_code == 200

    response = here.post(
        reverse("accounts:password-change"),
        {"current_password": TEST_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302

    assert here.get(DASHBOARD).status_code == 200  # this session continues
    assert elsewhere.get(DASHBOARD)["Location"].startswith(LOGIN)
    assert Client().get("/api/v1/me/", headers=bearer).status_code == 401
    fresh = Client()
    assert fresh.post(LOGIN, {"username": user.email, "password": TEST_PASSWORD}).status_code == 200
    assert fresh.post(LOGIN, {"username": user.email, "password": NEW_PASSWORD}).status_code == 302


@pytest.mark.parametrize(
    "weak",
    ["short-pw-1", "q1w2e3r4t5y6", "123456789012345", "Featherstonehaugh1"],
    ids=["too short", "common", "numeric", "like the name"],
)
def test_weak_passwords_are_refused(client_for, weak):
    client = client_for(Role.NURSE)
    client.user.given_name = "Deirdre"
    client.user.family_name = "Featherstonehaugh"
    client.user.save()
    response = client.post(
        reverse("accounts:password-change"),
        {"current_password": TEST_PASSWORD, "password1": weak, "password2": weak},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    client.user.refresh_from_db()
    assert client.user.check_password(TEST_PASSWORD)


def test_password_validators_ask_for_twelve_characters_and_an_uncommon_password():
    with pytest.raises(ValidationError, match="at least 12"):
        validate_password("abcdefgh-1k")
    with pytest.raises(ValidationError, match="too common"):
        validate_password("1qaz2wsx3edc")
    validate_password("saline-drip-at-noon")


def test_the_wrong_current_password_does_not_change_anything(client_for):
    client = client_for(Role.NURSE)
    response = client.post(
        reverse("accounts:password-change"),
        {
            "current_password": "not-it-at-all-99",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "current_password" in response.context["form"].errors
    client.user.refresh_from_db()
    assert client.user.check_password(TEST_PASSWORD)


def test_production_settings_hash_passwords_with_argon2():
    import config.settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert "Fast" not in production.PASSWORD_HASHERS[0]
