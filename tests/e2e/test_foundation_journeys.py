"""Issue 2's two journeys, walked in a real browser: a patient registers through the portal and an
administrator signs in with two-factor and adds a nurse."""

import re

import pytest
from playwright.sync_api import expect

from hms.accounts.models import User
from hms.accounts.tests.factories import TEST_PASSWORD
from hms.core.permissions import Role

pytestmark = pytest.mark.e2e

PATIENT_PASSWORD = "quiet-harbour-lantern-42"


def test_a_patient_registers_confirms_the_email_signs_in_and_sees_the_portal(
    page, mailoutbox, sign_in
):
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Register as a patient"
    ).click()
    page.get_by_label("First name").fill("Amara")
    page.get_by_label("Last name").fill("Okafor")
    page.get_by_label("Date of birth").fill("1988-03-14")
    page.get_by_label("Email").fill("amara.okafor@example.org")
    page.get_by_label("Phone").fill("+44 20 7946 0123")
    page.get_by_label(re.compile(r"^New password")).fill(PATIENT_PASSWORD)
    page.get_by_label("Repeat the new password").fill(PATIENT_PASSWORD)
    page.get_by_role("button", name="Create my account").click()

    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert not User.objects.get(email="amara.okafor@example.org").is_active
    assert [m.to for m in mailoutbox] == [["amara.okafor@example.org"]]
    link = re.search(r"https?://\S+/accounts/confirm/\S+", mailoutbox[0].body).group(0)

    page.goto(link)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_text("Your email is confirmed")).to_be_visible()

    sign_in(page, "amara.okafor@example.org", PATIENT_PASSWORD)
    expect(page.get_by_role("heading", name="Welcome, Amara")).to_be_visible()
    expect(page.get_by_text("Your patient portal.")).to_be_visible()


def test_an_administrator_signs_in_with_two_factor_and_adds_a_nurse(
    page, mailoutbox, make_user, sign_in, totp_code
):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    # Not a @demo.hms address, so the demo exemption from 2FA can never apply.
    admin = make_user(Role.ADMIN, email="chief.admin@hospital.example", given_name="Ines")
    TOTPDevice.objects.create(user=admin, name="Phone", confirmed=True)

    sign_in(page, admin.email, TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/verify/"))
    page.get_by_label("6-digit code").fill(totp_code(admin))
    page.get_by_role("button", name="Verify").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/2fa/"))

    menu = page.get_by_role("navigation", name="Main")
    menu.get_by_role("button", name="Administration").click()  # an administrator's menu is grouped
    menu.get_by_role("link", name="Staff").click()
    expect(page.get_by_role("heading", name="Staff", exact=True)).to_be_visible()
    page.get_by_role("link", name="Add staff member").click()
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Last name").fill("Mensah")
    page.get_by_label("Email").fill("grace.mensah@hospital.example")
    page.get_by_label("Role").select_option(label="Nurse")
    page.get_by_role("button", name="Add staff member").click()

    expect(page).to_have_url(re.compile(r"/accounts/staff/$"))
    expect(page.get_by_text("Grace Mensah was added as Nurse")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="grace.mensah@hospital.example")
    expect(row).to_contain_text("Nurse")
    expect(row).to_contain_text("Active")
    assert User.objects.get(email="grace.mensah@hospital.example").role == Role.NURSE
    assert [m.to for m in mailoutbox] == [["grace.mensah@hospital.example"]]
    assert "/accounts/password/set/" in mailoutbox[0].body


def test_a_journey_can_start_signed_in_as_any_role_without_the_login_form(
    page, make_user, login_as
):
    admin = make_user(Role.ADMIN, email="second.admin@hospital.example", given_name="Tomas")
    login_as(page, admin)
    page.goto("/dashboard/")
    expect(page.get_by_role("heading", name="Good day, Tomas")).to_be_visible()
    expect(page.get_by_text("Signed in as Administrator")).to_be_visible()
