import pytest
from django.urls import reverse
from django.utils import timezone

from hms.clinical.models import LabOrderStatus
from hms.clinical.tests.factories import LabOrderFactory
from hms.core.permissions import Role

pytestmark = pytest.mark.django_db


def test_the_lab_technician_sees_the_backlog_by_stage(client_for):
    LabOrderFactory.create_batch(2, status=LabOrderStatus.ORDERED)
    LabOrderFactory(status=LabOrderStatus.COLLECTED, collected_at=timezone.now())
    LabOrderFactory(
        status=LabOrderStatus.RESULTED, collected_at=timezone.now(), resulted_at=timezone.now()
    )
    response = client_for(Role.LAB).get(reverse("core:dashboard"))
    assert b"<strong>2</strong> to collect, <strong>1</strong> waiting" in response.content


def test_receptionists_see_no_clinical_widget(client_for):
    LabOrderFactory()
    response = client_for(Role.RECEPTIONIST).get(reverse("core:dashboard"))
    assert b"Lab worklist" not in response.content
    assert b"Open encounters" not in response.content
