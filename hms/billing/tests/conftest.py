from decimal import Decimal

import pytest

from hms.core.permissions import Role
from hms.patients.tests.factories import PatientFactory


@pytest.fixture
def clerk(make_user):
    return make_user(Role.BILLING)


@pytest.fixture
def patient(db):
    return PatientFactory()


@pytest.fixture
def charge_for(clerk):
    """Post a manual charge: charge_for(patient, "120.00", tax_rate=..., discount=...)."""
    from hms.billing import services

    def post(patient, price, **kwargs):
        kwargs.setdefault("description", "Procedure")
        return services.charge_add(
            actor=clerk, patient=patient, unit_price=Decimal(price), **kwargs
        )

    return post
