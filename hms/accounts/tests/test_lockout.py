"""Repeated wrong passwords lock the account, and the (account, address) pair; an address alone
is only rate-limited (a hospital's proxy puts every member of staff behind one)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from hms.accounts.tests.factories import TEST_PASSWORD
from hms.core.models import AuditEvent
from hms.core.permissions import Role

LOGIN = reverse("accounts:login")
TOKEN = "/api/v1/auth/token/"


def _sign_in(client, email, password, ip="10.0.0.1"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


@pytest.fixture
def nurse(make_user):
    return make_user(Role.NURSE, email="nurse.lock@example.org")


def test_the_failure_limit_is_ten_per_account_and_per_account_and_address():
    assert settings.AXES_FAILURE_LIMIT == 10
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", ["username", "ip_address"]]


def test_nine_wrong_passwords_still_let_the_right_one_in(client, nurse):
    for _ in range(9):
        assert _sign_in(client, nurse.email, "wrong-password-1234").status_code == 200
    response = _sign_in(client, nurse.email, TEST_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("core:dashboard")


def test_ten_wrong_passwords_lock_the_account_with_a_clear_message(client, nurse):
    for attempt in range(10):
        response = _sign_in(client, nurse.email, f"wrong-password-{attempt:04d}")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    # Even the right password is refused now, from any address, in any letter case.
    locked = _sign_in(client, nurse.email.upper(), TEST_PASSWORD, ip="10.9.9.9")
    assert locked.status_code == 429
    assert 'id="lockout"' in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_every_failed_sign_in_is_in_the_audit_trail(client, nurse):
    for attempt in range(10):
        _sign_in(client, nurse.email, f"wrong-password-{attempt:04d}")
    failures = AuditEvent.objects.filter(action="auth.login_failed")
    assert failures.count() == 10
    assert {event.details["attempted_email"] for event in failures} == {nurse.email}
    assert {event.ip_address for event in failures} == {"10.0.0.1"}


def test_failures_from_one_address_never_lock_other_accounts_behind_it(client, make_user):
    doctor = make_user(Role.DOCTOR)
    for attempt in range(30):
        _sign_in(client, f"someone{attempt}@example.org", "wrong-password-1234", ip="10.0.0.7")
    assert _sign_in(client, doctor.email, TEST_PASSWORD, ip="10.0.0.7").status_code == 302


def test_an_address_over_the_rate_waits_without_a_lock(client, nurse, settings):
    settings.LOGIN_RATE_PER_ADDRESS = 3
    for attempt in range(3):
        assert (
            "rate"
            not in _sign_in(client, f"x{attempt}@example.org", "wrong-pass-123").content.decode()
        )
    refused = _sign_in(client, nurse.email, TEST_PASSWORD, ip="10.0.0.1")
    assert (
        refused.status_code == 200
        and "Too many sign-in attempts from your network" in refused.content.decode()
    )
    assert "_auth_user_id" not in client.session
    token = client.post(
        TOKEN,
        {"email": nurse.email, "password": TEST_PASSWORD},
        "application/json",
        REMOTE_ADDR="10.0.0.1",
    )
    assert token.status_code == 429 and token.json()["error"]["code"] == "rate_limited"
    assert _sign_in(client, nurse.email, TEST_PASSWORD, ip="10.0.0.2").status_code == 302
    # No lock: the throttled attempts were never counted as failures.
    assert not AccessAttempt.objects.filter(username=nurse.email).exists()


def test_failures_spread_over_addresses_still_lock_the_account(client, nurse):
    for attempt in range(10):
        _sign_in(client, nurse.email, "wrong-password-1234", ip=f"10.0.1.{attempt}")
    assert _sign_in(client, nurse.email, TEST_PASSWORD, ip="10.0.2.1").status_code == 429


def test_the_api_token_endpoint_locks_out_with_a_json_error(client, nurse):
    for _ in range(9):
        response = client.post(
            TOKEN, {"email": nurse.email, "password": "wrong-password-1234"}, "application/json"
        )
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_credentials"
    response = client.post(
        TOKEN, {"email": nurse.email, "password": "wrong-password-1234"}, "application/json"
    )
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"
    right = client.post(
        TOKEN, {"email": nurse.email, "password": TEST_PASSWORD}, "application/json"
    )
    assert right.status_code == 429
    assert "token" not in right.json()
    assert AuditEvent.objects.filter(action="auth.login_failed").count() >= 10


def test_the_lock_lifts_after_the_cool_off_time(client, nurse):
    for attempt in range(10):
        _sign_in(client, nurse.email, f"wrong-password-{attempt:04d}")
    assert _sign_in(client, nurse.email, TEST_PASSWORD).status_code == 429
    later = timezone.now() - timedelta(hours=settings.AXES_COOLOFF_TIME, minutes=1)
    AccessAttempt.objects.update(attempt_time=later)
    assert _sign_in(client, nurse.email, TEST_PASSWORD).status_code == 302


def test_a_successful_sign_in_resets_the_count(client, nurse):
    for attempt in range(9):
        _sign_in(client, nurse.email, f"wrong-password-{attempt:04d}")
    assert _sign_in(client, nurse.email, TEST_PASSWORD).status_code == 302
    client.logout()
    for attempt in range(9):
        assert _sign_in(client, nurse.email, f"wrong-again-{attempt:04d}").status_code == 200
    assert _sign_in(client, nurse.email, TEST_PASSWORD).status_code == 302
