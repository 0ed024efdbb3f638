"""Every public service checks its actor itself, against the same catalogue as the views, so a
task, the FHIR API or the assistant cannot skip a check.

The services are found by introspection (every top-level function of a services module whose
name does not start with "_"); each must have a row below, so a new service without one fails.
A checked service is called with junk arguments: a role without the permission is refused
(PermissionDenied) before anything is touched, and a role with it gets past the check (and then
trips over the junk), which pins each row to the permission the service really asks for.
"""

import inspect
import re
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.utils import timezone

import hms
from hms.accounts import services as accounts
from hms.assistant import services as assistant
from hms.billing import services as billing
from hms.clinical import services as clinical
from hms.core.access import as_system, require
from hms.core.events import emit, subscribe
from hms.core.permissions import Perm, Role, role_has_perm
from hms.feedback import services as feedback
from hms.fhir import services as fhir
from hms.inventory import services as inventory
from hms.patients import services as patients
from hms.scheduling import services as scheduling
from hms.workflows import services as workflows

MODULES: tuple[ModuleType, ...] = (
    accounts,
    clinical,
    patients,
    scheduling,
    feedback,
    billing,
    inventory,
    workflows,
    fhir,
)
MODULES: tuple[ModuleType, ...] = (accounts, clinical, patients, scheduling, feedback, assistant)

# Services that write on the actor's behalf: the permission each one requires.
CHECKED = {
    accounts.staff_create: Perm.STAFF_MANAGE,
    accounts.staff_update: Perm.STAFF_MANAGE,
    accounts.staff_set_active: Perm.STAFF_MANAGE,
    accounts.staff_reset_password: Perm.STAFF_MANAGE,
    clinical.encounter_open: Perm.CLINICAL_WRITE,
    clinical.encounter_start: Perm.CLINICAL_WRITE,
    clinical.encounter_close: Perm.ENCOUNTER_CLOSE,
    clinical.vitals_record: Perm.CLINICAL_WRITE,
    clinical.diagnosis_add: Perm.DIAGNOSE,
    clinical.allergy_record: Perm.CLINICAL_WRITE,
    clinical.allergy_status_set: Perm.CLINICAL_WRITE,
    clinical.prescription_create: Perm.PRESCRIBE,
    clinical.prescription_stop: Perm.PRESCRIBE,
    clinical.note_create: Perm.CLINICAL_WRITE,
    clinical.note_update: Perm.CLINICAL_WRITE,
    clinical.note_sign: Perm.CLINICAL_WRITE,
    clinical.note_amend: Perm.CLINICAL_WRITE,
    clinical.lab_order_create: Perm.CLINICAL_WRITE,
    clinical.lab_order_collect: Perm.LAB_RESULT_WRITE,
    clinical.lab_result_record: Perm.LAB_RESULT_WRITE,
    clinical.lab_result_correct: Perm.LAB_RESULT_WRITE,
    clinical.lab_result_release: Perm.LAB_RESULT_RELEASE,
    clinical.attachment_add: Perm.CLINICAL_WRITE,
    clinical.clinical_records_import: Perm.CLINICAL_WRITE,
    patients.patient_create: Perm.PATIENT_REGISTER,
    patients.patient_update: Perm.PATIENT_REGISTER,
    patients.patient_identifier_remove: Perm.PATIENT_REGISTER,
    patients.patient_merge: Perm.PATIENT_MERGE,
    patients.patient_unmerge: Perm.PATIENT_MERGE,
    scheduling.service_create: Perm.SCHEDULE_MANAGE,
    scheduling.schedule_ensure: Perm.SCHEDULE_MANAGE,
    scheduling.schedule_rotate_calendar_token: Perm.SCHEDULE_MANAGE,
    scheduling.working_hours_set: Perm.SCHEDULE_MANAGE,
    scheduling.working_hours_add: Perm.SCHEDULE_MANAGE,
    scheduling.working_hours_remove: Perm.SCHEDULE_MANAGE,
    scheduling.schedule_exception_add: Perm.SCHEDULE_MANAGE,
    scheduling.schedule_exception_remove: Perm.SCHEDULE_MANAGE,
    scheduling.appointment_book: Perm.APPOINTMENT_BOOK,
    scheduling.appointment_book_as: Perm.APPOINTMENT_BOOK,
    scheduling.appointment_reschedule: Perm.APPOINTMENT_BOOK,
    scheduling.appointment_cancel: Perm.APPOINTMENT_BOOK,
    scheduling.appointment_check_in: Perm.APPOINTMENT_BOOK,
    scheduling.appointment_mark_no_show: Perm.APPOINTMENT_BOOK,
    scheduling.appointment_start_consultation: Perm.CLINICAL_WRITE,
    scheduling.appointment_complete: Perm.CLINICAL_WRITE,
    scheduling.appointments_move_for_merge: Perm.PATIENT_MERGE,
    scheduling.appointments_move_back_for_unmerge: Perm.PATIENT_MERGE,
    scheduling.waitlist_join: Perm.APPOINTMENT_BOOK,
    scheduling.waitlist_release_offer: Perm.APPOINTMENT_BOOK,
    scheduling.reminder_opt_out_set: Perm.APPOINTMENT_BOOK,
    # feedback
    feedback.feedback_submit: Perm.PORTAL_USE,
    feedback.contact_message_assign: Perm.CONTACT_MANAGE,
    feedback.contact_message_set_status: Perm.CONTACT_MANAGE,
    feedback.contact_note_add: Perm.CONTACT_MANAGE,
    # billing
    billing.price_item_create: Perm.BILLING_WRITE,
    billing.price_item_change_price: Perm.BILLING_WRITE,
    billing.charge_post_for_source: Perm.BILLING_WRITE,
    billing.charge_add: Perm.BILLING_WRITE,
    billing.charge_void: Perm.BILLING_WRITE,
    billing.invoice_issue: Perm.BILLING_WRITE,
    billing.invoice_void: Perm.BILLING_WRITE,
    billing.credit_note_create: Perm.BILLING_WRITE,
    billing.payment_take: Perm.BILLING_WRITE,
    billing.payment_refund: Perm.BILLING_WRITE,
    billing.payer_create: Perm.BILLING_WRITE,
    billing.coverage_add: Perm.BILLING_WRITE,
    billing.claim_submit: Perm.BILLING_WRITE,
    billing.claim_decide: Perm.BILLING_WRITE,
    billing.claim_record_payment: Perm.BILLING_WRITE,
    # inventory
    inventory.alert_resolve: Perm.INVENTORY_WRITE,
    inventory.item_create: Perm.INVENTORY_WRITE,
    inventory.item_update: Perm.INVENTORY_WRITE,
    inventory.location_create: Perm.INVENTORY_WRITE,
    inventory.reorder_level_set: Perm.INVENTORY_WRITE,
    inventory.supplier_create: Perm.INVENTORY_WRITE,
    inventory.stock_receive: Perm.INVENTORY_WRITE,
    inventory.stock_adjust: Perm.INVENTORY_WRITE,
    inventory.stock_transfer: Perm.INVENTORY_WRITE,
    inventory.stock_issue: Perm.INVENTORY_WRITE,
    inventory.stock_return: Perm.INVENTORY_WRITE,
    inventory.stock_dispense: Perm.DISPENSE,
    inventory.purchase_order_create: Perm.INVENTORY_WRITE,
    inventory.purchase_order_approve: Perm.INVENTORY_WRITE,
    inventory.purchase_order_send: Perm.INVENTORY_WRITE,
    inventory.purchase_order_cancel: Perm.INVENTORY_WRITE,
    inventory.purchase_order_receive: Perm.INVENTORY_WRITE,
    inventory.catalogue_import: Perm.INVENTORY_WRITE,
    # workflows
    workflows.rule_create: Perm.WORKFLOW_MANAGE,
    workflows.rule_update: Perm.WORKFLOW_MANAGE,
    workflows.rule_set_enabled: Perm.WORKFLOW_MANAGE,
    workflows.rule_dry_run: Perm.WORKFLOW_MANAGE,
    workflows.rule_run_retry: Perm.WORKFLOW_MANAGE,
    workflows.email_template_save: Perm.WORKFLOW_MANAGE,
    workflows.task_create: Perm.STAFF_AREA,
    workflows.task_complete: Perm.STAFF_AREA,
    # fhir
    fhir.fhir_patient_create: Perm.PATIENT_REGISTER,
    fhir.fhir_patient_update: Perm.PATIENT_REGISTER,
    fhir.fhir_appointment_book: Perm.APPOINTMENT_BOOK,
    fhir.fhir_appointment_update: Perm.APPOINTMENT_BOOK,
    fhir.export_job_start: Perm.FHIR_BULK_EXPORT,
    fhir.export_job_delete: Perm.FHIR_BULK_EXPORT,
    fhir.observations_import: Perm.CLINICAL_WRITE,
    # assistant
    assistant.article_save: Perm.ASSISTANT_MANAGE,
}

# Of those, the ones a patient also runs for their own record: ownership is checked instead of
# the permission (a patient is answered "no such patient" for anyone else's).
FOR_ONESELF = {
    scheduling.appointment_book_as,
    scheduling.appointment_book,
    scheduling.appointment_reschedule,
    scheduling.appointment_cancel,
    scheduling.waitlist_join,
    scheduling.waitlist_release_offer,
    scheduling.reminder_opt_out_set,
    # fhir
    fhir.fhir_appointment_book,
    fhir.fhir_appointment_update,
}

# Self-service: no actor. They act on `user`, who proved to be that person (a password, or the
# token of an emailed link) in the view that calls them.
SELF_SERVICE = {
    accounts.patient_account_register,
    accounts.account_confirmation_resend,
    accounts.account_confirm_email,
    accounts.password_reset_link_send,
    accounts.password_set,
    accounts.api_token_issue,
    accounts.api_token_revoke,  # only the user's own tokens: anyone else's is not found
    accounts.two_factor_enrolment_start,
    accounts.two_factor_enrolment_confirm,
    # feedback
    feedback.contact_message_submit,  # anyone; the page and API check spam trap and rate
    # assistant
    assistant.assistant_message_send,  # anyone; acts only through the services above, as the user
    assistant.assistant_message_rate,  # only the caller's own conversation: anyone else's is 404
}

# Jobs of the hospital itself (tasks, commands): no actor and no input from a user.
SYSTEM_JOBS = {
    scheduling.reminders_send_due,
    scheduling.waitlist_expire_offers,
    scheduling.waitlist_offer_slot,
    # feedback
    feedback.feedback_request,
    # inventory
    inventory.lots_expiring_sweep,
    # workflows
    workflows.builtin_workflows_seed,
    # fhir
    fhir.export_job_run,
    # assistant
    assistant.conversations_purge,
}

# Helpers the services use: they write nothing and take no actor.
HELPERS = {
    accounts.link_token_generator,
    accounts.token_link,
    clinical.allergy_warning_text,
    clinical.prescription_allergy_matches,
    clinical.attachment_check,
    patients.search_keys,
    patients.name_words,
    patients.name_words_of,
    patients.photo_check,
    scheduling.check_in_window,
    patients.birth_date_check,
    # inventory
    inventory.on_hand_of,
    inventory.dispensed_quantity,
    # workflows
    workflows.tasks_visible_to,
    # fhir
    fhir.export_path,
}


def public_functions(module: ModuleType) -> set:
    return {
        function
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__ and not name.startswith("_")
    }


def takes_actor(function) -> bool:
    return "actor" in inspect.signature(function).parameters


def junk_arguments(function) -> dict:
    """A bare object for every required keyword but the actor: any use of one fails."""
    return {
        name: object()
        for name, parameter in inspect.signature(function).parameters.items()
        if name != "actor"
        and parameter.kind == inspect.Parameter.KEYWORD_ONLY
        and parameter.default is inspect.Parameter.empty
    }


def _name(function) -> str:
    return f"{function.__module__.split('.')[1]}.{function.__name__}"


REFUSED = [
    pytest.param(function, role, id=f"{_name(function)}-{role}")
    for function, perm in CHECKED.items()
    for role in Role
    if not role_has_perm(role, perm) and not (role == Role.PATIENT and function in FOR_ONESELF)
]
ALLOWED = [
    pytest.param(function, role, id=f"{_name(function)}-{role}")
    for function, perm in CHECKED.items()
    for role in Role
    if role_has_perm(role, perm)
]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_public_service_has_a_row_in_this_test(module):
    rows = (*CHECKED, *SELF_SERVICE, *SYSTEM_JOBS, *HELPERS)
    listed = {f for f in rows if f.__module__ == module.__name__}
    unlisted = public_functions(module) - listed
    assert not unlisted, f"add a row for {sorted(f.__name__ for f in unlisted)}"


def test_checked_services_take_an_actor_and_the_others_take_none():
    assert all(takes_actor(function) for function in CHECKED)
    assert not [f.__name__ for f in SELF_SERVICE | SYSTEM_JOBS | HELPERS if takes_actor(f)]


@pytest.mark.django_db
@pytest.mark.parametrize(("service", "role"), REFUSED)
def test_a_role_without_the_permission_is_refused_before_anything_happens(service, role, make_user):
    with pytest.raises(PermissionDenied):
        service(actor=make_user(role), **junk_arguments(service))


@pytest.mark.django_db
@pytest.mark.parametrize(("service", "role"), ALLOWED)
def test_a_role_with_the_permission_gets_past_the_check(service, role, make_user):
    try:
        service(actor=make_user(role), **junk_arguments(service))
    except PermissionDenied:
        pytest.fail(f"{role} has {CHECKED[service]} and was refused")
    except Exception:  # the junk arguments fail somewhere after the check
        pass


@pytest.mark.django_db
@pytest.mark.parametrize("service", CHECKED, ids=_name)
def test_no_user_and_a_deactivated_user_are_refused(service, make_user):
    allowed = next(role for role in Role if role_has_perm(role, CHECKED[service]))
    for actor in (None, AnonymousUser(), make_user(allowed, is_active=False)):
        with pytest.raises(PermissionDenied):
            service(actor=actor, **junk_arguments(service))


def test_the_system_acts_without_a_user_only_inside_as_system():
    with as_system():
        require(None, Perm.STAFF_MANAGE)
    with pytest.raises(PermissionDenied):
        require(None, Perm.STAFF_MANAGE)


def test_no_page_or_api_acts_as_the_system():
    entry_points = [
        path
        for pattern in ("*/views.py", "*/api.py", "*/api_*.py")
        for path in Path(hms.__file__).parent.glob(pattern)
    ]
    assert entry_points
    assert not [str(p) for p in entry_points if re.search(r"\bas_system\b", p.read_text())]


def test_event_handlers_run_as_the_system_and_the_emitter_does_not():
    seen = []

    @subscribe("test.system_probe")
    def probe(**_):
        require(None, Perm.STAFF_MANAGE)
        seen.append("handled")

    emit("test.system_probe")
    assert seen == ["handled"]
    with pytest.raises(PermissionDenied):
        require(None, Perm.STAFF_MANAGE)


@pytest.mark.django_db
def test_a_receptionist_checking_a_patient_in_opens_the_encounter_they_may_not_write(make_user):
    from hms.clinical.models import Encounter
    from hms.scheduling import services as scheduling
    from hms.scheduling.models import Appointment
    from hms.scheduling.tests.factories import PatientFactory, weekly_schedule

    receptionist, doctor = make_user(Role.RECEPTIONIST), weekly_schedule().practitioner
    soon = timezone.now() + timedelta(minutes=5)
    appointment = Appointment.objects.create(
        patient=PatientFactory(),
        practitioner=doctor,
        department=doctor.schedule.department,
        start=soon,
        end=soon + timedelta(minutes=15),
    )
    with pytest.raises(PermissionDenied):
        clinical.encounter_open(actor=receptionist, patient=appointment.patient)
    scheduling.appointment_check_in(actor=receptionist, appointment=appointment)
    assert Encounter.objects.filter(appointment_id=str(appointment.pk)).exists()
