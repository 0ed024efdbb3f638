"""Forms are accessible (labels, errors tied to fields); the catalogue is mirrored to groups."""

from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from hms.core.permissions import ROLE_PERMISSIONS, Perm, Role


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inputs: list[dict] = []
        self.label_for: set[str] = set()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            self.inputs.append(attrs)


def _parse(response) -> _Page:
    page = _Page()
    page.feed(response.content.decode())
    return page


@pytest.mark.django_db
def test_every_field_of_a_refused_form_has_a_label_and_its_error_is_tied_to_it(client):
    response = client.post(reverse("accounts:register"), {"email": "not-an-email"})
    page = _parse(response)
    assert page.inputs
    for field in page.inputs:
        assert field["id"] in page.label_for, f"{field['id']} has no <label for>"
    email = next(field for field in page.inputs if field["name"] == "email")
    assert email["aria-invalid"] == "true"
    described_by = email["aria-describedby"].split()
    assert "id_email_error" in described_by
    assert set(described_by) <= page.ids


def test_a_field_with_help_text_points_at_it(client_for):
    page = _parse(client_for(Role.NURSE).get(reverse("accounts:password-change")))
    new_password = next(field for field in page.inputs if field["name"] == "password1")
    assert new_password["aria-describedby"] == "id_password1_help"
    assert "id_password1_help" in page.ids


@pytest.mark.django_db
def test_sync_roles_mirrors_the_catalogue_into_groups_and_is_idempotent():
    call_command("sync_roles", stdout=None)
    call_command("sync_roles", stdout=None)
    for role, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=f"role:{role.value}")
        assert set(group.permissions.values_list("codename", flat=True)) == {
            perm.codename for perm in perms
        }
    assert Group.objects.filter(name__startswith="role:").count() == len(Role)


def test_django_has_perm_follows_the_catalogue(make_user):
    admin, doctor = make_user(Role.ADMIN), make_user(Role.DOCTOR)
    assert admin.has_perm(Perm.AUDIT_VIEW.value)
    assert not doctor.has_perm(Perm.AUDIT_VIEW.value)
    assert doctor.has_perm(Perm.CLINICAL_WRITE.value)
    assert not doctor.has_perm("no.such_permission")
    doctor.is_active = False
    assert not doctor.has_perm(Perm.CLINICAL_WRITE.value)
