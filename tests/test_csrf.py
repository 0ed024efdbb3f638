"""Every state-changing request from a browser session needs the CSRF token: no HTML view is
exempt, and the API refuses a session-authenticated POST without it (bearer tokens are not
sent by browsers on their own, so they need none)."""

import pytest
from django.test import Client

from hms.core.permissions import Role
from tests.test_role_matrix import Declaration, declaration_of, routes_of, url_of

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_no_page_accepts_a_post_without_the_csrf_token(make_user):
    from tests.url_samples import URL_SAMPLES

    clients = {role: _client(make_user(role)) for role in (Role.DOCTOR, Role.PATIENT)}
    accepted = []
    for route in routes_of():
        declaration = declaration_of(route)
        if not isinstance(declaration, Declaration) or declaration.kind != "html":
            continue
        if route.params and route.name not in URL_SAMPLES:
            continue
        url = url_of(route, URL_SAMPLES[route.name]() if route.params else {})
        for role, client in clients.items():
            status = client.post(url, {"reason": "x"}).status_code
            if status != 403:
                accepted.append(f"POST {url} as {role.value} without CSRF token: {status}")
    assert not accepted, "\n".join(accepted)


def test_the_api_refuses_a_session_post_without_the_csrf_token(make_user):
    client = _client(make_user(Role.RECEPTIONIST))
    response = client.post("/api/v1/patients/", {}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]
