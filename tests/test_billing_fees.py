"""Fees show where patients choose a service: the portal's booking steps and the staff booking
form, through the registry scheduling offers (it does not import billing)."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from hms.billing.models import PriceItem, PriceKind
from hms.core.permissions import Role
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import PortalPatientFactory, ServiceFactory, weekly_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def priced():
    schedule = weekly_schedule()
    first = ServiceFactory(department=schedule.department, name="First visit", duration_minutes=30)
    follow = ServiceFactory(department=schedule.department, name="Follow-up", price_code="FU-1")
    PriceItem.objects.create(
        code="FV",
        name="First visit",
        kind=PriceKind.CONSULTATION,
        service=first,
        unit_price=Decimal("85"),
        valid_from=date(2020, 1, 1),
    )
    PriceItem.objects.create(code="FU-1", name="Follow-up", kind=PriceKind.CONSULTATION,
                             unit_price=Decimal("45"), valid_from=date(2020, 1, 1))  # fmt: skip
    return schedule, first, follow


def test_the_portal_shows_each_services_fee_and_the_summary_the_chosen_one(client_for, priced):
    schedule, first, _ = priced
    client = client_for(user=PortalPatientFactory().user)
    chosen = {"practitioner": schedule.practitioner_id, "start": at(2, 10).isoformat()}
    url = reverse("scheduling:portal-book")
    page = client.get(url, chosen).content.decode()
    assert "First visit (30 min) · 85.00 GBP" in page
    assert "Follow-up (15 min) · 45.00 GBP" in page
    summary = client.get(url, {**chosen, "step": "summary", "service": first.pk}).content.decode()
    assert 'id="booking-fee">85.00 GBP<' in summary


def test_the_staff_booking_form_shows_the_fees(client_for, priced):
    schedule, _, _ = priced
    url = reverse("scheduling:book") + (
        f"?practitioner={schedule.practitioner_id}&start={at(2, 10).isoformat()}"
    )
    page = client_for(Role.RECEPTIONIST).get(url).content.decode()
    assert "First visit (30 min) · 85.00 GBP" in page


def test_a_service_without_a_price_shows_no_fee(client_for):
    schedule = weekly_schedule()
    ServiceFactory(department=schedule.department, name="Unpriced", duration_minutes=30)
    chosen = {"practitioner": schedule.practitioner_id, "start": at(2, 10).isoformat()}
    page = client_for(user=PortalPatientFactory().user).get(
        reverse("scheduling:portal-book"), chosen
    ).content.decode()  # fmt: skip
    assert "Unpriced (30 min)" in page and "GBP" not in page
