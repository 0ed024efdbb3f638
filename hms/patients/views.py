"""Patient registry pages: thin views over hms.patients.services and selectors."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from hms.core.access import require_perm, signed_in
from hms.core.errors import DomainError, NotFound
from hms.core.forms import form_add_domain_error
from hms.core.permissions import Perm
from hms.patients import duplicates, search, selectors, services
from hms.patients.forms import MergeForm, PatientForm
from hms.patients.models import Patient, PatientMerge
from hms.patients.mrn import mrn_is_valid
from hms.patients.normalize import digits


def _patient_or_404(user, patient_id, action: str) -> Patient:
    try:
        return selectors.patient_get_for_user(user=user, patient_id=patient_id, action=action)
    except NotFound:
        raise Http404("No such patient.") from None


def _posted(request):
    """(data, files) for a form: bound on POST even when nothing was filled in."""
    return (request.POST, request.FILES) if request.method == "POST" else (None, None)


@require_perm(Perm.PATIENT_VIEW_DEMOGRAPHICS)
def patient_list(request):
    query = request.GET.get("q", "")
    try:
        page_number = int(request.GET.get("page", 1))
    except ValueError:
        page_number = 1
    page = search.patient_search(user=request.user, query=query, page=page_number)
    context = {"page": page, "q": query}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "patient-results":
        return render(request, "patients/_results.html", context)
    return render(request, "patients/patient_list.html", context)


PICKER_SIZE = 8


@require_perm(Perm.PATIENT_VIEW_DEMOGRAPHICS)
def patient_pick(request):
    """The patient picker's list (htmx): patients matching what was typed in a booking form's
    patient box (named `mrn`). Uses the registry's search, so each patient listed is audited."""
    query = request.GET.get("mrn", "").strip()[:120]
    patients = []
    if len(query) >= 2:
        page = search.patient_search(user=request.user, query=query, page_size=PICKER_SIZE)
        patients = page.patients
    return render(request, "patients/_picker.html", {"patients": patients, "query": query})


@require_perm(Perm.PATIENT_REGISTER)
def patient_register(request):
    form = PatientForm(*_posted(request))
    matches = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not request.POST.get("confirm_not_duplicate"):
            matches = duplicates.patient_find_possible_duplicates(
                given_name=data["given_name"],
                family_name=data["family_name"],
                birth_date=data["birth_date"],
                phone=data["phone"],
                user=request.user,
            )
        if not matches:
            try:
                patient = services.patient_create(
                    actor=request.user,
                    identifiers=form.identifiers(),
                    photo=data.get("photo"),
                    **form.service_fields(),
                )
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(
                    request, f"{patient.full_name} is registered: MRN {patient.mrn_display}."
                )
                return redirect("patients:chart", patient_id=patient.pk)
    return render(
        request,
        "patients/patient_form.html",
        {"form": form, "matches": matches, "creating": True},
        status=200,
    )


@require_perm(Perm.PATIENT_REGISTER)
def patient_edit(request, patient_id):
    patient = _patient_or_404(request.user, patient_id, "patient.view_for_edit")
    if patient.merged_into_id:
        messages.warning(request, "This record was merged; edit the record it was merged into.")
        return redirect("patients:chart", patient_id=patient.merged_into_id)
    form = PatientForm(*_posted(request), instance=patient)
    if request.method == "POST" and form.is_valid():
        # The ModelForm validated the input only: the service does the write (on a fresh row).
        fresh = Patient.objects.get(pk=patient.pk)
        try:
            services.patient_update(
                actor=request.user,
                patient=fresh,
                identifiers=form.identifiers(),
                photo=form.cleaned_data.get("photo") or None,
                remove_photo=form.cleaned_data.get("photo") is False,
                **form.service_fields(),
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "The patient's details are saved.")
            return redirect("patients:chart", patient_id=patient.pk)
    return render(
        request,
        "patients/patient_form.html",
        {
            "form": form,
            "patient": patient,
            "creating": False,
            "identifiers": list(patient.identifiers.all()),
        },
    )


@require_perm(Perm.PATIENT_REGISTER)
@require_POST
def identifier_remove(request, patient_id, identifier_id):
    patient = _patient_or_404(request.user, patient_id, "patient.view_for_edit")
    identifier = patient.identifiers.filter(pk=identifier_id).first()
    if identifier is None:
        raise Http404("No such identifier.")
    services.patient_identifier_remove(actor=request.user, identifier=identifier)
    messages.success(request, f"{identifier} is removed.")
    return redirect("patients:edit", patient_id=patient.pk)


def _render_chart(request, patient_id, *, portal: bool):
    try:
        chart = selectors.patient_chart(user=request.user, patient_id=patient_id)
    except NotFound:
        raise Http404("No such patient.") from None
    patient = chart.patient

    def rendered(loaded):
        context = {"section": loaded.section, "patient": patient, "portal": portal}
        context.update(loaded.context)
        return loaded.section, render_to_string(loaded.section.template, context, request)

    return render(
        request,
        "patients/chart.html",
        {
            "chart": chart,
            "patient": patient,
            "portal": portal,
            "identifiers": list(patient.identifiers.all()),
            "banner_sections": [rendered(s) for s in chart.banner],
            "sections": [rendered(s) for s in chart.sections],
        },
    )


@require_perm(Perm.PATIENT_VIEW_DEMOGRAPHICS)
def patient_chart(request, patient_id):
    return _render_chart(request, patient_id, portal=False)


def _own_patient_id(request):
    own = selectors.patient_of_user(request.user)
    if own is None:
        raise Http404("No patient record is linked to this account.")
    return own.pk


@require_perm(Perm.PORTAL_USE)
def my_record(request):
    """The portal's "My record": the signed-in patient's own chart, never anyone else's."""
    return _render_chart(request, _own_patient_id(request), portal=True)


@require_perm(Perm.PORTAL_USE)
def my_details(request):
    patient = _patient_or_404(request.user, _own_patient_id(request), "patient.view")
    return render(
        request,
        "patients/my_details.html",
        {"patient": patient, "identifiers": list(patient.identifiers.all())},
    )


@signed_in
def patient_photo(request, patient_id):
    """The photo, only to someone who may see the patient (staff, or the patient themself)."""
    patient = _patient_or_404(request.user, patient_id, "patient.photo_view")
    if not patient.photo:
        raise Http404("No photo.")
    try:
        handle = patient.photo.open("rb")
    except FileNotFoundError:
        raise Http404("No photo.") from None
    content_type = "image/png" if patient.photo.name.endswith(".png") else "image/jpeg"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _patient_by_mrn(text: str) -> Patient | None:
    number = digits(text)
    if not mrn_is_valid(number):
        return None
    return Patient.objects.filter(mrn=number).first()


@require_perm(Perm.PATIENT_MERGE)
def patient_merge(request):
    """Choose the record to keep and the duplicate, review both, then merge."""
    form = MergeForm(request.POST or request.GET or None)
    pair = None
    if form.is_bound and form.is_valid():
        survivor = _patient_by_mrn(form.cleaned_data["survivor"])
        duplicate = _patient_by_mrn(form.cleaned_data["duplicate"])
        if survivor is None:
            form.add_error("survivor", "No patient has this MRN.")
        if duplicate is None:
            form.add_error("duplicate", "No patient has this MRN.")
        if survivor and duplicate:
            # Both records are shown side by side for review: an audited read of each.
            for patient in (survivor, duplicate):
                selectors.patient_get_for_user(
                    user=request.user, patient_id=patient.pk, action="patient.merge_review"
                )
            pair = (survivor, duplicate)
            if request.method == "POST" and request.POST.get("confirm"):
                try:
                    merge = services.patient_merge(
                        actor=request.user,
                        survivor=survivor,
                        duplicate=duplicate,
                        reason=form.cleaned_data["reason"],
                    )
                except DomainError as exc:
                    form.add_error(None, exc.message)
                else:
                    messages.success(
                        request,
                        f"{duplicate.mrn_display} is merged into {survivor.mrn_display}.",
                    )
                    return redirect("patients:chart", patient_id=merge.survivor_id)
    merges = selectors.patient_merges_recent(user=request.user)
    return render(request, "patients/merge.html", {"form": form, "pair": pair, "merges": merges})


@require_perm(Perm.PATIENT_MERGE)
@require_POST
def patient_unmerge(request, merge_id):
    merge = PatientMerge.objects.filter(pk=merge_id).first()
    if merge is None:
        raise Http404("No such merge.")
    try:
        services.patient_unmerge(actor=request.user, merge=merge)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The merge is undone: both records are separate again.")
    return redirect(reverse("patients:merge"))
