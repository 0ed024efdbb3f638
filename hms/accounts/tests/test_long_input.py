"""Sign-in with an absurdly long (but well-formed) email is refused as invalid, not a crash:
the lockout table (django-axes) stores at most 255 characters of it, and PostgreSQL refused
the longer value (a 500)."""

import pytest

pytestmark = pytest.mark.django_db
LONG_EMAIL = "a" * 300 + "@example.org"


def test_the_token_endpoint_refuses_an_overlong_email(client):
    body = {"email": LONG_EMAIL, "password": "not-the-password"}
    response = client.post("/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 400
    assert "email" in response.json()["error"]["fields"]


def test_the_sign_in_page_refuses_an_overlong_email(client):
    response = client.post("/accounts/login/", {"username": LONG_EMAIL, "password": "x"})
    assert response.status_code == 200
    assert response.context["form"].errors["username"]


def test_staff_creation_refuses_an_overlong_email(client_for):
    from hms.core.permissions import Role

    response = client_for(Role.ADMIN).post(
        "/accounts/staff/new/",
        {"given_name": "G", "family_name": "H", "email": LONG_EMAIL, "role": Role.NURSE},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
