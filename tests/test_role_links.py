"""Every role walks its own pages, from the dashboard, following each link and checking each
button: nothing shown to a role answers it 403. A link is followed (GET); a form that posts is
not sent, but the permission its view declares must be one the role holds."""

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from hms.accounts.tests.factories import UserFactory
from hms.clinical.tests.factories import LabOrderFactory, PrescriptionFactory
from hms.core.access import PUBLIC
from hms.core.permissions import Perm, Role, role_has_perm
from hms.scheduling import services as scheduling
from hms.scheduling.models import BookingKind
from hms.scheduling.tests.factories import PatientFactory, PortalPatientFactory, weekly_schedule

pytestmark = pytest.mark.django_db

MAX_PAGES = 120  # per role: enough to reach every kind of page from the dashboard
PER_ROUTE = 2  # visits of one URL name with different arguments (two charts, two encounters)
NOT_FOLLOWED = ("/accounts/logout/",)


class _Links(HTMLParser):
    """Links (a[href], hx-get) and posting forms (form[method=post] with their action)."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.posts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if attrs.get("hx-get"):
            self.links.append(attrs["hx-get"])
        if tag == "form":
            if (attrs.get("method") or "get").lower() == "post":
                self.posts.append(attrs.get("action") or "")
            elif attrs.get("action"):
                self.links.append(attrs["action"])


def _internal(base: str, href: str) -> str | None:
    if href.startswith(("#", "mailto:", "tel:", "javascript:")):
        return None
    url = urljoin(base, href)
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != "testserver":
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _route(url: str):
    try:
        return resolve(urlsplit(url).path)
    except Resolver404:
        return None


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    if user.role == Role.ADMIN:
        device, _ = TOTPDevice.objects.get_or_create(user=user, name="walk", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def walk(user) -> tuple[list[str], list[str], int]:
    """Follow every link reachable from the dashboard. Returns (refused links, buttons the role
    may not use, pages seen)."""
    client = _client(user)
    queue, seen, per_route = deque(["/dashboard/"]), {"/dashboard/"}, {}
    refused, forbidden_buttons, pages = [], [], 0
    while queue and pages < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url, headers={"X-Background-Refresh": "1"})
        pages += 1
        if response.status_code == 403:
            refused.append(url)
            continue
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = _Links()
        parser.feed(response.content.decode())
        for action in parser.posts:
            target = _internal(url, action) or url
            match = _route(target)
            access = getattr(match.func, "hms_access", None) if match else None
            if isinstance(access, Perm) and not role_has_perm(user.role, access):
                forbidden_buttons.append(f"{url} -> POST {target} needs {access}")
        for href in parser.links:
            target = _internal(url, href)
            if target is None or target in seen or target.startswith(NOT_FOLLOWED):
                continue
            match = _route(target)
            if match is None or getattr(match.func, "hms_access", None) == PUBLIC:
                continue
            seen.add(target)
            if per_route.get(match.view_name, 0) >= PER_ROUTE:
                continue
            per_route[match.view_name] = per_route.get(match.view_name, 0) + 1
            queue.append(target)
    return refused, forbidden_buttons, pages


@pytest.fixture
def hospital_day(make_user):
    """A day's work: a clinic with a booked and a walked-in patient, a lab order and a
    prescription, and a portal patient with an upcoming appointment."""
    doctor = weekly_schedule().practitioner
    clerk = make_user(Role.RECEPTIONIST)
    walk_in = scheduling.appointment_book(
        actor=clerk, patient=PatientFactory(), practitioner=doctor, start=timezone.now(),
        kind=BookingKind.WALK_IN,
    )  # fmt: skip
    LabOrderFactory(patient=walk_in.patient)
    PrescriptionFactory(patient=walk_in.patient)
    portal = PortalPatientFactory()
    return {"doctor": doctor, "portal": portal}


@pytest.mark.parametrize("role", [r for r in Role if r != Role.PATIENT])
def test_no_link_or_button_shown_to_a_staff_role_answers_403(hospital_day, role):
    refused, forbidden_buttons, pages = walk(UserFactory(role=role))
    assert pages > 3, "the walk must reach past the dashboard"
    assert refused == []
    assert forbidden_buttons == []


def test_no_link_or_button_shown_to_a_patient_answers_403(hospital_day):
    refused, forbidden_buttons, pages = walk(hospital_day["portal"].user)
    assert pages > 3
    assert refused == []
    assert forbidden_buttons == []


def test_the_walk_finds_a_link_the_role_may_not_open(hospital_day, monkeypatch):
    """The walk can fail: a menu entry shown to the pharmacist that only registrars may open."""
    from hms.core import navigation

    monkeypatch.setattr(
        navigation,
        "MENU",
        [*navigation.MENU, navigation.MenuItem("Register", "patients:register", Perm.STAFF_AREA)],
    )
    refused, _, _ = walk(UserFactory(role=Role.PHARMACIST))
    assert "/patients/new/" in refused


def test_the_walk_finds_a_button_the_role_may_not_use(hospital_day, monkeypatch):
    """The walk can fail: a posting form on a page, whose view needs a permission not held."""
    from django.utils.safestring import mark_safe

    from hms.core import views

    button = mark_safe('<form method="post" action="/patients/merge/"><button>Go</button></form>')
    monkeypatch.setattr(views, "render_widgets", lambda request: [button])
    _, forbidden_buttons, _ = walk(UserFactory(role=Role.LAB))
    assert forbidden_buttons and "patients.merge" in forbidden_buttons[0]
