"""Every URL of the project, opened as every role and as nobody, is allowed or refused exactly
as its declaration says. New URLs are covered automatically: an undeclared view fails here.

Declarations: function views carry `hms_access` (a Perm, "public" or "signed_in", set by
hms/core/access.py); DRF views carry `required_perm` / `required_perms` on the class (read
by hms/accounts/api_auth.py). URLs with parameters take their arguments from
tests/url_samples.py.
"""

import difflib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, path, re_path, reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSet

from hms.accounts.api_auth import HasRolePermission, required_perm_of
from hms.accounts.tests.factories import UserFactory
from hms.core.access import PUBLIC, SIGNED_IN, public, require_perm
from hms.core.permissions import Perm, Role, role_has_perm

REDIRECTS = {301, 302, 303, 307, 308}
DRF_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    name: str | None  # "namespace:name" as reverse() wants it
    pattern: str  # the full pattern, for messages
    callback: Callable
    params: tuple[str, ...]
    unnamed_groups: bool

    @property
    def label(self) -> str:
        return f"{self.name or '(unnamed)'} [{self.pattern}]"


def routes_of(urlconf=None) -> list[Route]:
    """Every URL pattern under `urlconf`, includes followed, with its full name and params."""
    found: list[Route] = []

    def walk(resolver: URLResolver, namespace: str, prefix: str, params: tuple, unnamed: bool):
        for entry in resolver.url_patterns:
            regex = entry.pattern.regex
            here = prefix + str(entry.pattern)
            names = params + tuple(regex.groupindex)
            has_unnamed = unnamed or regex.groups > len(regex.groupindex)
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry, inner, here, names, has_unnamed)
            elif isinstance(entry, URLPattern):
                full_name = f"{namespace}{entry.name}" if entry.name else None
                found.append(Route(full_name, here, entry.callback, names, has_unnamed))

    walk(get_resolver(urlconf), "", "", (), False)
    # DRF's format-suffix twins (`\.(?P<format>...)`) repeat the route they suffix.
    return [route for route in found if "format" not in route.params]


@dataclass(frozen=True)
class Declaration:
    kind: str  # "html" (Django view) or "api" (DRF view)
    method: str  # what the matrix sends
    access: object  # Perm, PUBLIC or SIGNED_IN


def _drf_class(callback):
    cls = getattr(callback, "cls", None)
    return cls if isinstance(cls, type) and issubclass(cls, APIView) else None


def drf_actions(callback) -> dict[str, str]:
    """A DRF route's HTTP methods, each with the action it runs (a plain APIView: the method)."""
    actions = getattr(callback, "actions", None)  # a viewset route: {"get": "list", ...}
    if actions:
        return {m: actions[m] for m in DRF_METHODS if m in actions}
    cls = _drf_class(callback)
    return {m: m for m in DRF_METHODS if hasattr(cls, m)}


def declaration_of(route: Route) -> Declaration | str:
    """The access the route's view declares, or a problem that explains what is missing."""
    callback = route.callback
    if hasattr(callback, "hms_access"):
        access = callback.hms_access
        if access not in (PUBLIC, SIGNED_IN) and not isinstance(access, Perm):
            return f"{route.label}: hms_access {access!r} is not a Perm, 'public' or 'signed_in'"
        return Declaration("api" if _drf_class(callback) else "html", "get", access)
    cls = _drf_class(callback)
    if cls is None:
        return (
            f"{route.label}: the view declares no access. Decorate it with "
            "@require_perm(Perm.X), @signed_in or @public (hms/core/access.py)."
        )
    methods = drf_actions(callback)
    if not methods:
        return f"{route.label}: the DRF view {cls.__name__} answers no HTTP method"
    perms = {}
    for method, action in methods.items():
        perm = required_perm_of(cls, action)
        if perm is None and cls.__name__ == "APIRootView":
            return f"{route.label}: DefaultRouter's API root declares nothing; use SimpleRouter"
        if perm is None:
            return (
                f"{route.label}: {cls.__name__} declares no permission for {action!r}. Set "
                "required_perm = Perm.X or required_perms = {action: Perm.X} on the view."
            )
        if perm not in (PUBLIC, SIGNED_IN) and not isinstance(perm, Perm):
            return f"{route.label}: {cls.__name__} declares {perm!r}, which is not a Perm"
        perms[method] = perm
    checks_roles = HasRolePermission in cls.permission_classes
    if not checks_roles and set(perms.values()) != {PUBLIC}:
        return (
            f"{route.label}: {cls.__name__} must use permission_classes = "
            "[HasRolePermission] (hms/accounts/api_auth.py)"
        )
    method = "get" if "get" in perms else next(iter(methods))
    return Declaration("api", method, perms[method])


def sample_problem(route: Route, samples: dict) -> str | None:
    if route.unnamed_groups:
        return f"{route.label}: use named groups so the matrix can build the URL"
    if not route.params:
        return None
    if route.name is None:
        return f"{route.label}: a URL with parameters needs a name (path(..., name=...))"
    if route.name not in samples:
        return (
            f"{route.label}: no sample arguments. Add URL_SAMPLES[{route.name!r}] (a callable "
            f"that creates the object and returns kwargs for {list(route.params)}) to "
            "hms/<app>/tests/url_samples.py or tests/url_samples.py."
        )
    return None


def url_of(route: Route, kwargs: dict) -> str:
    if route.name:
        return reverse(route.name, kwargs=kwargs or None)
    return "/" + route.pattern.replace("^", "").replace("$", "").replace("\\", "")


def is_login_redirect(response) -> bool:
    if response.status_code not in REDIRECTS:
        return False
    return urlsplit(response["Location"]).path == reverse("accounts:login")


def allowed(access, role: Role | None) -> bool:
    if access == PUBLIC:
        return True
    if role is None:
        return False
    return access == SIGNED_IN or role_has_perm(role, access)


_NO_PATIENT_RECORD = "the matrix's patient account has no patient record linked to it"
_NEEDS_PATIENT = "a list needs ?patient= (the matrix sends none): 404 tells no patient was found"
_FHIR_EXPORT_OWNER = (
    "the sample export was asked for by another administrator: only its requester sees it"
)
_HIDDEN = (
    "declared signed_in (reads shared by staff and patients); the selector answers 404 to a "
    "role outside the record's area, so a refusal does not tell the record exists"
)

# An allowed role must get an answer other than 403/404. These URLs may answer 404 to an
# allowed role, for the reason written beside each; keep the table small and the reasons true.
MAY_ANSWER_404: dict[str, str] = {
    "patients:my-record": _NO_PATIENT_RECORD,
    "patients:my-details": _NO_PATIENT_RECORD,
    "scheduling:portal-book": _NO_PATIENT_RECORD,
    "api-not-found": "the JSON 404 for any unknown address under /api/",
    "patients:photo": "the sample patient has no photo",
    "clinical:attachment": "the sample attachment's file is not in the matrix's storage",
    "scheduling:book": "the booking page needs a free slot in its query string",
    "api-vitals-list": _NEEDS_PATIENT,
    "api-diagnoses-list": _NEEDS_PATIENT,
    "api-allergies-list": _NEEDS_PATIENT,
    "api-notes-list": _NEEDS_PATIENT,
    "api-lab-results-list": _NEEDS_PATIENT,
    "api-prescriptions-list": _NEEDS_PATIENT + "; staff outside the pharmacy area: " + _HIDDEN,
    "api-lab-orders-list": _NEEDS_PATIENT + "; staff outside the lab area: " + _HIDDEN,
    "api-allergies-detail": _HIDDEN,
    "api-notes-detail": _HIDDEN,
    "api-prescriptions-detail": _HIDDEN,
    "api-lab-orders-detail": _HIDDEN,
    "api-lab-results-detail": _HIDDEN,
    "appointment-detail": _HIDDEN,
    "appointment-cancel": _HIDDEN,
    "appointment-reschedule": _HIDDEN,
    # workflows
    "workflows:task-done": "a task is seen only by its assignee and their role: 404 to others",
    "notification-read": "only the caller's own notifications: another user's is not found",
    # fhir
    "fhir:export-status": _FHIR_EXPORT_OWNER,
    "fhir:export-file": _FHIR_EXPORT_OWNER,
    "fhir:Observation-read": "the sample is a vital sign; a lab technician's scope covers "
    "laboratory Observations only: " + _HIDDEN,
}

# FHIR routes shared by staff and patients declare signed_in; the SMART scopes derived from the
# role (hms/fhir/scopes.py, the same catalogue) then refuse a role that does not read the type at
# all with 403 OperationOutcome. Only these routes may answer 403 to a signed-in role.
_FHIR_SCOPED = "signed_in route; a role without the type in its SMART scopes gets 403"
MAY_ANSWER_403: dict[str, str] = {
    f"fhir:{name}-{route}": _FHIR_SCOPED
    for name in (
        "Patient",
        "Observation",
        "AllergyIntolerance",
        "MedicationRequest",
        "Appointment",
    )  # fmt: skip
    for route in ("search", "read")
} | {"fhir:patient-everything": _FHIR_SCOPED}


def verdict(
    declaration: Declaration,
    role: Role | None,
    response,
    *,
    about_an_object: bool = False,
    may_answer_404: bool = False,
    may_answer_403: bool = False,
) -> str | None:
    """What is wrong with `response`, or None when it matches the declaration.

    `about_an_object`: the URL names a sampled object. The matrix's patient is never the
    sample's owner, so a patient may be refused it (404, or 403) even with the permission.
    `may_answer_404`: the URL is in MAY_ANSWER_404, so an allowed role may get a 404.
    """
    status = response.status_code
    if allowed(declaration.access, role):
        # A public page may send people on to sign in (a confirmed email does); others must not.
        to_login = declaration.access != PUBLIC and is_login_redirect(response)
        someone_elses = about_an_object and role == Role.PATIENT and status in (403, 404)
        listed = (may_answer_404 and status == 404) or (may_answer_403 and status == 403)
        if (
            (status in (401, 403, 404) and not (someone_elses or listed))
            or to_login
            or status >= 500
        ):
            return f"allowed by {declaration.access!r} but answered {status}"
        return None
    if role is None:
        if declaration.kind == "html" and not is_login_redirect(response):
            return f"anonymous must be sent to sign in, got {status}"
        if declaration.kind == "api" and status not in (401, 403):
            return f"anonymous must get 401/403 from the API, got {status}"
        return None
    if status not in (403, 404):
        return f"{declaration.access!r} is not in the role's permissions, but it got {status}"
    return None


def clients_by_role() -> dict[Role | None, Client]:
    clients: dict[Role | None, Client] = {None: Client()}
    for role in Role:
        user = UserFactory(role=role, email=f"matrix-{role.value}@example.org")
        client = Client()
        client.force_login(user)
        if role == Role.ADMIN:
            device = TOTPDevice.objects.create(user=user, name="matrix", confirmed=True)
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        clients[role] = client
    return clients


def check_routes(routes: Iterable[Route], samples: dict) -> tuple[list[str], int]:
    problems: list[str] = []
    clients = clients_by_role()
    requests = 0
    for route in routes:
        declaration = declaration_of(route)
        if isinstance(declaration, str):
            problems.append(declaration)
            continue
        problem = sample_problem(route, samples)
        if problem:
            problems.append(problem)
            continue
        kwargs = samples[route.name]() if route.params else {}
        url = url_of(route, kwargs)
        for role, client in clients.items():
            send = getattr(client, declaration.method)
            who = role.value if role else "anonymous"
            where = f"{route.label} {declaration.method.upper()} {url} as {who}"
            requests += 1
            try:
                response = (
                    send(url) if declaration.method == "get" else send(url, {}, "application/json")
                )
            except Exception as exc:  # the test client re-raises what the view raised
                problems.append(f"{where}: the view crashed with {type(exc).__name__}: {exc}")
                continue
            wrong = verdict(
                declaration,
                role,
                response,
                about_an_object=bool(route.params),
                may_answer_404=route.name in MAY_ANSWER_404,
                may_answer_403=route.name in MAY_ANSWER_403,
            )
            if wrong:
                problems.append(f"{where}: {wrong}")
    return problems, requests


@pytest.mark.django_db
def test_every_url_answers_every_role_as_its_declaration_says():
    from tests.url_samples import URL_SAMPLES

    routes = routes_of()
    problems, requests = check_routes(routes, URL_SAMPLES)
    print(f"role matrix: {len(routes)} URL patterns, {requests} requests")
    assert not problems, "\n".join(problems)
    assert requests >= len(routes) * (len(Role) + 1) * 0.9  # the walk really visited the URLs


def test_the_walk_finds_urls_inside_includes_and_the_api():
    names = {route.name for route in routes_of()}
    assert {"core:landing", "accounts:staff-edit", "api-token", "api-me", "healthz"} <= names


# --- The matrix itself can fail: undeclared views and missing samples are reported -----------


def _plain_view(request):
    raise AssertionError("not called")


class _UndeclaredApi(APIView):
    permission_classes = [HasRolePermission]

    def get(self, request):
        raise AssertionError("not called")


class _PartlyDeclaredViewSet(ViewSet):
    permission_classes = [HasRolePermission]
    required_perms = {"list": Perm.STAFF_AREA}

    def list(self, request):
        raise AssertionError("not called")

    def create(self, request):
        raise AssertionError("not called")


class _OpenDoorApi(APIView):
    permission_classes = [AllowAny]
    required_perm = Perm.STAFF_MANAGE

    def get(self, request):
        raise AssertionError("not called")


def _fake_urlconf(*patterns):
    module = ModuleType("fake_urls")
    module.urlpatterns = list(patterns)
    return module


def test_a_view_without_a_declaration_fails_the_matrix():
    (route,) = routes_of(_fake_urlconf(path("x/", _plain_view, name="x")))
    assert "declares no access" in declaration_of(route)


def test_a_drf_view_without_required_perm_fails_the_matrix():
    (route,) = routes_of(_fake_urlconf(path("x/", _UndeclaredApi.as_view(), name="x")))
    assert "declares no permission" in declaration_of(route)


def test_a_viewset_action_left_out_of_required_perms_fails_the_matrix():
    view = _PartlyDeclaredViewSet.as_view({"get": "list", "post": "create"})
    (route,) = routes_of(_fake_urlconf(path("x/", view, name="x")))
    assert "'create'" in declaration_of(route)


def test_a_drf_view_that_skips_the_role_permission_class_fails_the_matrix():
    (route,) = routes_of(_fake_urlconf(path("x/", _OpenDoorApi.as_view(), name="x")))
    assert "HasRolePermission" in declaration_of(route)


def test_a_url_with_parameters_and_no_sample_tells_the_developer_to_add_one():
    view = require_perm(Perm.STAFF_MANAGE)(_plain_view)
    (route,) = routes_of(_fake_urlconf(path("x/<int:pk>/", view, name="thing")))
    assert isinstance(declaration_of(route), Declaration)
    message = sample_problem(route, {})
    assert "URL_SAMPLES['thing']" in message and "pk" in message
    assert sample_problem(route, {"thing": dict}) is None


def test_unnamed_regex_groups_are_refused():
    (route,) = routes_of(_fake_urlconf(re_path(r"^x/(\d+)/$", public(_plain_view))))
    assert "named groups" in sample_problem(route, {})


class _Response:
    def __init__(self, status, location=""):
        self.status_code = status
        self._location = location

    def __getitem__(self, key):
        return self._location


@pytest.mark.parametrize(
    ("access", "role", "response", "ok"),
    [
        (Perm.AUDIT_VIEW, Role.DOCTOR, _Response(200), False),  # a leak
        (Perm.AUDIT_VIEW, Role.DOCTOR, _Response(403), True),
        (Perm.AUDIT_VIEW, Role.ADMIN, _Response(403), False),  # a lock-out of the right role
        (Perm.AUDIT_VIEW, None, _Response(200), False),
        (Perm.AUDIT_VIEW, None, _Response(302, "/accounts/login/?next=/audit/"), True),
        (SIGNED_IN, Role.PATIENT, _Response(302, "/accounts/login/"), False),
        (PUBLIC, None, _Response(200), True),
        (Perm.PORTAL_USE, Role.PATIENT, _Response(403), False),
    ],
)
def test_the_verdict_refuses_leaks_and_lockouts(access, role, response, ok):
    assert (verdict(Declaration("html", "get", access), role, response) is None) is ok


def test_a_patient_may_be_refused_someone_elses_object_but_staff_may_not():
    declaration = Declaration("html", "get", Perm.PORTAL_USE)
    assert verdict(declaration, Role.PATIENT, _Response(403), about_an_object=True) is None
    assert verdict(declaration, Role.PATIENT, _Response(404), about_an_object=True) is None
    staff = Declaration("html", "get", Perm.CLINICAL_VIEW)
    assert verdict(staff, Role.DOCTOR, _Response(403), about_an_object=True) is not None


FOUNDATION_DECLARATIONS = {
    "core:landing": PUBLIC,
    "healthz": PUBLIC,
    "accounts:login": PUBLIC,
    "accounts:register": PUBLIC,
    "core:dashboard": SIGNED_IN,
    "accounts:password-change": SIGNED_IN,
    "accounts:2fa-setup": SIGNED_IN,
    "accounts:2fa-verify": SIGNED_IN,
    "api-me": SIGNED_IN,
    "api-token": PUBLIC,
    "core:audit-list": Perm.AUDIT_VIEW,
    "accounts:staff-list": Perm.STAFF_MANAGE,
    "accounts:staff-create": Perm.STAFF_MANAGE,
    "accounts:staff-edit": Perm.STAFF_MANAGE,
    "accounts:staff-set-active": Perm.STAFF_MANAGE,
    "accounts:staff-reset-password": Perm.STAFF_MANAGE,
}


def test_the_foundation_urls_declare_the_permission_the_catalogue_means():
    """The matrix trusts declarations; this pins the sensitive ones so a loosened one shows."""
    declared = {
        route.name: declaration_of(route).access
        for route in routes_of()
        if route.name in FOUNDATION_DECLARATIONS
    }
    assert declared == FOUNDATION_DECLARATIONS


# --- Every route's declaration, pinned in a committed file so a changed one shows in review ----

DECLARATIONS_FILE = Path(__file__).with_name("route_declarations.txt")


def _access_text(access) -> str:
    return access.value if isinstance(access, Perm) else str(access)


def declaration_line(route: Route) -> str:
    """`name access`: a page's declared access, or an API route's `method:action=access` each."""
    name = route.name or route.pattern
    if hasattr(route.callback, "hms_access"):
        return f"{name} {_access_text(route.callback.hms_access)}"
    cls = _drf_class(route.callback)
    if cls is None:
        return f"{name} UNDECLARED"
    perms = [
        f"{method}:{action}={_access_text(required_perm_of(cls, action))}"
        for method, action in drf_actions(route.callback).items()
    ]
    return f"{name} api " + " ".join(perms)


def declarations_text() -> str:
    return "\n".join(sorted(declaration_line(route) for route in routes_of())) + "\n"


def test_every_route_declares_what_the_committed_declarations_file_says():
    """A loosened or changed declaration shows as a diff of tests/route_declarations.txt.

    After a deliberate change: UPDATE_DECLARATIONS=1 pytest tests/test_role_matrix.py
    """
    current = declarations_text()
    if os.environ.get("UPDATE_DECLARATIONS") == "1":
        DECLARATIONS_FILE.write_text(current)
    pinned = DECLARATIONS_FILE.read_text() if DECLARATIONS_FILE.exists() else ""
    diff = "\n".join(
        difflib.unified_diff(
            pinned.splitlines(), current.splitlines(), "pinned", "declared", lineterm=""
        )
    )
    assert not diff, (
        f"Route declarations differ from {DECLARATIONS_FILE.name}; if the change is meant, "
        f"regenerate it with UPDATE_DECLARATIONS=1 and commit it:\n{diff}"
    )


def test_the_declaration_line_names_a_pages_access_and_each_api_actions():
    page = require_perm(Perm.STAFF_MANAGE)(_plain_view)
    (route,) = routes_of(_fake_urlconf(path("x/", page, name="x")))
    assert declaration_line(route) == f"x {Perm.STAFF_MANAGE.value}"
    viewset = _PartlyDeclaredViewSet.as_view({"get": "list", "post": "create"})
    (route,) = routes_of(_fake_urlconf(path("y/", viewset, name="y")))
    assert declaration_line(route) == f"y api get:list={Perm.STAFF_AREA.value} post:create=None"


def test_every_url_allowed_to_answer_404_exists_and_says_why():
    names = {route.name for route in routes_of()}
    assert set(MAY_ANSWER_404) <= names
    assert all(reason.strip() for reason in MAY_ANSWER_404.values())


def test_an_allowed_role_answered_404_fails_unless_the_url_is_listed_with_a_reason():
    declaration = Declaration("html", "get", Perm.CLINICAL_VIEW)
    assert verdict(declaration, Role.DOCTOR, _Response(404)) is not None
    assert verdict(declaration, Role.DOCTOR, _Response(404), may_answer_404=True) is None
    assert verdict(declaration, Role.DOCTOR, _Response(403), may_answer_404=True) is not None


# --- Clinical rights: what a nurse does, and what only a doctor does (issue 8, points 5-6) -----

DOCTOR_ONLY = {Perm.PRESCRIBE, Perm.DIAGNOSE, Perm.ENCOUNTER_CLOSE, Perm.LAB_RESULT_RELEASE}


def test_prescribing_diagnosing_closing_and_releasing_results_are_doctor_permissions():
    holders = {perm: {role for role in Role if role_has_perm(role, perm)} for perm in DOCTOR_ONLY}
    assert holders == dict.fromkeys(DOCTOR_ONLY, {Role.DOCTOR})
    assert {role for role in Role if role_has_perm(role, Perm.CLINICAL_WRITE)} == {
        Role.DOCTOR,
        Role.NURSE,
    }


def test_only_administrators_manage_workflows():
    assert {role for role in Role if role_has_perm(role, Perm.WORKFLOW_MANAGE)} == {Role.ADMIN}


CLINICAL_WRITE_DECLARATIONS = {
    # Nurses and doctors: vitals, allergies, notes.
    "clinical:vitals-add": Perm.CLINICAL_WRITE,
    "clinical:allergy-add": Perm.CLINICAL_WRITE,
    "clinical:note-add": Perm.CLINICAL_WRITE,
    "api-vitals-list": {"create": Perm.CLINICAL_WRITE},
    "api-allergies-list": {"create": Perm.CLINICAL_WRITE},
    "api-notes-list": {"create": Perm.CLINICAL_WRITE},
    # Doctors only.
    "clinical:prescription-add": Perm.PRESCRIBE,
    "clinical:prescription-stop": Perm.PRESCRIBE,
    "clinical:diagnosis-add": Perm.DIAGNOSE,
    "clinical:encounter-close": Perm.ENCOUNTER_CLOSE,
    "clinical:lab-result-release": Perm.LAB_RESULT_RELEASE,
    "api-prescriptions-list": {"create": Perm.PRESCRIBE},
    "api-prescriptions-stop": {"stop": Perm.PRESCRIBE},
    "api-diagnoses-list": {"create": Perm.DIAGNOSE},
    "api-encounters-close": {"close": Perm.ENCOUNTER_CLOSE},
    "api-lab-results-release": {"release": Perm.LAB_RESULT_RELEASE},
}


def _declared_writes(route: Route):
    """A page's declaration, or an API route's declarations of its write actions."""
    actions = getattr(route.callback, "actions", None)
    if not actions:
        return route.callback.hms_access
    cls = _drf_class(route.callback)
    return {
        action: required_perm_of(cls, action)
        for method, action in actions.items()
        if method in ("post", "put", "patch", "delete")
    }


def test_the_clinical_write_urls_declare_who_may_write_what():
    declared = {
        route.name: _declared_writes(route)
        for route in routes_of()
        if route.name in CLINICAL_WRITE_DECLARATIONS
    }
    assert declared == CLINICAL_WRITE_DECLARATIONS
