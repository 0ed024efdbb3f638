"""Issue 3's clinical record in a real browser: a doctor opens an encounter from the chart,
records vitals, finds an ICD-10 code by words, is warned about an allergy when prescribing,
signs a SOAP note, amends it, and closes the encounter."""

import pytest
from playwright.sync_api import expect

from hms.clinical.models import ClinicalNote, Diagnosis, Encounter, Prescription
from hms.clinical.tests.factories import AllergyFactory
from hms.core.permissions import Role
from hms.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.e2e


def test_a_doctor_documents_a_consultation(page, login_as, make_user):
    doctor = make_user(Role.DOCTOR)
    patient = PatientFactory(given_name="Ines", family_name="Moreau")
    AllergyFactory(patient=patient, substance="Penicillin", reaction="Hives")
    login_as(page, doctor)

    page.goto(f"/patients/{patient.pk}/")
    expect(page.locator(".patient-banner")).to_contain_text("Penicillin (Hives)")
    page.get_by_role("link", name="Open an encounter").click()
    page.get_by_label("Reason").fill("Wheeze and cough")
    page.get_by_role("button", name="Open encounter").click()
    page.get_by_role("button", name="Start consultation").click()
    expect(page.locator("[data-status]")).to_have_text("In progress")

    page.get_by_label("Pulse (/min)").fill("124")
    page.get_by_label("SpO₂ (%)").fill("93")
    page.get_by_role("button", name="Record", exact=True).click()
    expect(page.get_by_text("Vital signs recorded.")).to_be_visible()
    expect(page.locator('#pane-vitals [data-flag="high"]')).to_have_text("124 ↑")

    page.get_by_role("tab", name="Diagnoses").click()
    page.get_by_label("ICD-10 code").fill("asthma uncomplicated")
    expect(page.locator("#icd10-results")).to_contain_text("J45.909", timeout=30_000)
    page.get_by_label("ICD-10 code").fill("J45.909")
    page.get_by_role("button", name="Add diagnosis").click()
    page.get_by_role("tab", name="Diagnoses").click()
    expect(page.locator("#pane-diagnoses")).to_contain_text("Unspecified asthma, uncomplicated")

    page.get_by_role("tab", name="Prescriptions and allergies").click()
    page.get_by_label("Drug").fill("Amoxicillin")
    page.get_by_label("Strength").fill("500 mg")
    page.get_by_role("button", name="Prescribe").click()
    expect(page.locator("[data-allergy-warning]")).to_contain_text("Penicillin")
    assert not Prescription.objects.exists()
    page.get_by_label("I have seen the allergy warning").check()
    page.get_by_role("button", name="Prescribe").click()
    expect(page.get_by_text("Prescription written.")).to_be_visible()
    assert Prescription.objects.get().allergy_acknowledged_by == doctor

    page.get_by_role("tab", name="Notes").click()
    page.get_by_label("Subjective").fill("Wheeze for two days.")
    page.get_by_label("Assessment").fill("Asthma, mild exacerbation.")
    page.get_by_label("Sign now").check()
    page.get_by_role("button", name="Save note").click()
    page.get_by_role("tab", name="Notes").click()
    note = page.locator(".clinical-note")
    expect(note).to_contain_text("signed")
    expect(note.get_by_role("link", name="Edit draft")).to_have_count(0)
    note.get_by_label("Add an amendment").fill("Peak flow 70% of predicted.")
    note.get_by_role("button", name="Amend").click()
    page.get_by_role("tab", name="Notes").click()
    expect(page.locator(".clinical-note")).to_contain_text("Peak flow 70% of predicted.")
    assert ClinicalNote.objects.get().subjective == "Wheeze for two days."

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Close encounter").click()
    expect(page.locator("[data-status]")).to_have_text("Closed")
    assert Encounter.objects.get().status == "closed"
    assert Diagnosis.objects.get().code == "J45.909"
