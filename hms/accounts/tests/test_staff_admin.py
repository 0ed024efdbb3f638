"""Administrators manage staff in the UI: create, change role, deactivate, reset password."""

import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.urls import reverse

from hms.accounts.models import ApiToken, User
from hms.accounts.services import api_token_issue, token_link
from hms.accounts.tests.factories import TEST_PASSWORD, DepartmentFactory, StaffProfileFactory
from hms.core.models import AuditEvent
from hms.core.permissions import STAFF_ROLES, Role

LOGIN = reverse("accounts:login")
NEW_PASSWORD = "night-shift-on-ward-7"


def link_in(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def can_sign_in(email: str, password: str) -> bool:
    response = Client().post(LOGIN, {"username": email, "password": password})
    return response.status_code == 302


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def admin_client(client_for):
    return client_for(Role.ADMIN)


@pytest.fixture
def nurse(db):
    return StaffProfileFactory(user__role=Role.NURSE, licence_number="").user


def edit_form(member, **changes):
    profile = member.staff_profile
    return {
        "given_name": member.given_name,
        "family_name": member.family_name,
        "email": member.email,
        "phone": member.phone,
        "role": member.role,
        "department": profile.department_id or "",
        "job_title": profile.job_title,
        "specialty": profile.specialty,
        "licence_number": profile.licence_number,
        **changes,
    }


def test_an_admin_creates_a_nurse_who_sets_a_password_through_a_one_time_link(
    admin_client, django_capture_on_commit_callbacks
):
    ward = DepartmentFactory(name="Cardiology", slug="cardiology")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("accounts:staff-create"),
            {
                "given_name": "Grace",
                "family_name": "Hopper",
                "email": "Grace.Hopper@example.org",
                "role": Role.NURSE,
                "department": ward.pk,
                "job_title": "Ward nurse",
            },
        )
    assert response.status_code == 302
    nurse = User.objects.get(email="grace.hopper@example.org")
    assert nurse.role == Role.NURSE and nurse.is_active
    assert nurse.staff_profile.department == ward
    assert not nurse.has_usable_password()
    assert AuditEvent.objects.filter(action="staff.create", object_id=str(nurse.pk)).exists()

    (invitation,) = mail.outbox
    assert invitation.to == [nurse.email]
    link = link_in(invitation)
    visitor = Client()
    assert visitor.get(link).status_code == 200
    done = visitor.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == LOGIN
    assert can_sign_in(nurse.email, NEW_PASSWORD)
    # The link is spent: it cannot set the password again.
    assert Client().get(link).status_code == 400
    again = Client().post(link, {"password1": "another-pass-99x", "password2": "another-pass-99x"})
    assert again.status_code == 400
    assert can_sign_in(nurse.email, NEW_PASSWORD)


def test_creating_staff_with_a_taken_email_shows_a_field_error(admin_client, nurse):
    response = admin_client.post(
        reverse("accounts:staff-create"),
        {"given_name": "X", "family_name": "Y", "email": nurse.email.upper(), "role": Role.DOCTOR},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"]


def test_the_staff_form_offers_only_staff_roles(admin_client):
    response = admin_client.post(
        reverse("accounts:staff-create"),
        {"given_name": "X", "family_name": "Y", "email": "x@example.org", "role": Role.PATIENT},
    )
    assert response.context["form"].errors["role"]
    assert not User.objects.filter(email="x@example.org").exists()


def test_changing_a_role_is_audited_with_from_and_to_and_revokes_api_tokens(admin_client, nurse):
    secret, _ = api_token_issue(user=nurse)
    response = admin_client.post(
        reverse("accounts:staff-edit", args=[nurse.pk]), edit_form(nurse, role=Role.DOCTOR)
    )
    assert response.status_code == 302
    nurse.refresh_from_db()
    assert nurse.role == Role.DOCTOR
    change = AuditEvent.objects.get(action="staff.role_change", object_id=str(nurse.pk))
    assert change.details == {"from": "nurse", "to": "doctor"}
    assert change.actor == admin_client.user
    assert Client().get("/api/v1/me/", headers=bearer(secret)).status_code == 401


def test_editing_without_a_role_change_writes_no_role_change_row(admin_client, nurse):
    admin_client.post(
        reverse("accounts:staff-edit", args=[nurse.pk]), edit_form(nurse, job_title="Sister")
    )
    nurse.staff_profile.refresh_from_db()
    assert nurse.staff_profile.job_title == "Sister"
    assert not AuditEvent.objects.filter(action="staff.role_change").exists()


def test_an_admin_cannot_change_their_own_role(admin_client):
    admin = admin_client.user
    StaffProfileFactory(user=admin, licence_number="")
    response = admin_client.post(
        reverse("accounts:staff-edit", args=[admin.pk]), edit_form(admin, role=Role.NURSE)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["role"]
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


def test_a_deactivated_member_can_no_longer_sign_in_and_loses_sessions_and_tokens(
    admin_client, nurse
):
    session = Client()
    session.force_login(nurse)
    secret, _ = api_token_issue(user=nurse)
    response = admin_client.post(
        reverse("accounts:staff-set-active", args=[nurse.pk]), {"active": "0"}
    )
    assert response.status_code == 302
    nurse.refresh_from_db()
    assert not nurse.is_active
    assert not can_sign_in(nurse.email, TEST_PASSWORD)
    assert session.get(reverse("core:dashboard"))["Location"].startswith(LOGIN)
    assert not ApiToken.objects.filter(user=nurse).exists()
    assert Client().get("/api/v1/me/", headers=bearer(secret)).status_code == 401
    assert AuditEvent.objects.filter(action="staff.deactivate", object_id=str(nurse.pk)).exists()

    admin_client.post(reverse("accounts:staff-set-active", args=[nurse.pk]), {"active": "1"})
    assert can_sign_in(nurse.email, TEST_PASSWORD)


def test_an_admin_cannot_deactivate_themself(admin_client):
    admin = admin_client.user
    admin_client.post(reverse("accounts:staff-set-active", args=[admin.pk]), {"active": "0"})
    admin.refresh_from_db()
    assert admin.is_active


def test_a_password_reset_stops_the_old_password_and_emails_a_link(
    admin_client, nurse, django_capture_on_commit_callbacks
):
    secret, _ = api_token_issue(user=nurse)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("accounts:staff-reset-password", args=[nurse.pk]))
    assert response.status_code == 302
    assert not can_sign_in(nurse.email, TEST_PASSWORD)
    assert Client().get("/api/v1/me/", headers=bearer(secret)).status_code == 401
    (message,) = mail.outbox
    Client().post(link_in(message), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert can_sign_in(nurse.email, NEW_PASSWORD)


def test_staff_pages_do_not_manage_patients(admin_client, make_user):
    patient = make_user(Role.PATIENT)
    assert admin_client.get(reverse("accounts:staff-edit", args=[patient.pk])).status_code == 404
    admin_client.post(reverse("accounts:staff-set-active", args=[patient.pk]), {"active": "0"})
    patient.refresh_from_db()
    assert patient.is_active


def test_the_staff_list_filters_by_role_and_name(admin_client, nurse):
    doctor = StaffProfileFactory(user__role=Role.DOCTOR, user__family_name="Zhivago").user
    listed = admin_client.get(reverse("accounts:staff-list"), {"role": "nurse"})
    assert list(listed.context["page"]) == [nurse]
    found = admin_client.get(reverse("accounts:staff-list"), {"q": "zhivago"})
    assert list(found.context["page"]) == [doctor]


NOT_ADMINS = sorted((STAFF_ROLES | {Role.PATIENT}) - {Role.ADMIN})


@pytest.mark.parametrize("role", NOT_ADMINS)
def test_no_one_but_an_admin_may_manage_staff(client_for, nurse, role):
    client = client_for(role)
    pages = [
        ("get", reverse("accounts:staff-list"), {}),
        ("get", reverse("accounts:staff-create"), {}),
        (
            "post",
            reverse("accounts:staff-create"),
            {"given_name": "X", "family_name": "Y", "email": "x@example.org", "role": "doctor"},
        ),
        ("post", reverse("accounts:staff-edit", args=[nurse.pk]), edit_form(nurse, role="admin")),
        ("post", reverse("accounts:staff-set-active", args=[nurse.pk]), {"active": "0"}),
        ("post", reverse("accounts:staff-reset-password", args=[nurse.pk]), {}),
    ]
    for method, url, data in pages:
        assert getattr(client, method)(url, data).status_code == 403, url
    nurse.refresh_from_db()
    assert nurse.role == Role.NURSE and nurse.is_active and nurse.check_password(TEST_PASSWORD)
    assert not User.objects.filter(email="x@example.org").exists()


def test_losing_a_race_for_the_email_is_a_conflict_not_a_server_error(
    admin_client, nurse, monkeypatch
):
    from hms.accounts import services

    monkeypatch.setattr(services, "_email_taken", lambda email, **_: False)
    response = admin_client.post(
        reverse("accounts:staff-create"),
        {"given_name": "X", "family_name": "Y", "email": nurse.email, "role": Role.DOCTOR},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert User.objects.filter(email=nurse.email).count() == 1


@pytest.mark.parametrize("query", ["%", "_", "'; --", "x" * 500, "🩺"])
def test_odd_staff_searches_answer_normally(admin_client, nurse, query):
    response = admin_client.get(reverse("accounts:staff-list"), {"q": query, "page": "x"})
    assert response.status_code == 200


@pytest.mark.parametrize("query", ["\x00", "a\x00b"])
def test_a_nul_in_a_search_is_refused_not_a_crash(admin_client, nurse, query):
    response = admin_client.get(reverse("accounts:staff-list"), {"q": query})
    assert response.status_code == 400
    for field in ("action", "actor", "patient"):
        response = admin_client.get(reverse("core:audit-list"), {field: query, "format": "csv"})
        assert response.status_code == 400


def test_the_staff_search_itself_copes_with_a_nul(admin_client, nurse, settings):
    """Without the middleware (it may be reordered or removed) the view must not crash."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "RejectNul" not in m]
    response = admin_client.get(reverse("accounts:staff-list"), {"q": "a\x00b"})
    assert response.status_code == 200


def test_the_staff_list_runs_a_bounded_number_of_queries(
    admin_client, django_assert_max_num_queries
):
    for _ in range(30):
        StaffProfileFactory(licence_number="")
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("accounts:staff-list"))
    assert len(response.context["page"]) == 25


def test_an_invitation_link_expires(admin_client, nurse, settings, monkeypatch):
    link = token_link(user=nurse, route="accounts:set-password", base_url="http://testserver/")
    assert Client().get(link).status_code == 200
    later = datetime.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    monkeypatch.setattr(default_token_generator, "_now", lambda: later)
    assert Client().get(link).status_code == 400
