"""The demo data gives feedback and the inbox something to show on first run."""

import io

import pytest
from django.core.management import call_command

from hms.feedback.models import ContactMessage, VisitFeedback


@pytest.mark.django_db
def test_the_demo_patient_has_a_visit_waiting_and_the_dashboard_and_inbox_have_data():
    call_command("seed_demo", patients=3, stdout=io.StringIO())
    waiting = VisitFeedback.objects.filter(answered_at__isnull=True)
    assert waiting.filter(appointment__patient__user__email="patient@demo.hms").exists()
    assert VisitFeedback.objects.filter(answered_at__isnull=False).count() >= 2
    assert ContactMessage.objects.count() == 3
    assert ContactMessage.objects.filter(status="answered", notes__kind="reply").exists()
