"""No API route answers garbage with a server error: every route under /api/v1/, with every
method it accepts, gets malformed ids, query strings and JSON bodies (wrong types, huge
numbers, NUL characters, very long strings) from staff and patient tokens, and must answer a
4xx with the JSON error shape (or a 2xx when the garbage happens to be harmless)."""

import json

import pytest

from hms.core.permissions import Role
from tests.test_role_matrix import DRF_METHODS, _drf_class, clients_by_role, routes_of

HUGE = 10**30
CHOICE_FIELDS = [
    "sex", "kind", "status", "severity", "priority", "role", "channel", "weekday", "reason",
    "category", "clinical_status", "system", "given_name", "test_code",
]  # fmt: skip
LONG = "x" * 20_000
BODIES = [
    "not json at all",
    "[]",
    "null",
    '"a string"',
    "12",
    json.dumps({"patient": HUGE, "practitioner": HUGE, "encounter": HUGE, "order": HUGE}),
    json.dumps({"start": "2026-02-31T10:00:00", "birth_date": "2026-13-45", "onset_date": "0"}),
    json.dumps({"start": "99999-01-01T00:00", "end": -1, "page": HUGE}),
    json.dumps({"patient": "\u0000", "given_name": "\u0000", "reason": "a\u0000b"}),
    json.dumps({"patient": LONG, "practitioner": LONG, "text": LONG, "substance": LONG}),
    json.dumps({"patient": [1, 2], "practitioner": {"id": 1}, "start": [], "hours": "x"}),
    json.dumps({"hours": [{"weekday": HUGE, "start_time": "25:61", "end_time": None}]}),
    json.dumps({"value": "1e400", "quantity": HUGE, "pulse_per_min": "NaN", "sign": "yes!"}),
    json.dumps({"identifiers": [{"system": None}], "email": LONG + "@x.org", "sex": HUGE}),
    "[" * 100_000 + "]" * 100_000,  # deeper than Python's recursion limit
    json.dumps(dict.fromkeys(CHOICE_FIELDS, "\ud800")),  # a lone surrogate: no UTF-8 holds it
    json.dumps({"hours": [{"weekday": 0, "start_time": "09:00", "end_time": "12:00"}]}),
]
BAD_IDS = ["0", "-1", str(HUGE), "not-an-id", "%00", "x" * 600, "00000000-0000-0000-0000"]
BAD_QUERIES = [
    f"patient={HUGE}",
    "patient=not-a-uuid",
    f"practitioner={HUGE}&department={HUGE}",
    "start=2026-02-31&end=2026-13-01T25:00",
    f"page={HUGE}&page_size={HUGE}",
    "page=-5&page_size=abc",
    "q=" + "y" * 5000,
    "status=%00&mine=%00",
    "start=9999-12-31",  # near the end of Python's calendar, a week later overflows
    "start=0001-01-01&end=0001-01-02",
    "day=9999-12-31&date_from=9999-12-31&date_to=0001-01-01",
]
ROLES = (Role.ADMIN, Role.DOCTOR, Role.LAB, Role.PATIENT)


def _bodies_with_real_references() -> list[str]:
    """Bodies whose references exist, so the junk reaches the numbers, dates and services."""
    from hms.clinical.tests.factories import EncounterFactory, LabOrderFactory
    from hms.scheduling.tests.factories import weekly_schedule

    encounter = EncounterFactory()
    refs = {
        "patient": str(encounter.patient_id),
        "encounter": str(encounter.pk),
        "order": str(LabOrderFactory().pk),
        "practitioner": str(weekly_schedule().practitioner_id),
    }
    junk = [
        {"quantity": HUGE, "value": "1e400", "reference_low": HUGE, "temperature_c": HUGE},
        {"pulse_per_min": HUGE, "weight_kg": "-0", "height_cm": "NaN", "spo2_percent": -HUGE},
        {"start": "9999-12-31T23:59:59+14:00", "service": HUGE, "kind": "\u0000"},
        {"start": "0001-01-01T00:00:00-12:00", "reason": LONG, "drug": LONG, "code": LONG},
        {"onset_date": "2026-02-31", "code": "\u0000", "test_code": LONG, "sign": HUGE},
        {"value": "12345678901234567890.12345", "drug": "x", "test_code": "CBC"},
    ]
    return [json.dumps({**refs, **fields}) for fields in junk]


def api_routes():
    routes = []
    for route in routes_of():
        cls = _drf_class(route.callback)
        if cls is None or not route.pattern.startswith("api/v1/"):
            continue
        actions = getattr(route.callback, "actions", None)
        methods = [m for m in DRF_METHODS if (m in actions if actions else hasattr(cls, m))]
        routes.append((route, methods))
    return routes


def _url(route, value: str) -> str:
    from django.urls import reverse

    if not route.params:
        return reverse(route.name)
    marker = "FUZZMARKER"
    return reverse(route.name, kwargs=dict.fromkeys(route.params, marker)).replace(marker, value)


def _problem(where: str, call) -> str | None:
    try:
        response = call()
    except Exception as exc:  # the test client re-raises what the view raised
        return f"{where}: crashed with {type(exc).__name__}: {str(exc)[:120]}"
    if response.status_code >= 500:
        return f"{where}: answered {response.status_code}"
    if 400 <= response.status_code < 500 and response.status_code != 405:
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            return f"{where}: {response.status_code} without the JSON error shape"
        if not {"code", "message", "fields"} <= set(error):
            return f"{where}: error shape incomplete: {error}"
    return None


@pytest.mark.django_db
def test_every_api_route_answers_garbage_with_a_4xx_in_the_error_shape():
    from tests.url_samples import URL_SAMPLES

    clients = clients_by_role()
    routes = api_routes()
    bodies = [*BODIES, *_bodies_with_real_references()]
    assert len(routes) > 20  # the walk really found the API
    problems, requests = [], 0
    for route, methods in routes:
        if route.name == "api-token":
            continue  # the sign-in throttle (axes) counts failures; covered in accounts
        ids = [""]
        if route.params:  # garbage ids, and a real one so the bodies reach the serializers
            ids = [*BAD_IDS, str(next(iter(URL_SAMPLES[route.name]().values())))]
        for role in ROLES:
            client = clients[role]
            for value in ids:
                url = _url(route, value)
                for method in methods:
                    send = getattr(client, method)
                    if method == "get":
                        for query in BAD_QUERIES:
                            requests += 1
                            found = _problem(
                                f"GET {url}?{query[:40]} as {role.value}",
                                lambda s=send, u=f"{url}?{query}": s(u),
                            )
                            if found:
                                problems.append(found)
                        continue
                    for body in bodies:
                        requests += 1
                        found = _problem(
                            f"{method.upper()} {url} {body[:50]!r} as {role.value}",
                            lambda s=send, u=url, b=body: s(u, b, content_type="application/json"),
                        )
                        if found:
                            problems.append(found)
    print(f"api fuzz: {len(routes)} routes, {requests} requests")
    assert not problems, "\n".join(dict.fromkeys(problems))
