"""Staff pages of the clinical record: thin, every one declares who may open it."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from hms.clinical import forms, selectors, services
from hms.clinical.icd10 import icd10_search, icd10_warm
from hms.clinical.medicines import medicine_search
from hms.clinical.models import (
    Allergy,
    Attachment,
    ClinicalNote,
    Encounter,
    LabOrder,
    LabOrderStatus,
    LabResult,
    Prescription,
)
from hms.core.access import require_perm
from hms.core.audit import audit_record, audit_record_patients
from hms.core.errors import DomainError, NotFound
from hms.core.forms import form_add_domain_error
from hms.core.permissions import Perm, user_has_perm
from hms.patients.selectors import patient_get_for_user


def _get_for_user(request, model, pk, **kwargs):
    try:
        return selectors.record_get_for_user(user=request.user, model=model, pk=pk, **kwargs)
    except NotFound:
        raise Http404 from None


def _audit_listed(request, action: str, patient_ids) -> None:
    """A list showing several patients' clinical data leaves one audit row per patient."""
    audit_record_patients(action=action, actor=request.user, patients=patient_ids)


# --- Encounters -------------------------------------------------------------------------------


@require_perm(Perm.CLINICAL_VIEW)
def encounter_list(request):
    """Encounters not yet closed: the ward's and clinic's current work."""
    mine = request.GET.get("mine") == "1"
    encounters = selectors.open_encounters(practitioner=request.user if mine else None)
    page = Paginator(encounters, 25).get_page(request.GET.get("page"))
    _audit_listed(request, "encounter.list_view", [e.patient_id for e in page])
    return render(request, "clinical/encounter_list.html", {"page": page, "mine": mine})


@require_perm(Perm.CLINICAL_WRITE)
def encounter_open(request, patient_id):
    try:
        patient = patient_get_for_user(
            user=request.user, patient_id=patient_id, action="encounter.open_form"
        )
    except NotFound:
        raise Http404 from None
    form = forms.EncounterOpenForm(request.POST or None, initial={"practitioner": request.user.pk})
    if request.method == "POST" and form.is_valid():
        try:
            encounter = services.encounter_open(
                actor=request.user, patient=patient, **form.cleaned_data
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Encounter opened.")
            return redirect("clinical:encounter", encounter.pk)
    return render(request, "clinical/encounter_open.html", {"form": form, "patient": patient})


def _audit_redisplay(request, obj, patient_id) -> None:
    """A form sent back with its errors shows the record again: that read is audited too (the
    detail views audit theirs in the selector)."""
    audit_record(
        action=f"{obj._meta.model_name}.view", actor=request.user, obj=obj, patient=patient_id
    )


def _encounter_page(request, encounter, status=200, **bound):
    patient = encounter.patient
    if status != 200:
        _audit_redisplay(request, encounter, encounter.patient_id)
    search_url = reverse("clinical:icd10-search")
    context = {
        "encounter": encounter,
        "patient": patient,
        "can_write": user_has_perm(request.user, Perm.CLINICAL_WRITE),
        "can_prescribe": user_has_perm(request.user, Perm.PRESCRIBE),
        "can_diagnose": user_has_perm(request.user, Perm.DIAGNOSE),
        "can_close": user_has_perm(request.user, Perm.ENCOUNTER_CLOSE),
        "vitals_form": forms.VitalsForm(),
        "diagnosis_form": forms.DiagnosisForm(search_url=search_url),
        "allergy_form": forms.AllergyForm(),
        "prescription_form": forms.PrescriptionForm(),
        "note_form": forms.NoteForm(),
        "lab_form": forms.LabOrderForm(),
        "attachment_form": forms.AttachmentForm(),
        "allergy_warning": "",
        "tab": "vitals",
        **selectors.encounter_page_data(encounter, user=request.user),
        **bound,
    }
    return render(request, "clinical/encounter.html", context, status=status)


@require_perm(Perm.CLINICAL_VIEW)
def appointment_encounter(request, appointment_id):
    """The encounter that an appointment's check-in opened: one click from the queue."""
    encounter = Encounter.objects.filter(appointment_id=str(appointment_id)).only("pk").first()
    if encounter is None:
        raise Http404("No encounter is open for this appointment: check the patient in first.")
    return redirect("clinical:encounter", encounter.pk)


@require_perm(Perm.CLINICAL_VIEW)
def encounter_detail(request, pk):
    encounter = _get_for_user(
        request,
        Encounter,
        pk,
        queryset=Encounter.objects.select_related("patient", "practitioner", "department"),
    )
    if encounter.accepts_entries:
        icd10_warm()  # the diagnosis search on this page needs the code index
    return _encounter_page(request, encounter, tab=request.GET.get("tab", "vitals"))


def _encounter_for_write(pk) -> Encounter:
    return get_object_or_404(Encounter.objects.select_related("patient", "practitioner"), pk=pk)


@require_perm(Perm.CLINICAL_WRITE)
@require_POST
def encounter_start(request, pk):
    encounter = _encounter_for_write(pk)
    try:
        services.encounter_start(actor=request.user, encounter=encounter)
        messages.success(request, "Encounter in progress.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("clinical:encounter", pk)


@require_perm(Perm.ENCOUNTER_CLOSE)
@require_POST
def encounter_close(request, pk):
    encounter = _encounter_for_write(pk)
    try:
        services.encounter_close(actor=request.user, encounter=encounter)
        messages.success(request, "Encounter closed.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("clinical:encounter", pk)


def _encounter_write(request, pk, *, form_class, form_key, tab, write, done, form_kwargs=None):
    """POST a form of the encounter page: on success back to the page, else the page again
    with the form's errors (status 400)."""
    encounter = _encounter_for_write(pk)
    form = form_class(request.POST, request.FILES, **(form_kwargs or {}))
    if form.is_valid():
        try:
            write(encounter, form.cleaned_data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, done)
            return redirect(f"{reverse('clinical:encounter', args=[pk])}?tab={tab}")
    return _encounter_page(request, encounter, status=400, **{form_key: form, "tab": tab})


@require_perm(Perm.CLINICAL_WRITE)
@require_POST
def vitals_add(request, pk):
    def write(encounter, data):
        services.vitals_record(
            actor=request.user, patient=encounter.patient, encounter=encounter, **data
        )

    return _encounter_write(
        request, pk, form_class=forms.VitalsForm, form_key="vitals_form", tab="vitals",
        write=write, done="Vital signs recorded.",
    )  # fmt: skip


@require_perm(Perm.DIAGNOSE)
@require_POST
def diagnosis_add(request, pk):
    def write(encounter, data):
        services.diagnosis_add(
            actor=request.user, patient=encounter.patient, encounter=encounter, **data
        )

    return _encounter_write(
        request, pk, form_class=forms.DiagnosisForm, form_key="diagnosis_form", tab="diagnoses",
        write=write, done="Diagnosis recorded.",
        form_kwargs={"search_url": reverse("clinical:icd10-search")},
    )  # fmt: skip


@require_perm(Perm.CLINICAL_WRITE)
@require_POST
def allergy_add(request, pk):
    def write(encounter, data):
        services.allergy_record(actor=request.user, patient=encounter.patient, **data)

    return _encounter_write(
        request, pk, form_class=forms.AllergyForm, form_key="allergy_form", tab="prescriptions",
        write=write, done="Allergy recorded.",
    )  # fmt: skip


@require_perm(Perm.PRESCRIBE)
@require_POST
def prescription_add(request, pk):
    encounter = _encounter_for_write(pk)
    form = forms.PrescriptionForm(request.POST)
    if form.is_valid():
        try:
            services.prescription_create(
                actor=request.user, patient=encounter.patient, encounter=encounter,
                **form.cleaned_data,
            )  # fmt: skip
        except services.AllergyWarning as exc:
            # Show the warning and ask for the acknowledgement, keeping what was typed.
            form = forms.PrescriptionForm(request.POST, allergy_warning=exc.message)
            form.is_valid()
            form.add_error("acknowledge_allergy_warning", exc.fields["acknowledge_allergy_warning"])
            return _encounter_page(
                request, encounter, status=409, prescription_form=form,
                allergy_warning=exc.message, tab="prescriptions",
            )  # fmt: skip
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Prescription written.")
            return redirect(f"{reverse('clinical:encounter', args=[pk])}?tab=prescriptions")
    return _encounter_page(
        request, encounter, status=400, prescription_form=form, tab="prescriptions"
    )


@require_perm(Perm.CLINICAL_WRITE)
@require_POST
def note_add(request, pk):
    def write(encounter, data):
        services.note_create(
            actor=request.user, patient=encounter.patient, encounter=encounter, **data
        )

    return _encounter_write(
        request, pk, form_class=forms.NoteForm, form_key="note_form", tab="notes",
        write=write, done="Note saved.",
    )  # fmt: skip


@require_perm(Perm.CLINICAL_WRITE)
@require_POST
def lab_order_add(request, pk):
    def write(encounter, data):
        services.lab_order_create(
            actor=request.user, patient=encounter.patient, encounter=encounter, **data
        )

    return _encounter_write(
        request, pk, form_class=forms.LabOrderForm, form_key="lab_form", tab="labs",
        write=write, done="Test ordered.",
    )  # fmt: skip


@require_perm(Perm.CLINICAL_WRITE)
@require_POST
def attachment_add(request, pk):
    def write(encounter, data):
        services.attachment_add(
            actor=request.user, patient=encounter.patient, encounter=encounter,
            upload=data["file"], description=data["description"],
        )  # fmt: skip

    return _encounter_write(
        request, pk, form_class=forms.AttachmentForm, form_key="attachment_form",
        tab="attachments", write=write, done="Document attached.",
    )  # fmt: skip


def _back_to(request, fallback):
    """Back to the page the button was on (a local path only), else `fallback`."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


@require_perm(Perm.PRESCRIBE)
@require_POST
def prescription_stop(request, pk):
    prescription = get_object_or_404(Prescription, pk=pk)
    try:
        services.prescription_stop(
            actor=request.user, prescription=prescription, reason=request.POST.get("reason", "")
        )
        messages.success(request, f"{prescription.drug} stopped.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return _back_to(request, reverse("patients:chart", args=[prescription.patient_id]))


@require_perm(Perm.CLINICAL_WRITE)
@require_POST
def allergy_status(request, pk):
    allergy = get_object_or_404(Allergy, pk=pk)
    try:
        services.allergy_status_set(
            actor=request.user, allergy=allergy, status=request.POST.get("status", "")
        )
        messages.success(request, f"Allergy to {allergy.substance} updated.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return _back_to(request, reverse("patients:chart", args=[allergy.patient_id]))


# --- Notes ---------------------------------------------------------------------------------------


@require_perm(Perm.CLINICAL_WRITE)
def note_edit(request, pk):
    note = _get_for_user(request, ClinicalNote, pk, action="note.edit_form")
    if note.is_signed:
        messages.error(request, "The note is signed; add an amendment instead.")
        return _back_to_note(note)
    initial = {f: getattr(note, f) for f in services.NOTE_FIELDS}
    form = forms.NoteEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.note_update(actor=request.user, note=note, **form.cleaned_data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Draft saved.")
            return _back_to_note(note)
    return render(request, "clinical/note_edit.html", {"form": form, "note": note})


def _back_to_note(note):
    if note.encounter_id:
        return redirect(f"{reverse('clinical:encounter', args=[note.encounter_id])}?tab=notes")
    return redirect("patients:chart", note.patient_id)


@require_perm(Perm.CLINICAL_WRITE)
@require_POST
def note_sign(request, pk):
    note = get_object_or_404(ClinicalNote, pk=pk)
    try:
        services.note_sign(actor=request.user, note=note)
        messages.success(request, "Note signed.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return _back_to_note(note)


@require_perm(Perm.CLINICAL_WRITE)
@require_POST
def note_amend(request, pk):
    note = get_object_or_404(ClinicalNote, pk=pk)
    form = forms.AmendmentForm(request.POST)
    if form.is_valid():
        try:
            services.note_amend(actor=request.user, note=note, **form.cleaned_data)
            messages.success(request, "Amendment added.")
        except DomainError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "Write the amendment.")
    return _back_to_note(note)


# --- ICD-10 search (htmx) -------------------------------------------------------------------


@require_perm(Perm.PRESCRIBE)
def medicine_search_view(request):
    """Suggestions from the pharmacy's catalogue for the prescribing field (htmx)."""
    query = (request.GET.get("drug") or request.GET.get("q") or "")[:80]
    return render(
        request,
        "clinical/_medicine_options.html",
        {"medicines": medicine_search(query), "query": query},
    )


@require_perm(Perm.CLINICAL_VIEW)
def icd10_search_view(request):
    query = (request.GET.get("q") or request.GET.get("code") or "")[:80]
    codes = icd10_search(query, limit=20) if len(query.strip()) >= 2 else []
    return render(request, "clinical/_icd10_options.html", {"codes": codes, "query": query})


# --- Documents ----------------------------------------------------------------------------------


@require_perm(Perm.CLINICAL_VIEW)
def attachment_download(request, pk):
    """Serve a document only after the access check; audited with the patient."""
    attachment = _get_for_user(request, Attachment, pk, action="attachment.download")
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- Laboratory ---------------------------------------------------------------------------------


@require_perm(Perm.LAB_VIEW)
def lab_worklist(request):
    status = request.GET.get("status")
    if status not in (None, "", *LabOrderStatus.values):
        status = None
    page = Paginator(selectors.lab_worklist(status=status or None), 25).get_page(
        request.GET.get("page")
    )
    _audit_listed(request, "lab_order.worklist_view", [o.patient_id for o in page])
    return render(
        request,
        "clinical/lab_worklist.html",
        {"page": page, "status": status or "", "query": f"status={status}" if status else ""},
    )


def _lab_order_page(request, order, status=200, form=None, correction=None):
    order = LabOrder.objects.select_related("patient", "ordered_by", "encounter").get(pk=order.pk)
    if status != 200:
        _audit_redisplay(request, order, order.patient_id)
    return render(
        request,
        "clinical/lab_order.html",
        {
            "order": order,
            "results": list(order.results.order_by("resulted_at")),
            "form": form or forms.LabResultForm(),
            "correction": correction,
            "can_result": user_has_perm(request.user, Perm.LAB_RESULT_WRITE),
            "can_release": user_has_perm(request.user, Perm.LAB_RESULT_RELEASE),
        },
        status=status,
    )


@require_perm(Perm.LAB_VIEW)
def lab_order_detail(request, pk):
    order = _get_for_user(request, LabOrder, pk)
    return _lab_order_page(request, order)


@require_perm(Perm.LAB_RESULT_WRITE)
@require_POST
def lab_order_collect(request, pk):
    order = get_object_or_404(LabOrder, pk=pk)
    try:
        services.lab_order_collect(actor=request.user, order=order)
        messages.success(request, "Specimen collected.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("clinical:lab-order", pk)


@require_perm(Perm.LAB_RESULT_WRITE)
@require_POST
def lab_result_add(request, pk):
    order = get_object_or_404(LabOrder, pk=pk)
    form = forms.LabResultForm(request.POST)
    if form.is_valid():
        try:
            services.lab_result_record(actor=request.user, order=order, **form.cleaned_data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Result entered.")
            return redirect("clinical:lab-order", pk)
    return _lab_order_page(request, order, status=400, form=form)


@require_perm(Perm.LAB_RESULT_RELEASE)
@require_POST
def lab_result_release(request, pk):
    result = get_object_or_404(LabResult, pk=pk)
    try:
        services.lab_result_release(actor=request.user, result=result)
        messages.success(request, "Result released to the patient.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("clinical:lab-order", result.order_id)


@require_perm(Perm.LAB_RESULT_WRITE)
@require_POST
def lab_result_correct(request, pk):
    result = get_object_or_404(LabResult.objects.select_related("order"), pk=pk)
    form = forms.LabResultCorrectionForm(request.POST)
    if form.is_valid():
        try:
            services.lab_result_correct(actor=request.user, result=result, **form.cleaned_data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Result corrected; the old value stays visible.")
            return redirect("clinical:lab-order", result.order_id)
    return _lab_order_page(
        request, result.order, status=400, correction={"result": result.pk, "form": form}
    )


# --- Pharmacy ---------------------------------------------------------------------------------


@require_perm(Perm.PRESCRIPTION_VIEW)
def prescription_list(request):
    status = request.GET.get("status") or "active"
    page = Paginator(selectors.pharmacy_prescriptions(status=status), 25).get_page(
        request.GET.get("page")
    )
    _audit_listed(request, "prescription.list_view", [p.patient_id for p in page])
    return render(request, "clinical/prescription_list.html", {"page": page, "status": status})
