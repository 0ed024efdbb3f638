"""Lab results: impossible values are refused, ranges flag abnormal and critical ones, a critical
value reaches the ordering doctor at once (a notification and their worklist), and a correction
amends a result with a reason while keeping one current value."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hms.clinical import services
from hms.clinical.models import LabOrderStatus, LabResult
from hms.clinical.tests.factories import LabOrderFactory
from hms.core.errors import Conflict, DomainError
from hms.core.models import Notification
from hms.core.permissions import Role

pytestmark = pytest.mark.django_db

HAEMOGLOBIN = "718-7"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def lab(make_user):
    return make_user(Role.LAB)


@pytest.fixture
def order(make_user):
    """A haemoglobin test ordered by a doctor, its specimen collected."""
    return LabOrderFactory(
        test_code=HAEMOGLOBIN, test_name="Haemoglobin", ordered_by=make_user(Role.DOCTOR),
        status=LabOrderStatus.COLLECTED, collected_at=timezone.now(),
    )  # fmt: skip


# --- Plausible limits and flags -------------------------------------------------------------


def test_a_negative_haemoglobin_is_refused_as_impossible(lab, order):
    with pytest.raises(DomainError) as error:
        services.lab_result_record(actor=lab, order=order, value="-5")
    assert error.value.code == "implausible_value" and "value" in error.value.fields
    assert not LabResult.objects.filter(order=order).exists()


def test_an_impossible_value_is_a_400_in_the_api_and_a_form_error_on_the_page(lab, order):
    client = _client(lab)
    response = client.post(
        "/api/v1/lab-results/", {"order": str(order.pk), "value": "-5"},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "implausible_value"
    page = client.post(reverse("clinical:lab-result-add", args=[order.pk]), {"value": "900"})
    assert page.status_code == 400
    assert "not a possible haemoglobin value" in page.content.decode()


def test_a_catalogue_test_is_entered_in_its_own_unit(lab, order):
    with pytest.raises(DomainError) as error:
        services.lab_result_record(actor=lab, order=order, value="12", unit="g/dL")
    assert "g/L" in error.value.message


@pytest.mark.parametrize(
    ("value", "flag"), [("140", "normal"), ("110", "low"), ("185", "high"), ("60", "critical")]
)
def test_the_reference_and_critical_ranges_flag_the_value(lab, order, value, flag):
    assert services.lab_result_record(actor=lab, order=order, value=value).flag == flag


# --- A critical value reaches the ordering doctor -------------------------------------------


def test_a_critical_result_notifies_the_ordering_doctor_at_once(lab, order):
    services.lab_result_record(actor=lab, order=order, value="60")
    notice = Notification.objects.get(user=order.ordered_by)
    assert "Critical result" in notice.title and "60 g/L" in notice.title
    assert order.patient.mrn in notice.body
    assert notice.url == reverse("clinical:lab-order", args=[order.pk])
    page = _client(order.ordered_by).get(reverse("core:dashboard")).content.decode()
    assert "Messages for you" in page and "Critical result" in page


def test_a_normal_result_notifies_nobody(lab, order):
    services.lab_result_record(actor=lab, order=order, value="140")
    assert not Notification.objects.exists()


def test_the_critical_result_leads_the_ordering_doctors_worklist(make_user, lab, order):
    other = LabOrderFactory(
        test_code=HAEMOGLOBIN, ordered_by=order.ordered_by, status=LabOrderStatus.COLLECTED,
        collected_at=timezone.now(),
    )  # fmt: skip
    services.lab_result_record(actor=lab, order=other, value="140")
    services.lab_result_record(actor=lab, order=order, value="60")
    page = _client(order.ordered_by).get(reverse("core:dashboard")).content.decode()
    worklist = page[page.index("Results to review") :]
    assert worklist.index(order.patient.full_name) < worklist.index(other.patient.full_name)
    assert "critical" in worklist
    someone_else = _client(make_user(Role.DOCTOR)).get(reverse("core:dashboard")).content
    assert order.patient.full_name.encode() not in someone_else


# --- Corrections: one current value, the old one kept ---------------------------------------


def test_a_second_value_is_refused_and_a_correction_is_asked_for(lab, order):
    services.lab_result_record(actor=lab, order=order, value="140")
    with pytest.raises(Conflict) as error:
        services.lab_result_record(actor=lab, order=order, value="145")
    assert error.value.code == "already_resulted"
    assert LabResult.objects.filter(order=order).count() == 1


def test_a_correction_keeps_the_old_value_as_corrected_and_one_current_value(lab, order):
    first = services.lab_result_record(actor=lab, order=order, value="14")
    corrected = services.lab_result_correct(
        actor=lab, result=first, value="140", reason="Entered in g/dL by mistake"
    )
    first.refresh_from_db()
    assert not first.is_current and first.value == 14  # kept, never deleted or edited
    assert corrected.is_current and corrected.corrects == first and corrected.flag == "normal"
    assert list(LabResult.objects.filter(order=order, is_current=True)) == [corrected]
    with pytest.raises(Conflict):  # only the current value is corrected
        services.lab_result_correct(actor=lab, result=first, value="150", reason="again")


def test_a_correction_needs_a_reason_and_a_plausible_value(lab, order):
    first = services.lab_result_record(actor=lab, order=order, value="140")
    with pytest.raises(DomainError):
        services.lab_result_correct(actor=lab, result=first, value="150", reason=" ")
    with pytest.raises(DomainError) as error:
        services.lab_result_correct(actor=lab, result=first, value="-5", reason="Typo")
    assert error.value.code == "implausible_value"
    first.refresh_from_db()
    assert first.is_current


def test_a_correction_to_a_critical_value_notifies_the_doctor(lab, order):
    first = services.lab_result_record(actor=lab, order=order, value="140")
    services.lab_result_correct(actor=lab, result=first, value="60", reason="Wrong sample")
    assert Notification.objects.filter(user=order.ordered_by, title__contains="60 g/L").exists()


def test_only_the_current_value_is_released_and_the_patient_sees_only_it(make_user, lab, order):
    first = services.lab_result_record(actor=lab, order=order, value="14")
    doctor = order.ordered_by
    services.lab_result_release(actor=doctor, result=first)
    corrected = services.lab_result_correct(actor=lab, result=first, value="140", reason="Unit")
    with pytest.raises(Conflict):
        services.lab_result_release(actor=doctor, result=LabResult.objects.get(pk=first.pk))
    services.lab_result_release(actor=doctor, result=corrected)
    order.patient.user = make_user(Role.PATIENT)
    order.patient.save(update_fields=["user"])
    seen = _client(order.patient.user).get("/api/v1/lab-results/").json()["results"]
    assert [row["id"] for row in seen] == [str(corrected.pk)]


def test_the_api_corrects_with_a_reason_and_shows_both_values(lab, order):
    first = services.lab_result_record(actor=lab, order=order, value="14")
    client = _client(lab)
    response = client.post(
        f"/api/v1/lab-results/{first.pk}/correct/", {"value": "140", "reason": "Unit"},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201
    body = response.json()
    assert body["corrects"] == str(first.pk) and body["is_current"] and body["correction_reason"]
    again = client.post(
        f"/api/v1/lab-results/{first.pk}/correct/", {"value": "150", "reason": "x"},
        content_type="application/json",
    )  # fmt: skip
    assert again.status_code == 409
    listed = _client(order.ordered_by).get(f"/api/v1/lab-results/?patient={order.patient_id}")
    assert {row["is_current"] for row in listed.json()["results"]} == {True, False}


def test_the_lab_page_corrects_shows_the_old_value_and_says_who_releases(lab, order):
    first = services.lab_result_record(actor=lab, order=order, value="14")
    client = _client(lab)
    response = client.post(
        reverse("clinical:lab-result-correct", args=[first.pk]),
        {"value": "140", "reason": "Entered in g/dL"},
    )
    assert response.status_code == 302
    page = client.get(reverse("clinical:lab-order", args=[order.pk])).content.decode()
    assert "<s>14 g/L</s>" in page and "corrected" in page and "Entered in g/dL" in page
    assert "a doctor reviews them and releases them" in page
    refused = client.post(reverse("clinical:lab-result-correct", args=[first.pk]), {"value": "1"})
    assert refused.status_code == 400
