"""Issue 3's registry journey in a real browser: reception registers a patient, registers the
same person again with a typo and is offered the first record, then finds the patient by a
mistyped name in the live search box and opens the chart."""

import pytest
from playwright.sync_api import expect

from hms.accounts.tests.factories import TEST_PASSWORD
from hms.core.permissions import Role
from hms.patients.models import Patient

pytestmark = pytest.mark.e2e


def register(page, given: str) -> None:
    page.goto("/patients/new/")
    page.locator("#id_given_name").fill(given)
    page.locator("#id_family_name").fill("Whitfield")
    page.locator("#id_birth_date").fill("1979-04-23")
    page.locator("#id_phone").fill("+44 7700 900123")
    page.locator("main").get_by_role("button", name="Register").click()


def test_reception_is_offered_the_existing_record_and_finds_it_by_a_mistyped_name(
    page, sign_in, make_user
):
    clerk = make_user(Role.RECEPTIONIST)
    sign_in(page, clerk.email, TEST_PASSWORD)

    register(page, "Jonathan")
    first = Patient.objects.get()
    expect(page.get_by_text(f"MRN {first.mrn_display}").first).to_be_visible()

    register(page, "Jonathon")
    warning = page.locator("#possible-duplicates")
    expect(warning).to_contain_text("may already be registered")
    expect(warning.get_by_role("link", name="Jonathan Whitfield")).to_be_visible()
    assert Patient.objects.count() == 1

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_label("Search by MRN, name, phone or date of birth").fill("jonathn whitfeld")
    results = page.locator("#patient-results")
    expect(results).to_contain_text("WHITFIELD, Jonathan")
    results.get_by_role("link", name=first.mrn_display).click()
    expect(page.get_by_role("region", name="Patient banner")).to_contain_text(first.mrn_display)
