import pytest
from django.urls import reverse

from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.scheduling.models import WaitlistEntry, WaitlistStatus
from hms.scheduling.tests.factories import PatientFactory, weekly_schedule

pytestmark = pytest.mark.django_db


def test_reception_adds_a_patient_to_a_doctors_waiting_list_by_mrn(client_for, schedule):
    patient = PatientFactory()
    client = client_for(Role.RECEPTIONIST)
    response = client.post(
        reverse("scheduling:waitlist"),
        {
            "mrn": patient.mrn_display,
            "department": schedule.department_id,
            "practitioner": schedule.practitioner_id,
            "note": "Can come at short notice",
        },
    )
    assert response.status_code == 302
    entry = WaitlistEntry.objects.get(patient=patient)
    assert (entry.practitioner, entry.status) == (schedule.practitioner, WaitlistStatus.WAITING)
    assert AuditEvent.objects.filter(action="waitlist.join", patient_ref=str(patient.pk)).exists()


def test_the_waiting_list_shows_who_waits_and_audits_each_patient_shown(client_for, schedule):
    first, second = PatientFactory(), PatientFactory()
    client = client_for(Role.RECEPTIONIST)
    for patient in (first, second):
        client.post(
            reverse("scheduling:waitlist"),
            {"mrn": patient.mrn, "department": schedule.department_id},
        )
    response = client.get(reverse("scheduling:waitlist"))
    assert first.full_name.encode() in response.content
    assert second.full_name.encode() in response.content
    shown = AuditEvent.objects.filter(action="waitlist.view").values_list("patient_ref", flat=True)
    assert set(shown) == {str(first.pk), str(second.pk)}


def test_an_unknown_mrn_or_a_doctor_of_another_department_is_a_form_error(client_for, schedule):
    other = weekly_schedule()
    client = client_for(Role.RECEPTIONIST)
    response = client.post(
        reverse("scheduling:waitlist"), {"mrn": "999999999", "department": schedule.department_id}
    )
    assert b"Choose a patient from the list (or type their MRN)." in response.content
    response = client.post(
        reverse("scheduling:waitlist"),
        {
            "mrn": PatientFactory().mrn,
            "department": schedule.department_id,
            "practitioner": other.practitioner_id,
        },
    )
    assert b"does not work in that department" in response.content
    assert not WaitlistEntry.objects.exists()


@pytest.mark.parametrize("role", [Role.NURSE, Role.BILLING, Role.PATIENT])
def test_roles_that_do_not_book_cannot_open_the_waiting_list(client_for, role):
    assert client_for(role).get(reverse("scheduling:waitlist")).status_code == 403
