"""The billing API: amounts as strings with two decimals, errors as JSON with a code."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from hms.accounts.services import api_token_issue
from hms.billing import services
from hms.billing.models import Invoice, Payment
from hms.core.permissions import Role

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)[0]}")
    return client


@pytest.fixture
def api(clerk):
    return _api(clerk)


@pytest.fixture
def draft(patient, charge_for):
    charge_for(patient, "100.005", tax_rate=Decimal("5"), description="MRI")
    return Invoice.objects.get(patient=patient)


def test_an_invoice_is_issued_paid_in_part_and_in_full_through_the_api(api, draft, patient):
    body = api.get(f"/api/v1/invoices/{draft.pk}/").json()
    assert body["number"] is None and body["status"] == "draft"
    assert body["lines"][0] == {
        "description": "MRI", "code": "", "quantity": "1.000", "unit_price": "100.01",
        "discount": "0.00", "tax_rate": "5.00", "tax": "5.00", "total": "105.01",
    }  # fmt: skip
    issued = api.post(f"/api/v1/invoices/{draft.pk}/issue/").json()
    assert issued["status"] == "issued" and issued["number"].startswith("INV-")
    assert (issued["total"], issued["paid"], issued["balance"]) == ("105.01", "0.00", "105.01")
    paid = api.post("/api/v1/payments/", {"invoice": draft.pk, "amount": "50", "method": "cash"},
                    format="json")  # fmt: skip
    assert paid.status_code == 201 and paid.json()["amount"] == "50.00"
    body = api.get(f"/api/v1/invoices/{draft.pk}/").json()
    assert (body["status"], body["paid"], body["balance"]) == ("partially_paid", "50.00", "55.01")
    balance = api.get(f"/api/v1/patients/{patient.pk}/balance/").json()
    assert balance == {"patient": str(patient.pk), "balance": "55.01", "credit": "0.00",
                       "currency": "GBP"}  # fmt: skip
    pdf = api.get(f"/api/v1/invoices/{draft.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    api.post("/api/v1/payments/", {"invoice": draft.pk, "amount": "60.00", "method": "card"},
             format="json")  # fmt: skip
    body = api.get(f"/api/v1/invoices/{draft.pk}/").json()
    assert (body["status"], body["balance"]) == ("paid", "0.00")
    assert api.get(f"/api/v1/patients/{patient.pk}/balance/").json()["credit"] == "4.99"


def test_the_list_filters_by_patient_and_status_and_is_paginated(api, draft, patient, clerk):
    from hms.patients.tests.factories import PatientFactory

    services.charge_add(actor=clerk, patient=PatientFactory(), description="X", unit_price="1")
    body = api.get("/api/v1/invoices/", {"patient": str(patient.pk), "status": "draft"}).json()
    assert [row["id"] for row in body["results"]] == [str(draft.pk)]
    assert api.get("/api/v1/invoices/").json()["count"] == 2
    bad = api.get("/api/v1/invoices/", {"status": "nonsense"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"


def test_errors_are_json_with_a_code(api, draft):
    conflict = api.post(f"/api/v1/invoices/{draft.pk}/void/", {}, format="json")
    assert conflict.status_code == 400 and conflict.json()["error"]["fields"]["reason"]
    api.post(f"/api/v1/invoices/{draft.pk}/issue/")
    again = api.post(f"/api/v1/invoices/{draft.pk}/issue/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_state"
    missing = api.get("/api/v1/invoices/not-an-id/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    negative = api.post("/api/v1/payments/", {"invoice": draft.pk, "amount": "-1",
                                              "method": "cash"}, format="json")  # fmt: skip
    assert negative.status_code == 400 and "amount" in negative.json()["error"]["fields"]
    assert not Payment.objects.exists()


def test_a_refund_charges_and_claims_through_the_api(api, draft, clerk, patient):
    api.post(f"/api/v1/invoices/{draft.pk}/issue/")
    paid = api.post("/api/v1/payments/", {"invoice": draft.pk, "amount": "105.01",
                                          "method": "cash"}, format="json").json()  # fmt: skip
    refund = api.post(f"/api/v1/payments/{paid['id']}/refund/",
                      {"amount": "5.01", "reason": "Goodwill"}, format="json")  # fmt: skip
    assert refund.status_code == 201 and refund.json()["kind"] == "refund"
    assert api.get(f"/api/v1/invoices/{draft.pk}/").json()["balance"] == "5.01"
    created = api.post("/api/v1/charges/", {"patient": str(patient.pk), "description": "Gauze",
                                            "unit_price": "3.50", "quantity": "2"},
                       format="json")  # fmt: skip
    assert created.status_code == 201 and created.json()["unit_price"] == "3.50"
    void = api.post(f"/api/v1/charges/{created.json()['id']}/void/", {"reason": "Not used"},
                    format="json")  # fmt: skip
    assert void.json()["status"] == "void"
    assert api.get("/api/v1/claims/").json()["results"] == []


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.PATIENT])
def test_clinicians_and_patients_get_no_billing_data(make_user, role, draft, patient):
    client = _api(make_user(role))
    for url in ("/api/v1/invoices/", f"/api/v1/invoices/{draft.pk}/",
                f"/api/v1/patients/{patient.pk}/balance/", "/api/v1/charges/"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 403 and response.json()["error"]["code"]
