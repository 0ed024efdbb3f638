"""Security review of the registry: huge page numbers are not a crash; a patient user reaches
no other patient's record by any route."""

import pytest
from django.urls import reverse

from hms.core.permissions import Role
from hms.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
HUGE = "9" * 30


@pytest.mark.parametrize("query", [f"page={HUGE}", f"page={HUGE}&q=smith", f"page={HUGE}&q=1234"])
def test_a_huge_page_number_shows_an_empty_page(client_for, query):
    PatientFactory(family_name="Smith")
    response = client_for(Role.RECEPTIONIST).get(f"{reverse('patients:list')}?{query}")
    assert response.status_code == 200
    assert response.context["page"].patients == []


def test_a_huge_page_number_in_the_api_is_an_empty_page(client_for):
    PatientFactory()
    response = client_for(Role.RECEPTIONIST).get(f"/api/v1/patients/?page={HUGE}")
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_a_patient_reaches_no_other_patients_record_by_any_route(client_for, make_user):
    mine = PatientFactory(user=make_user(Role.PATIENT))
    other = PatientFactory()
    client = client_for(user=mine.user)
    for name in ("chart", "edit", "photo"):
        assert client.get(reverse(f"patients:{name}", args=[other.pk])).status_code in (403, 404)
    assert client.get(f"/api/v1/patients/{other.pk}/").status_code == 404
    response = client.patch(
        f"/api/v1/patients/{other.pk}/", {"given_name": "X"}, "application/json"
    )
    assert response.status_code in (403, 404)
    assert client.get("/api/v1/patients/").status_code == 403
    assert client.get(f"/api/v1/patients/{mine.pk}/").status_code == 200
    other.refresh_from_db()
    assert other.given_name != "X"


def test_reviewing_two_records_for_a_merge_is_an_audited_read_of_both(client_for):
    from hms.core.models import AuditEvent

    survivor, duplicate = PatientFactory(), PatientFactory()
    client = client_for(Role.ADMIN)
    data = {"survivor": survivor.mrn_display, "duplicate": duplicate.mrn, "reason": "same"}
    assert client.post(reverse("patients:merge"), data).status_code == 200
    audited = set(
        AuditEvent.objects.filter(action="patient.merge_review").values_list(
            "patient_ref", flat=True
        )
    )
    assert audited == {str(survivor.pk), str(duplicate.pk)}


def test_each_patient_shown_in_search_results_leaves_an_audit_row(client_for):
    from hms.core.models import AuditEvent

    first, second = PatientFactory(family_name="Auditwood"), PatientFactory(family_name="Auditwood")
    client = client_for(Role.RECEPTIONIST)
    assert client.get("/api/v1/patients/", {"q": "auditwood"}).status_code == 200
    audited = set(
        AuditEvent.objects.filter(action="patient.search_result").values_list(
            "patient_ref", flat=True
        )
    )
    assert audited == {str(first.pk), str(second.pk)}


def test_possible_duplicates_shown_to_a_clerk_are_audited(client_for):
    from hms.core.models import AuditEvent

    existing = PatientFactory(given_name="Jonathan", family_name="Dupwood")
    body = {
        "given_name": "Jonathon",
        "family_name": "Dupwood",
        "birth_date": existing.birth_date.isoformat(),
        "sex": existing.sex,
    }
    response = client_for(Role.RECEPTIONIST).post(
        "/api/v1/patients/", body, content_type="application/json"
    )
    assert response.status_code == 409
    assert AuditEvent.objects.filter(
        action="patient.duplicate_match", patient_ref=str(existing.pk)
    ).exists()
