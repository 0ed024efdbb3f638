"""Invoice numbers are gapless and consecutive per year, also when several clerks issue at the
same moment (one counter row per series and year, locked in the issuing transaction). Runs on
SQLite and PostgreSQL: `DATABASE_URL=postgres://... pytest hms/billing/tests/test_numbering.py`."""

import threading
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from hms.billing import services
from hms.billing.models import Invoice, InvoiceStatus
from hms.core.permissions import Role
from hms.patients.tests.factories import PatientFactory

ISSUERS = 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuing_gives_distinct_consecutive_numbers_without_gaps(make_user):
    clerk = make_user(Role.BILLING)
    drafts = []
    for _ in range(ISSUERS):
        charge = services.charge_add(
            actor=clerk, patient=PatientFactory(), description="Visit", unit_price=Decimal("10")
        )
        drafts.append(charge.invoice)
    barrier = threading.Barrier(ISSUERS)
    errors: list[str] = []

    def issue(invoice):
        try:
            barrier.wait(timeout=30)
            services.invoice_issue(actor=clerk, invoice=invoice)
        except Exception as exc:  # anything at all fails the test below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue, args=(d,)) for d in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors, errors
    year = timezone.localdate().year
    numbers = sorted(
        Invoice.objects.filter(status=InvoiceStatus.ISSUED).values_list("number", flat=True)
    )
    assert numbers == [f"INV-{year}-{n:06d}" for n in range(1, ISSUERS + 1)]
