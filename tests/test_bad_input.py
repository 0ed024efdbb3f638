"""No page answers junk in its query string with a server error (for every GET URL, with
the sample arguments of tests/url_samples.py, as the roles that may open it)."""

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

JUNK = [
    "q=%00",
    "page=%00",
    "q=" + "x" * 3000,
    "page=-1&q=%25_%27",
    "q=%F0%9F%A9%BA",
    # The ends of Python's calendar: a page that adds a week or changes the zone overflowed.
    "day=9999-12-31&start=9999-12-31&date_from=9999-12-31",
    "day=0001-01-01&view=week&end=0001-01-01&date_to=0001-01-01",
]


@pytest.mark.django_db
def test_every_page_survives_junk_in_its_query_string():
    from tests.url_samples import URL_SAMPLES

    clients = clients_by_role()
    crashes = []
    for route in routes_of():
        declaration = declaration_of(route)
        if not isinstance(declaration, Declaration) or declaration.method != "get":
            continue
        if route.params and route.name not in URL_SAMPLES:
            continue
        url = url_of(route, URL_SAMPLES[route.name]() if route.params else {})
        for role in (Role.ADMIN, Role.DOCTOR, Role.RECEPTIONIST, Role.PATIENT):
            if not allowed(declaration.access, role):
                continue
            for query in JUNK:
                try:
                    status = clients[role].get(f"{url}?{query}").status_code
                except Exception as exc:  # the test client re-raises a view's exception
                    status = f"{type(exc).__name__}: {exc}"[:160]
                if not isinstance(status, int) or status >= 500:
                    crashes.append(f"GET {url}?{query[:40]} as {role.value}: {status}")
    assert not crashes, "\n".join(crashes)
