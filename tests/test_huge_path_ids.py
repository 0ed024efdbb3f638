"""A number too big for the database in a URL's <int:...> part is a 404, never a crash."""

import pytest

from hms.core.permissions import Role
from tests.test_role_matrix import (
    Declaration,
    allowed,
    clients_by_role,
    declaration_of,
    routes_of,
)

HUGE = "9" * 30


@pytest.mark.django_db
def test_every_url_with_a_number_in_its_path_answers_a_huge_number_without_a_crash():
    clients = clients_by_role()
    crashes, requests = [], 0
    for route in routes_of():
        if "<int:" not in route.pattern:
            continue
        declaration = declaration_of(route)
        if not isinstance(declaration, Declaration):
            continue
        url = "/" + route.pattern
        for part in route.params:
            url = url.replace(f"<int:{part}>", HUGE).replace(f"<uuid:{part}>", "0" * 32)
            url = url.replace(f"<str:{part}>", "x" * 40).replace(f"<{part}>", "x")
        for role in (Role.ADMIN, Role.DOCTOR, Role.RECEPTIONIST, Role.PATIENT):
            if not allowed(declaration.access, role):
                continue
            for method in ("get", "post"):
                requests += 1
                try:
                    status = getattr(clients[role], method)(url).status_code
                except Exception as exc:  # the test client re-raises a view's exception
                    status = f"{type(exc).__name__}: {exc}"[:120]
                if not isinstance(status, int) or status >= 500:
                    crashes.append(f"{method.upper()} {url} as {role.value}: {status}")
    assert requests > 10
    assert not crashes, "\n".join(crashes)
