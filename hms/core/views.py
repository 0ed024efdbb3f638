from django.core.paginator import Paginator
from django.db import connection
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils import timezone

from hms.core.access import public, require_perm, signed_in
from hms.core.api import error_body
from hms.core.audit import audit_record
from hms.core.dashboard import render_widgets
from hms.core.forms import AuditFilterForm
from hms.core.models import Department
from hms.core.navigation import cards_for
from hms.core.notifications import recent_notices
from hms.core.permissions import Perm, Role
from hms.core.selectors import audit_events_search, audit_rows, hospital_get
from hms.core.spreadsheets import csv_writer


@public
def landing(request):
    return render(
        request,
        "core/landing.html",
        {
            "hospital": hospital_get(),
            "departments": Department.objects.filter(is_active=True),
        },
    )


@signed_in
def dashboard(request):
    user = request.user
    template = (
        "core/dashboard_patient.html" if user.role == Role.PATIENT else "core/dashboard_staff.html"
    )
    return render(
        request,
        template,
        {
            "modules": cards_for(user),
            "widgets": render_widgets(request),
            "notices": recent_notices(user, limit=5, unread_only=True),
        },
    )


@public
def healthz(request):
    checks = {"status": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception:  # any failure of the database is reported, never raised
        checks["database"] = "unavailable"
        checks["status"] = "unavailable"
    checks["time"] = timezone.now().isoformat()
    return JsonResponse(checks, status=200 if checks["status"] == "ok" else 503)


AUDIT_COLUMNS = [
    "seq", "occurred_at", "actor_email", "role", "action", "object_type", "object_id",
    "patient_ref", "ip_address", "user_agent", "details", "hash",
]  # fmt: skip


@require_perm(Perm.AUDIT_VIEW)
def audit_list(request):
    form = AuditFilterForm(request.GET or None)
    events = audit_events_search(**form.cleaned_data) if form.is_valid() else audit_events_search()
    if request.GET.get("format") == "csv" and (form.is_valid() or not request.GET):
        return _audit_csv(request, events)
    page = Paginator(events.select_related(None), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "rows": audit_rows(page), "query": query.urlencode()}
    return render(request, "core/audit_list.html", context)


class _Echo:
    def write(self, value):
        return value


def _audit_csv(request, events):
    audit_record(action="audit.export", details={"filters": request.GET.dict()})
    writer = csv_writer(_Echo())

    def rows():
        yield writer.writerow(AUDIT_COLUMNS)
        for event in events.iterator(chunk_size=2000):
            yield writer.writerow([getattr(event, col) for col in AUDIT_COLUMNS])

    response = StreamingHttpResponse(rows(), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    return response


@public
def api_not_found(request):
    message = "There is no API endpoint here."
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            message += f" API paths end with a slash: {request.path}/"
    return JsonResponse(error_body("not_found", message), status=404)
