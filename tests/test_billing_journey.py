"""Issue 10's journey through the API, with real commits (charges are posted after commit):
book -> check in -> consult -> complete -> the charge appears once -> issue -> pay part ->
the balance and the PDF are right -> pay the rest -> paid."""

import re
import zlib
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from hms.accounts.services import api_token_issue
from hms.billing.models import PriceItem, PriceKind
from hms.clinical.models import Encounter
from hms.core.permissions import Role
from hms.scheduling.slots import free_slots
from hms.scheduling.tests.factories import PatientFactory, ServiceFactory, weekly_schedule


def pdf_titles(content: bytes) -> list[str]:
    """The titles in a PDF's (compressed) objects: the document's (its metadata, from the
    template's <title>) and its bookmarks' (the headings)."""
    titles = []
    for stream in re.findall(rb"stream\n(.*?)\nendstream", content, re.S):
        try:
            text = zlib.decompress(stream)
        except zlib.error:
            continue
        titles += [t.decode() for t in re.findall(rb"/Title \((.*?)\)", text)]
    return titles


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)[0]}")
    return client


@pytest.mark.django_db(transaction=True)
def test_a_visit_is_charged_once_invoiced_and_paid_in_two_parts(make_user):
    schedule = weekly_schedule(start=time(0, 0), end=time(23, 45))
    service = ServiceFactory(department=schedule.department, name="First consultation",
                             duration_minutes=15, price_code="CONS-NEW-x")  # fmt: skip
    PriceItem.objects.create(code="CONS-NEW-x", name="First consultation", service=service,
                             kind=PriceKind.CONSULTATION, unit_price=Decimal("85.00"),
                             valid_from=timezone.localdate() - timedelta(days=1))  # fmt: skip
    patient = PatientFactory()
    reception, clerk = _api(make_user(Role.RECEPTIONIST)), _api(make_user(Role.BILLING))
    doctor = _api(schedule.practitioner)
    now = timezone.now()
    slot = next(
        s for s in free_slots(start=now + timedelta(minutes=1), end=now + timedelta(hours=2))
        if s.practitioner_id == schedule.practitioner_id
    )  # fmt: skip

    booked = reception.post("/api/v1/appointments/", {
        "patient": str(patient.pk), "practitioner": str(schedule.practitioner_id),
        "start": slot.start.isoformat(), "service": str(service.pk),
    }, format="json")  # fmt: skip
    assert booked.status_code == 201, booked.json()
    appointment_id = booked.json()["id"]
    assert reception.post(f"/api/v1/appointments/{appointment_id}/check-in/").status_code == 200
    encounter = Encounter.objects.get(appointment_id=appointment_id)
    assert doctor.post(f"/api/v1/encounters/{encounter.pk}/start/").status_code == 200
    assert doctor.post(f"/api/v1/encounters/{encounter.pk}/close/").status_code == 200
    doctor.post(f"/api/v1/encounters/{encounter.pk}/close/")  # a second click changes nothing

    charges = clerk.get("/api/v1/charges/", {"patient": str(patient.pk)}).json()["results"]
    assert len(charges) == 1
    assert charges[0]["source_key"] == f"appointment:{appointment_id}"
    assert charges[0]["unit_price"] == "85.00"
    (draft,) = clerk.get("/api/v1/invoices/", {"patient": str(patient.pk)}).json()["results"]

    issued = clerk.post(f"/api/v1/invoices/{draft['id']}/issue/").json()
    assert issued["status"] == "issued" and re.fullmatch(r"INV-\d{4}-\d{6}", issued["number"])
    part = clerk.post("/api/v1/payments/", {"invoice": draft["id"], "amount": "35.00",
                                            "method": "cash"}, format="json")  # fmt: skip
    assert part.status_code == 201
    body = clerk.get(f"/api/v1/invoices/{draft['id']}/").json()
    assert (body["status"], body["total"], body["paid"], body["balance"]) == (
        "partially_paid",
        "85.00",
        "35.00",
        "50.00",
    )
    balance = clerk.get(f"/api/v1/patients/{patient.pk}/balance/").json()
    assert (balance["balance"], balance["credit"]) == ("50.00", "0.00")
    pdf = clerk.get(f"/api/v1/invoices/{draft['id']}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    assert f"Invoice {issued['number']} balance 50.00 GBP status partially_paid" in pdf_titles(
        pdf.content
    )

    rest = clerk.post("/api/v1/payments/", {"invoice": draft["id"], "amount": "50.00",
                                            "method": "card"}, format="json")  # fmt: skip
    assert rest.status_code == 201
    body = clerk.get(f"/api/v1/invoices/{draft['id']}/").json()
    assert (body["status"], body["balance"]) == ("paid", "0.00")
    assert len(clerk.get("/api/v1/charges/", {"patient": str(patient.pk)}).json()["results"]) == 1
