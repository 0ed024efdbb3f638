"""Issue 8's journeys, page by page: reception books from the chart with the patient picker,
a doctor goes from the queue into the encounter, a patient confirms a summary before booking."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from hms.clinical.models import Encounter
from hms.core.permissions import Role
from hms.scheduling import services
from hms.scheduling.models import Appointment, AppointmentStatus, BookingKind
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import (
    PatientFactory,
    PortalPatientFactory,
    ServiceFactory,
    weekly_schedule,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def doctor():
    return weekly_schedule().practitioner


def _walk_in(make_user, doctor, patient=None):
    return services.appointment_book(
        actor=make_user(Role.RECEPTIONIST), patient=patient or PatientFactory(),
        practitioner=doctor, start=timezone.now(), kind=BookingKind.WALK_IN,
    )  # fmt: skip


# --- Reception -------------------------------------------------------------------------------


def test_the_chart_offers_reception_to_book_and_the_calendar_carries_the_patient(
    client_for, doctor
):
    patient = PatientFactory()
    client = client_for(Role.RECEPTIONIST)
    chart = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    book_url = f"{reverse('scheduling:calendar')}?patient={patient.pk}"
    assert f'href="{book_url}"' in chart and "Book appointment" in chart

    # Tomorrow's day: today's free slots are gone once the last one (16:45) has started.
    tomorrow = at(1, 9).date().isoformat()
    calendar = client.get(
        reverse("scheduling:calendar"),
        {"patient": patient.pk, "practitioner": doctor.pk, "day": tomorrow},
    ).content.decode()
    assert "Booking for" in calendar and patient.mrn_display in calendar
    slot_link = re.search(r'href="(/scheduling/appointments/book/\?[^"]+)"', calendar).group(1)
    assert f"patient={patient.pk}" in slot_link

    form = client.get(slot_link.replace("&amp;", "&")).content.decode()
    assert f'value="{patient.mrn_display}"' in form


def test_roles_that_cannot_book_see_no_book_button_on_the_chart(client_for):
    patient = PatientFactory()
    chart = client_for(Role.PHARMACIST).get(reverse("patients:chart", args=[patient.pk]))
    assert b"Book appointment" not in chart.content
    assert b"Edit details" not in chart.content


def test_the_staff_booking_form_books_the_patient_chosen_in_the_picker(client_for, doctor):
    patient = PatientFactory()
    url = reverse("scheduling:book") + f"?practitioner={doctor.pk}&start={at(2, 10).isoformat()}"
    page = client_for(Role.RECEPTIONIST).get(url).content.decode()
    assert f'hx-get="{reverse("patients:pick")}"' in page
    response = client_for(Role.RECEPTIONIST).post(url, {"mrn": patient.mrn_display})
    assert response.status_code == 302
    assert Appointment.objects.get(patient=patient).start == at(2, 10)


def test_names_link_to_the_chart_and_mrns_have_their_dash(client_for, make_user, doctor):
    appointment = _walk_in(make_user, doctor)
    patient = appointment.patient
    chart_link = f'href="{reverse("patients:chart", args=[patient.pk])}"'
    client = client_for(Role.RECEPTIONIST)
    for url in (
        reverse("scheduling:queue", args=[appointment.department_id]),
        reverse("scheduling:appointment-detail", args=[appointment.pk]),
    ):
        page = client.get(url).content.decode()
        assert chart_link in page, url
        assert f"MRN {patient.mrn_display}" in page, url
        assert patient.mrn not in page.replace(patient.mrn_display, ""), url


# --- Doctor ----------------------------------------------------------------------------------


def test_the_menu_leads_a_doctor_to_the_queue_of_their_department(client_for, doctor):
    client = client_for(user=doctor)
    dashboard = client.get(reverse("core:dashboard")).content.decode()
    assert f'href="{reverse("scheduling:queue-home")}"' in dashboard
    response = client.get(reverse("scheduling:queue-home"))
    assert response.url == reverse("scheduling:queue", args=[doctor.schedule.department_id])


def test_one_click_from_a_queue_row_opens_the_encounter(client_for, make_user, doctor):
    appointment = _walk_in(make_user, doctor)
    encounter = Encounter.objects.get(appointment_id=str(appointment.pk))
    client = client_for(user=doctor)
    queue = client.get(reverse("scheduling:queue", args=[appointment.department_id]))
    link = reverse("clinical:appointment-encounter", args=[appointment.pk])
    assert f'href="{link}"'.encode() in queue.content
    assert client.get(link).url == reverse("clinical:encounter", args=[encounter.pk])
    detail = client.get(reverse("scheduling:appointment-detail", args=[appointment.pk]))
    assert f'href="{link}"'.encode() in detail.content


def test_reception_sees_no_encounter_link_in_the_queue(client_for, make_user, doctor):
    appointment = _walk_in(make_user, doctor)
    queue = client_for(Role.RECEPTIONIST).get(
        reverse("scheduling:queue", args=[appointment.department_id])
    )
    assert b"Open encounter" not in queue.content


def test_an_appointment_not_checked_in_has_no_encounter_to_open(client_for, make_user, doctor):
    booked = services.appointment_book(
        actor=make_user(Role.RECEPTIONIST), patient=PatientFactory(), practitioner=doctor,
        start=at(2, 10),
    )  # fmt: skip
    client = client_for(user=doctor)
    link = reverse("clinical:appointment-encounter", args=[booked.pk])
    assert client.get(link).status_code == 404
    detail = client.get(reverse("scheduling:appointment-detail", args=[booked.pk]))
    assert f'href="{link}"'.encode() not in detail.content


# --- Portal ----------------------------------------------------------------------------------


def test_a_patient_chooses_the_service_then_confirms_a_summary_before_booking(client_for):
    schedule = weekly_schedule()
    doctor = schedule.practitioner
    service = ServiceFactory(
        department=schedule.department, name="First visit", duration_minutes=30
    )
    me = PortalPatientFactory()
    client = client_for(user=me.user)
    url = reverse("scheduling:portal-book")
    chosen = {"practitioner": doctor.pk, "start": at(2, 10).isoformat()}

    step_one = client.get(url, chosen).content.decode()
    assert "First visit (30 min)" in step_one and "Confirm booking" not in step_one
    missing = client.get(url, {**chosen, "step": "summary"}).content.decode()
    assert "Choose what the visit is for." in missing

    summary = client.get(url, {**chosen, "step": "summary", "service": service.pk}).content
    for shown in (doctor.full_name, "Clinic 1", "30 minutes", "What to bring", "Confirm booking"):
        assert shown.encode() in summary
    assert not Appointment.objects.filter(patient=me).exists()

    client.post(url, {**chosen, "service": service.pk})
    booked = Appointment.objects.get(patient=me)
    assert booked.service == service and booked.status == AppointmentStatus.BOOKED


def test_a_time_on_the_doctor_page_leads_to_the_booking_steps_not_a_booking(client_for, doctor):
    me = PortalPatientFactory()
    page = client_for(user=me.user).get(reverse("scheduling:portal-doctor", args=[doctor.pk]))
    assert b'method="post" action="/scheduling/my/book/"' not in page.content
    assert b'href="/scheduling/my/book/?practitioner=' in page.content


def test_the_landing_page_links_the_doctor_list(client):
    response = client.get(reverse("core:landing"))
    assert f'href="{reverse("scheduling:public-doctors")}"'.encode() in response.content


def test_a_specialty_named_like_its_department_is_not_repeated(client_for):
    schedule = weekly_schedule()
    schedule.practitioner.staff_profile.specialty = schedule.department.name
    schedule.practitioner.staff_profile.save()
    me = PortalPatientFactory()
    page = client_for(user=me.user).get(
        reverse("scheduling:portal-doctor", args=[schedule.practitioner_id])
    )
    name = schedule.department.name
    assert f"{name} · {name}".encode() not in page.content
    assert name.encode() in page.content


# --- Dashboard -------------------------------------------------------------------------------


def test_go_to_cards_say_what_is_there_and_count_it(client_for, make_user, doctor):
    _walk_in(make_user, doctor)
    page = client_for(user=doctor).get(reverse("core:dashboard")).content.decode()
    assert "Patients who have arrived today, in the order they came." in page
    assert re.search(r"data-count>1 arrived<", page)
    assert re.search(r"data-count>1 today<", page)


def test_demo_data_gives_today_a_clinic_once_a_day(db):
    import io

    from django.core.management import call_command

    call_command("seed_demo", patients=12, stdout=io.StringIO())
    today = Appointment.objects.filter(start__date=timezone.localdate())
    walk_ins = today.filter(kind=BookingKind.WALK_IN, status=AppointmentStatus.CHECKED_IN)
    assert walk_ins.count() == 3
    assert Encounter.objects.filter(appointment_id__in=[str(a.pk) for a in walk_ins]).count() == 3
    before = today.count()
    call_command("seed_demo", once=True, stdout=io.StringIO())
    assert today.count() == before
