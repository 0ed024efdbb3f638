"""The UI shell: landing page, security headers, error pages and a menu per role."""

import re

import pytest
from django.test import Client, override_settings
from django.urls import resolve, reverse

from hms.accounts.tests.factories import DepartmentFactory
from hms.core.access import PUBLIC, SIGNED_IN
from hms.core.models import Hospital
from hms.core.navigation import MENU, NAVBAR_FLAT_UP_TO, MenuGroup, menu_for, navbar_for
from hms.core.permissions import Perm, Role, role_has_perm


def test_the_landing_page_names_the_hospital_its_departments_and_contacts(client, db):
    Hospital.objects.create(
        name="Riverside General", phone="+44 20 7000 0000", emergency_phone="999",
        address="1 River Road", email="hello@riverside.example",
    )  # fmt: skip
    DepartmentFactory(name="Cardiology", slug="cardiology")
    DepartmentFactory(name="Closed wing", slug="closed", is_active=False)
    page = client.get(reverse("core:landing")).content.decode()
    for text in ("Riverside General", "Cardiology", "+44 20 7000 0000", "1 River Road", "999"):
        assert text in page
    assert "Closed wing" not in page


def test_pages_carry_the_security_headers(client, db):
    response = client.get(reverse("core:landing"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_no_page_loads_assets_from_a_cdn(client_for):
    page = client_for(Role.ADMIN).get(reverse("core:dashboard")).content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and not [s for s in sources if s.startswith(("http:", "https:", "//"))]


def test_an_unknown_page_shows_the_custom_404(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]


def test_a_refused_page_shows_the_custom_403(client_for):
    response = client_for(Role.PATIENT).get(reverse("core:audit-list"))
    assert response.status_code == 403
    assert "403.html" in [t.name for t in response.templates]


@override_settings(ROOT_URLCONF="hms.core.tests.urls_failing")
def test_a_crash_shows_the_custom_500_page_and_json_under_the_api(db):
    client = Client(raise_request_exception=False)
    page = client.get("/fails/")
    assert page.status_code == 500
    assert "it was logged" in page.content.decode()
    api = client.get("/api/v1/fails/")
    assert api.status_code == 500
    assert api.json()["error"]["code"] == "server_error"


def _view_access(url_name: str):
    return getattr(resolve(reverse(url_name)).func, "hms_access", None)


@pytest.mark.parametrize("item", MENU, ids=lambda item: item.url_name)
def test_each_menu_entry_opens_for_exactly_the_roles_that_see_it(item):
    access = _view_access(item.url_name)
    assert access is not None, f"{item.url_name} declares no access"
    for role in Role:
        sees = role_has_perm(role, item.perm)
        may_open = access in (PUBLIC, SIGNED_IN) or role_has_perm(role, access)
        assert not sees or may_open, f"{role} sees {item.label} but gets 403"
        if access not in (PUBLIC, SIGNED_IN):
            assert sees or not may_open, f"{role} may open {item.label} but has no menu entry"


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_its_own_menu_and_nothing_else(client_for, role):
    page = client_for(role).get(reverse("core:dashboard")).content.decode()
    shown = set(re.findall(r'data-menu="([^"]+)"', page))
    expected = {item.url_name for item in MENU if role_has_perm(role, item.perm)}
    assert shown == expected


MENUS_BY_ROLE = {
    Role.ADMIN: ["patients:list", "patients:merge", "scheduling:calendar", "scheduling:queue-home",
                 "scheduling:schedule-list", "billing:dashboard", "inventory:home",
                 "feedback:dashboard", "feedback:inbox", "assistant:articles",
                 "accounts:staff-list", "workflows:rule-list", "core:audit-list"],
    Role.DOCTOR: ["patients:list", "scheduling:calendar", "scheduling:queue-home",
                  "scheduling:waitlist", "clinical:encounter-list", "clinical:lab-worklist",
                  "clinical:prescription-list"],
    Role.NURSE: ["patients:list", "scheduling:calendar", "scheduling:queue-home",
                 "clinical:encounter-list", "clinical:lab-worklist", "clinical:prescription-list"],
    Role.RECEPTIONIST: ["patients:list", "scheduling:calendar", "scheduling:queue-home",
                        "scheduling:waitlist", "feedback:inbox"],
    Role.PHARMACIST: ["patients:list", "clinical:prescription-list", "inventory:dispense-queue",
                      "inventory:home"],
    Role.BILLING: ["patients:list", "billing:dashboard"],
    Role.LAB: ["patients:list", "clinical:lab-worklist"],
    Role.PATIENT: ["scheduling:portal-appointments", "patients:my-record", "patients:my-details",
                   "billing:portal-invoices"],
}  # fmt: skip


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_the_same_menu_entries_in_the_same_order_as_pinned(make_user, role):
    """Apps register their own entries; the menu they add up to stays as it was."""
    assert [item.url_name for item in menu_for(make_user(role))] == MENUS_BY_ROLE[role]


def _bar(entries) -> list:
    return [
        (e.label, [i.url_name for i in e.items]) if isinstance(e, MenuGroup) else e.url_name
        for e in entries
    ]


def test_an_administrators_long_menu_is_grouped_by_section_and_stays_one_row(client_for):
    admin = client_for(Role.ADMIN)
    assert _bar(navbar_for(admin.user)) == [
        ("Patients", ["patients:list", "patients:merge"]),
        ("Appointments",
         ["scheduling:calendar", "scheduling:queue-home", "scheduling:schedule-list"]),
        ("Billing and stores", ["billing:dashboard", "inventory:home"]),
        ("Feedback", ["feedback:dashboard", "feedback:inbox", "assistant:articles"]),
        ("Administration", ["accounts:staff-list", "workflows:rule-list", "core:audit-list"]),
    ]  # fmt: skip
    page = admin.get(reverse("core:dashboard")).content.decode()
    assert page.count('class="nav-link dropdown-toggle"') == 5 + 1  # the sections, the user menu
    assert '<a class="dropdown-item" href="/patients/merge/" data-menu="patients:merge">' in page


@pytest.mark.parametrize("role", [r for r in Role if len(MENUS_BY_ROLE[r]) <= NAVBAR_FLAT_UP_TO])
def test_a_short_menu_keeps_one_click_per_entry(make_user, role):
    user = make_user(role)
    assert _bar(navbar_for(user)) == [item.url_name for item in menu_for(user)]


def test_a_registered_menu_entry_takes_its_place_by_order_and_only_once(monkeypatch):
    from hms.core import navigation

    monkeypatch.setattr(navigation, "MENU", list(navigation.MENU))
    entry = navigation.MenuItem("Billing", "core:dashboard", Perm.BILLING_VIEW, order=25)
    navigation.register_menu_item(entry)
    names = [item.url_name for item in navigation.MENU]
    assert names.index("core:dashboard") == names.index("patients:merge") + 1
    with pytest.raises(ValueError, match="already has a menu entry"):
        navigation.register_menu_item(entry)
