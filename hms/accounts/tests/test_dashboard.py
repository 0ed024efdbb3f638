import pytest
from django.urls import reverse

from hms.core.audit import audit_record
from hms.core.permissions import Role

pytestmark = pytest.mark.django_db


def test_the_admin_dashboard_counts_failed_sign_ins_of_the_last_day(client_for):
    for _ in range(3):
        audit_record(action="auth.login_failed", details={"attempted_email": "x@example.org"})
    response = client_for(Role.ADMIN).get(reverse("core:dashboard"))
    assert b"<strong>3</strong> failed sign-ins" in response.content


def test_only_administrators_see_the_sign_in_widget(client_for):
    response = client_for(Role.DOCTOR).get(reverse("core:dashboard"))
    assert b"failed sign-in" not in response.content
