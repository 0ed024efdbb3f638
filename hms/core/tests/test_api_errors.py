"""Every API error has one shape: {"error": {"code", "message", "fields"}}, never HTML."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from hms.core.errors import Conflict, NotAllowed, NotFound
from hms.core.permissions import Role

TOKEN = "/api/v1/auth/token/"


def assert_error_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    if code is not None:
        assert error["code"] == code
    return error


def test_anonymous_api_requests_get_401_asking_for_a_bearer_token(client, db):
    response = client.get("/api/v1/me/")
    assert_error_shape(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_bad_bearer_token_gets_401(client, db):
    response = client.get("/api/v1/me/", headers={"Authorization": "Bearer not-a-real-token"})
    assert_error_shape(response, 401, "authentication_failed")


def test_a_malformed_authorization_header_gets_401(client, db):
    response = client.get("/api/v1/me/", headers={"Authorization": "Bearer two parts"})
    assert_error_shape(response, 401)


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/api/nothing", "/api/v2/me/"])
def test_unknown_api_paths_answer_404_in_json_even_in_debug(client, db, path):
    assert_error_shape(client.get(path), 404, "not_found")


def test_a_missing_trailing_slash_gets_a_hint(client, db):
    error = assert_error_shape(client.get("/api/v1/me"), 404, "not_found")
    assert "/api/v1/me/" in error["message"]
    assert "slash" not in assert_error_shape(client.get("/api/v1/nothing"), 404)["message"]


def test_a_validation_error_names_the_fields(client, db):
    response = client.post(TOKEN, {"email": "not-an-email"}, "application/json")
    error = assert_error_shape(response, 400, "invalid")
    assert set(error["fields"]) == {"email", "password"}
    assert all(isinstance(messages, list) for messages in error["fields"].values())


def test_malformed_json_is_a_400_not_a_500(client, db):
    response = client.post(TOKEN, "{not json", "application/json")
    assert_error_shape(response, 400, "parse_error")


@pytest.mark.parametrize("settings_debug", [False, True])
def test_json_nested_deeper_than_python_recurses_is_a_400_even_anonymous(
    client, db, settings, settings_debug
):
    settings.DEBUG = settings_debug  # under DEBUG the 500 was Django's page with the settings
    body = "[" * 100_000 + "]" * 100_000
    assert_error_shape(client.post(TOKEN, body, "application/json"), 400, "parse_error")


def test_a_lone_surrogate_in_a_choice_field_is_a_400_not_a_500(client_for):
    body = (
        '{"given_name": "Ann", "family_name": "Lee", "birth_date": "1990-01-01", "sex": "\\ud800"}'
    )
    response = client_for(Role.RECEPTIONIST).post("/api/v1/patients/", body, "application/json")
    assert_error_shape(response, 400, "parse_error")


def test_a_wrong_method_is_a_405_in_the_same_shape(client, db):
    assert_error_shape(client.get(TOKEN), 405, "method_not_allowed")


class Raises(APIView):
    permission_classes = [AllowAny]
    required_perm = "public"
    exc: Exception = RuntimeError("set by as_view(exc=...)")

    def get(self, request):
        raise self.exc


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (Conflict("Slot taken.", code="slot_taken", fields={"start": "Taken."}), 409, "slot_taken"),
        (NotFound("No such patient."), 404, "not_found"),
        (NotAllowed("Not yours."), 403, "permission_denied"),
        (Http404("gone"), 404, "not_found"),
        (PermissionDenied(), 403, "permission_denied"),
        (DjangoValidationError({"birth_date": ["In the future."]}), 400, "invalid"),
        (DjangoValidationError("Bad input."), 400, "invalid"),
        (ValidationError({"non_field_errors": ["Pick one."]}), 400, "invalid"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_domain_and_django_errors_become_the_json_shape(exc, status, code):
    view = Raises.as_view(exc=exc)
    response = view(APIRequestFactory().get("/api/v1/x/"))
    response.render()
    assert response.status_code == status
    error = response.data["error"]
    assert error["code"] == code
    assert set(error) == {"code", "message", "fields"}


def test_a_domain_errors_fields_and_message_reach_the_client():
    view = Raises.as_view(exc=Conflict("Slot taken.", code="slot_taken", fields={"start": "x"}))
    error = view(APIRequestFactory().get("/api/v1/x/")).data["error"]
    assert error == {"code": "slot_taken", "message": "Slot taken.", "fields": {"start": "x"}}


def test_a_django_validation_error_keeps_its_fields():
    view = Raises.as_view(exc=DjangoValidationError({"birth_date": ["In the future."]}))
    error = view(APIRequestFactory().get("/api/v1/x/")).data["error"]
    assert error["fields"] == {"birth_date": ["In the future."]}


def test_the_schema_and_docs_are_served(client, db):
    schema = client.get("/api/schema/", headers={"Accept": "application/json"})
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/me/" in document["paths"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


@pytest.mark.parametrize("query", ["q=%00", "a%00=1", "page=1%00"])
def test_a_nul_character_in_the_query_is_a_400(client_for, query):
    client = client_for(Role.ADMIN)
    assert client.get(f"/accounts/staff/?{query}").status_code == 400
    assert_error_shape(client.get(f"/api/v1/me/?{query}"), 400, "bad_request")
