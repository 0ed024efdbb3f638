"""Pages of Contact Us (public), visit feedback (portal) and patient relations (staff)."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from hms.core.access import public, require_perm
from hms.core.errors import Conflict, DomainError, NotFound
from hms.core.forms import form_add_domain_error
from hms.core.permissions import Perm
from hms.core.spreadsheets import csv_download
from hms.feedback import selectors, services
from hms.feedback.forms import (
    AssignForm,
    ContactForm,
    FeedbackForm,
    InboxFilterForm,
    NoteForm,
    PeriodForm,
    StatusForm,
)
from hms.feedback.limits import TOO_MANY, contact_allowed


@public
def contact(request):
    initial = {}
    if request.user.is_authenticated:
        initial = {"name": request.user.full_name, "email": request.user.email}
    form = ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["website"]:  # the spam trap was filled in: thank the robot, keep nothing
            return redirect("feedback:contact-thanks")
        if not contact_allowed(request, data["email"]):
            form.add_error(None, TOO_MANY)
        else:
            try:
                services.contact_message_submit(
                    name=data["name"],
                    email=data["email"],
                    phone=data["phone"],
                    topic=data["topic"],
                    message=data["message"],
                    sender=request.user,
                )
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                return redirect("feedback:contact-thanks")
    return render(request, "feedback/contact.html", {"form": form})


@public
def contact_thanks(request):
    return render(request, "feedback/contact_thanks.html")


# --- Portal ---------------------------------------------------------------------------------


@require_perm(Perm.PORTAL_USE)
def portal_feedback(request):
    return render(
        request,
        "feedback/portal_list.html",
        {"open": selectors.feedback_open_for(request.user)},
    )


@require_perm(Perm.PORTAL_USE)
def portal_answer(request, appointment_id):
    waiting = {str(f.appointment_id): f for f in selectors.feedback_open_for(request.user)}
    feedback = waiting.get(str(appointment_id))
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.feedback_submit(
                actor=request.user, appointment_id=appointment_id, **form.cleaned_data
            )
        except NotFound:
            raise Http404("No such visit.") from None
        except Conflict as exc:
            messages.info(request, exc.message)
            return redirect("feedback:portal")
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Thank you: your answer reached the hospital.")
            return redirect("feedback:portal")
    if feedback is None:
        messages.info(request, "This visit has no question waiting for you.")
        return redirect("feedback:portal")
    return render(request, "feedback/portal_answer.html", {"form": form, "feedback": feedback})


# --- Staff: the feedback dashboard ----------------------------------------------------------


def _period(request) -> tuple[PeriodForm, dict]:
    form = PeriodForm(request.GET or None)
    if form.is_valid():
        data = form.cleaned_data
        department = data["department"]
        return form, {
            "start": data["start"],
            "end": data["end"],
            "department_id": department.pk if department else None,
        }
    return form, {}


@require_perm(Perm.FEEDBACK_VIEW)
def dashboard(request):
    form, period = _period(request)
    if request.GET.get("format") == "csv":
        return _feedback_csv(request, period)
    summary = selectors.feedback_summary(user=request.user, **period)
    return render(
        request,
        "feedback/dashboard.html",
        {
            "form": form,
            "summary": summary,
            "recent": selectors.feedback_recent(user=request.user, **period),
            "chart": _month_bars(summary.by_month),
        },
    )


def _month_bars(months: list[dict], height: int = 120) -> list[dict]:
    """The chart's bars: NPS per month (-100..100) drawn up or down from the middle line."""
    width = 100 / max(len(months), 1)
    half = height / 2
    bars = []
    for n, month in enumerate(months):
        nps = month["nps"] or 0
        size = abs(nps) / 100 * half
        bars.append(
            {
                "x": round(n * width + width * 0.15, 2),
                "width": round(width * 0.7, 2),
                "y": round(half - size if nps >= 0 else half, 2),
                "height": round(max(size, 1), 2),
                "positive": nps >= 0,
                "month": month["month"],
                "nps": month["nps"],
                "answers": month["answers"],
            }
        )
    return bars


def _feedback_csv(request, period: dict) -> HttpResponse:
    rows = selectors.feedback_export(user=request.user, **period)
    response, writer = csv_download("visit-feedback.csv")
    writer.writerow(["visit", "department", "doctor", "answered", "rating", "nps", "comment"])
    for row in rows:
        writer.writerow(row)
    return response


# --- Staff: the Contact Us inbox ------------------------------------------------------------


@require_perm(Perm.CONTACT_MANAGE)
def inbox(request):
    form = InboxFilterForm(request.GET or None)
    status, mine = "", False
    if form.is_valid():
        status = form.cleaned_data["status"]
        mine = form.cleaned_data["mine"]
    rows = selectors.contact_inbox(user=request.user, status=status, mine=mine)
    return render(request, "feedback/inbox.html", {"form": form, "rows": rows[:200]})


def _message_or_404(request, contact_id):
    contact = selectors.contact_message_get(user=request.user, contact_id=contact_id)
    if contact is None:
        raise Http404("No such message.")
    return contact


@require_perm(Perm.CONTACT_MANAGE)
def inbox_message(request, contact_id):
    contact = _message_or_404(request, contact_id)
    staff = selectors.contact_inbox_staff()
    return render(
        request,
        "feedback/inbox_message.html",
        {
            "contact": contact,
            "notes": contact.notes.select_related("author"),
            "status_form": StatusForm(initial={"status": contact.status}),
            "assign_form": AssignForm(staff=staff, initial={"assignee": contact.assignee_id}),
            "note_form": NoteForm(),
        },
    )


def _inbox_change(request, contact_id, change) -> HttpResponse:
    try:
        change()
    except NotFound:
        raise Http404("No such message.") from None
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("feedback:inbox-message", contact_id=contact_id)


@require_perm(Perm.CONTACT_MANAGE)
@require_POST
def inbox_status(request, contact_id):
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a status.")
        return redirect("feedback:inbox-message", contact_id=contact_id)
    return _inbox_change(
        request,
        contact_id,
        lambda: services.contact_message_set_status(
            actor=request.user, contact_id=contact_id, status=form.cleaned_data["status"]
        ),
    )


@require_perm(Perm.CONTACT_MANAGE)
@require_POST
def inbox_assign(request, contact_id):
    form = AssignForm(request.POST, staff=selectors.contact_inbox_staff())
    if not form.is_valid():
        messages.error(request, "Choose a colleague who handles the inbox.")
        return redirect("feedback:inbox-message", contact_id=contact_id)
    return _inbox_change(
        request,
        contact_id,
        lambda: services.contact_message_assign(
            actor=request.user, contact_id=contact_id, assignee=form.cleaned_data["assignee"]
        ),
    )


@require_perm(Perm.CONTACT_MANAGE)
@require_POST
def inbox_note(request, contact_id):
    form = NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write something first (at most 5,000 characters).")
        return redirect("feedback:inbox-message", contact_id=contact_id)
    reply = form.cleaned_data["reply"]

    def add():
        services.contact_note_add(
            actor=request.user, contact_id=contact_id, body=form.cleaned_data["body"], reply=reply
        )
        messages.success(request, "Reply sent by email." if reply else "Note added.")

    return _inbox_change(request, contact_id, add)
