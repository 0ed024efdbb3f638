"""Two-factor sign-in: administrators must have it; staff with a device must use it."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from hms.accounts.middleware import NO_DEVICE_CHECKED, NO_DEVICE_RECHECK_SECONDS
from hms.accounts.tests.factories import TEST_PASSWORD
from hms.core.models import AuditEvent
from hms.core.permissions import Role

DASHBOARD = reverse("core:dashboard")
LOGIN = reverse("accounts:login")
SETUP = reverse("accounts:2fa-setup")
VERIFY = reverse("accounts:2fa-verify")
TOKEN = "/api/v1/auth/token/"


def code_for(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    value = totp(
        device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset_steps
    )
    return f"{value:0{device.digits}d}"


def wrong_code_for(device: TOTPDevice) -> str:
    valid = {code_for(device, offset_steps=d) for d in range(-2, 3)}
    return next(c for c in ("000000", "111111", "222222") if c not in valid)


def signed_in_with_password(user) -> Client:
    client = Client()
    response = client.post(LOGIN, {"username": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302, "the password step must succeed"
    return client


@pytest.fixture
def admin_with_device(make_user):
    admin = make_user(Role.ADMIN)
    device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    return admin, device


def test_an_admin_without_a_device_is_sent_to_set_one_up(make_user, settings):
    settings.DEMO_2FA_EXEMPT = False
    client = signed_in_with_password(make_user(Role.ADMIN))
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(SETUP)
    assert client.get(reverse("accounts:staff-list"))["Location"].startswith(SETUP)
    page = client.get(SETUP)
    assert page.status_code == 200 and "secret" in page.context


def test_the_demo_admin_is_exempt_only_when_the_exemption_is_on(make_user, settings):
    admin = make_user(Role.ADMIN, email="admin@demo.hms")
    settings.DEMO_2FA_EXEMPT = True
    assert signed_in_with_password(admin).get(DASHBOARD).status_code == 200
    settings.DEMO_2FA_EXEMPT = False
    assert signed_in_with_password(admin).get(DASHBOARD)["Location"].startswith(SETUP)


def test_the_exemption_never_covers_admins_outside_the_demo_domain(make_user, settings):
    settings.DEMO_2FA_EXEMPT = True
    client = signed_in_with_password(make_user(Role.ADMIN, email="admin@demo.hms.example.org"))
    assert client.get(DASHBOARD)["Location"].startswith(SETUP)


def test_setting_up_a_device_with_a_valid_code_opens_the_dashboard(make_user, settings):
    settings.DEMO_2FA_EXEMPT = False
    admin = make_user(Role.ADMIN)
    client = signed_in_with_password(admin)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    response = client.post(SETUP, {"code": code_for(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(DASHBOARD).status_code == 200
    assert AuditEvent.objects.filter(action="auth.2fa_enabled", object_id=str(admin.pk)).exists()


def test_an_admin_with_a_device_must_enter_a_valid_code_before_the_dashboard(admin_with_device):
    admin, device = admin_with_device
    client = signed_in_with_password(admin)
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    response = client.post(f"{VERIFY}?next={DASHBOARD}", {"code": code_for(device)})
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    assert client.get(DASHBOARD).status_code == 200
    assert AuditEvent.objects.filter(action="auth.2fa_verified", actor=admin).exists()


def test_a_wrong_code_is_refused_and_audited(admin_with_device):
    admin, device = admin_with_device
    client = signed_in_with_password(admin)
    response = client.post(VERIFY, {"code": wrong_code_for(device)})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert client.get(DASHBOARD)["Location"].startswith(VERIFY)
    assert AuditEvent.objects.filter(action="auth.2fa_failed", object_id=str(admin.pk)).exists()


def test_a_code_cannot_be_used_twice(admin_with_device):
    admin, device = admin_with_device
    code = code_for(device)
    first = signed_in_with_password(admin)
    assert first.post(VERIFY, {"code": code}).status_code == 302
    second = signed_in_with_password(admin)
    assert second.post(VERIFY, {"code": code}).status_code == 200
    assert second.get(DASHBOARD)["Location"].startswith(VERIFY)


def test_other_staff_with_a_device_must_use_it_too(make_user):
    nurse = make_user(Role.NURSE)
    device = TOTPDevice.objects.create(user=nurse, name="phone", confirmed=True)
    client = signed_in_with_password(nurse)
    assert client.get(DASHBOARD)["Location"].startswith(VERIFY)
    client.post(VERIFY, {"code": code_for(device)})
    assert client.get(DASHBOARD).status_code == 200


def test_staff_without_a_device_and_not_admin_are_not_asked_for_a_code(make_user):
    assert signed_in_with_password(make_user(Role.DOCTOR)).get(DASHBOARD).status_code == 200


def _device_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(DASHBOARD).status_code == 200
    return sum("otp_totp_totpdevice" in q["sql"] for q in captured)


def test_staff_without_a_device_are_looked_up_once_a_minute_not_on_every_request(make_user):
    client = signed_in_with_password(make_user(Role.DOCTOR))
    assert _device_queries(client) == 1
    assert _device_queries(client) == 0
    session = client.session
    session[NO_DEVICE_CHECKED] -= NO_DEVICE_RECHECK_SECONDS + 1
    session.save()
    assert _device_queries(client) == 1


def test_a_device_added_from_another_session_is_asked_for_within_a_minute(make_user):
    nurse = make_user(Role.NURSE)
    client = signed_in_with_password(nurse)
    assert client.get(DASHBOARD).status_code == 200
    TOTPDevice.objects.create(user=nurse, name="phone", confirmed=True)
    session = client.session
    session[NO_DEVICE_CHECKED] -= NO_DEVICE_RECHECK_SECONDS + 1
    session.save()
    assert client.get(DASHBOARD)["Location"].startswith(VERIFY)


def test_the_api_refuses_a_half_signed_in_admin_with_json(admin_with_device):
    client = signed_in_with_password(admin_with_device[0])
    response = client.get("/api/v1/me/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "two_factor_required"


def test_a_page_fragment_asked_before_the_code_is_refused_not_redirected(admin_with_device):
    """htmx would paste a redirect's page (the code form) into the page that asked."""
    client = signed_in_with_password(admin_with_device[0])
    response = client.get(reverse("core:notification-bell"), headers={"HX-Request": "true"})
    assert response.status_code == 403 and response.content == b""
    assert client.get(reverse("core:notification-bell")).status_code == 302  # a page: redirected


def test_a_fragment_asked_after_signing_out_sends_the_whole_page_to_sign_in(client):
    response = client.get(reverse("core:notification-bell"), headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.content == b""
    assert response["HX-Redirect"].startswith(LOGIN)


# --- API tokens -----------------------------------------------------------------------------


def _token(client, **body):
    return client.post(TOKEN, body, "application/json")


def test_an_api_token_for_a_user_with_2fa_needs_the_code(client, admin_with_device):
    admin, device = admin_with_device
    missing = _token(client, email=admin.email, password=TEST_PASSWORD)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "otp_required"
    wrong = _token(client, email=admin.email, password=TEST_PASSWORD, otp=wrong_code_for(device))
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "otp_invalid"
    assert AuditEvent.objects.filter(action="auth.2fa_failed", actor=admin).exists()
    device.refresh_from_db()
    device.throttle_reset()  # one wrong code makes django-otp wait a second before the next
    right = _token(client, email=admin.email, password=TEST_PASSWORD, otp=code_for(device))
    assert right.status_code == 200
    secret = right.json()["token"]
    me = client.get("/api/v1/me/", headers={"Authorization": f"Bearer {secret}"})
    assert me.json()["role"] == "admin"


def test_an_admin_without_2fa_gets_no_api_token(client, make_user, settings):
    settings.DEMO_2FA_EXEMPT = False
    admin = make_user(Role.ADMIN)
    response = _token(client, email=admin.email, password=TEST_PASSWORD)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "two_factor_required"


def test_a_patient_gets_an_api_token_with_email_and_password(client, make_user):
    patient = make_user(Role.PATIENT)
    response = _token(client, email=patient.email, password=TEST_PASSWORD)
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


def test_a_password_alone_cannot_enrol_a_second_device(admin_with_device):
    """A leftover unconfirmed device (say, from two set-up tabs) must not let someone who only
    knows the password enrol it and skip the code of the real device."""
    admin, _device = admin_with_device
    leftover = TOTPDevice.objects.create(user=admin, name="Authenticator", confirmed=False)
    client = signed_in_with_password(admin)
    page = client.get(SETUP)
    assert page.status_code == 302
    response = client.post(SETUP, {"code": code_for(leftover)})
    assert response.status_code == 302
    leftover.refresh_from_db()
    assert not leftover.confirmed
    assert client.get(DASHBOARD)["Location"].startswith(VERIFY)


def test_enrolment_is_refused_once_a_device_is_confirmed(make_user):
    from django_otp.oath import TOTP

    from hms.accounts import services
    from hms.core.errors import Conflict, NotAllowed

    nurse = make_user(Role.NURSE)
    device = services.two_factor_enrolment_start(user=nurse)
    assert services.two_factor_enrolment_start(user=nurse) == device  # the same pending device
    code = f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"
    assert services.two_factor_enrolment_confirm(user=nurse, device=device, code=code)
    assert AuditEvent.objects.filter(action="auth.2fa_enabled", actor=nurse).exists()
    with pytest.raises(Conflict):
        services.two_factor_enrolment_start(user=nurse)
    with pytest.raises(NotAllowed):
        services.two_factor_enrolment_start(user=make_user(Role.PATIENT))
