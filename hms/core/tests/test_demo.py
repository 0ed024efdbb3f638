"""`manage.py seed_demo` is idempotent and every demo account signs in."""

import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from hms.core.demo import DEMO_PASSWORD
from hms.core.permissions import Role

DEMO_EMAILS = {
    Role.ADMIN: "admin@demo.hms",
    Role.DOCTOR: "doctor@demo.hms",
    Role.NURSE: "nurse@demo.hms",
    Role.RECEPTIONIST: "receptionist@demo.hms",
    Role.PHARMACIST: "pharmacist@demo.hms",
    Role.BILLING: "billing@demo.hms",
    Role.LAB: "lab@demo.hms",
    Role.PATIENT: "patient@demo.hms",
}


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for config in apps.get_app_configs()
        if config.name.startswith("hms.")
        for model in config.get_models()
        if model._meta.label not in ("core.AuditEvent", "core.AuditChainHead")
    }


@pytest.fixture
def seeded(db):
    out = io.StringIO()
    call_command("seed_demo", patients=3, stdout=out)
    return out.getvalue()


def test_seeding_twice_changes_nothing_the_second_time(seeded):
    before = _counts()
    call_command("seed_demo", patients=3, stdout=io.StringIO())
    assert _counts() == before


def test_seed_once_leaves_seeded_data_alone(seeded):
    before = _counts()
    out = io.StringIO()
    call_command("seed_demo", patients=10, once=True, stdout=out)
    assert "seeded before" in out.getvalue()
    assert _counts() == before


def test_seeding_prints_every_demo_account(seeded):
    for email in DEMO_EMAILS.values():
        assert email in seeded


@pytest.mark.parametrize("role", list(Role))
def test_every_demo_account_signs_in_and_reaches_its_dashboard(seeded, settings, role):
    settings.DEMO_2FA_EXEMPT = True  # as in DEBUG mode, where the demo runs
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": DEMO_EMAILS[role], "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302, DEMO_EMAILS[role]
    assert client.get(reverse("core:dashboard")).status_code == 200
    assert client.get("/api/v1/me/").json()["role"] == role.value
