"""A phone number typed at sign-up (which also registers the patient) or on a staff record must
parse (issue 8, point 4)."""

import pytest

from hms.accounts.models import User
from hms.core.permissions import Role

pytestmark = pytest.mark.django_db


def test_self_registration_refuses_a_phone_that_is_not_a_number(client):
    from tests.test_self_registration import FORM

    response = client.post("/accounts/register/", {**FORM, "phone": "call me maybe!!"})
    assert response.status_code == 200
    assert "Enter a phone number" in response.context["form"].errors["phone"][0]
    assert not User.objects.filter(email__iexact=FORM["email"]).exists()


def test_staff_creation_refuses_a_phone_that_is_not_a_number(client_for):
    response = client_for(Role.ADMIN).post(
        "/accounts/staff/new/",
        {
            "given_name": "G",
            "family_name": "H",
            "email": "g.h@example.org",
            "role": Role.NURSE,
            "phone": "call me maybe!!",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["phone"]
