"""No page answers junk form data with a server error: every HTML URL gets a POST of junk
values (NUL, huge numbers, impossible dates, very long text, junk ids) as each role that may
open it; it must answer a form error, a redirect or a 4xx, never a 5xx."""

import pytest

from hms.core.permissions import Role
from tests.test_role_matrix import (
    Declaration,
    allowed,
    clients_by_role,
    declaration_of,
    routes_of,
    url_of,
)

HUGE = "9" * 30
FIELDS = [
    "q", "page", "practitioner", "department", "patient", "start", "end", "day", "id",
    "mrn", "survivor", "duplicate", "reason", "confirm", "service", "kind", "status", "next",
    "birth_date", "given_name", "family_name", "phone", "email", "sex", "code", "description",
    "onset_date", "substance", "severity", "drug", "quantity", "value", "reference_low",
    "pulse_per_min", "temperature_c", "weight_kg", "text", "subjective", "test_code",
    "priority", "opt_out", "role", "password1", "password2", "is_active", "hours-weekday",
    "hours-start_time", "exc-start", "exc-end", "action", "actor", "date_from", "date_to",
]  # fmt: skip
JUNK = [
    dict.fromkeys(FIELDS, "\x00"),
    dict.fromkeys(FIELDS, HUGE),
    dict.fromkeys(FIELDS, "-1"),
    dict.fromkeys(FIELDS, "2026-02-31T25:61"),
    dict.fromkeys(FIELDS, "x" * 5000),
    {**dict.fromkeys(FIELDS, "1e400"), "confirm": "1"},
    dict.fromkeys(FIELDS, "2026-02-31"),
    dict.fromkeys(FIELDS, "NaN"),
]
SKIP = {"accounts:login", "accounts:logout", "accounts:password-forgot", "accounts:register"}


@pytest.mark.django_db
def test_every_page_answers_junk_form_data_without_a_server_error():
    from tests.url_samples import URL_SAMPLES

    clients = clients_by_role()
    crashes, requests = [], 0
    for route in routes_of():
        declaration = declaration_of(route)
        if not isinstance(declaration, Declaration) or declaration.kind != "html":
            continue
        if route.name in SKIP or (route.params and route.name not in URL_SAMPLES):
            continue
        url = url_of(route, URL_SAMPLES[route.name]() if route.params else {})
        for role in (Role.ADMIN, Role.DOCTOR, Role.RECEPTIONIST, Role.LAB, Role.PATIENT):
            if not allowed(declaration.access, role):
                continue
            for data in JUNK:
                requests += 1
                try:
                    status = clients[role].post(url, data).status_code
                except Exception as exc:  # the test client re-raises a view's exception
                    status = f"{type(exc).__name__}: {exc}"[:160]
                if not isinstance(status, int) or status >= 500:
                    crashes.append(
                        f"POST {url} {next(iter(data.values()))[:12]!r} as {role}: {status}"
                    )
    print(f"form fuzz: {requests} requests")
    assert requests > 100
    assert not crashes, "\n".join(dict.fromkeys(crashes))
