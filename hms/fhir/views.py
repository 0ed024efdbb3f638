"""The FHIR R4 server under /fhir/R4/: thin views over `resources.py` (read, search), the
services (create, update) and the Bulk Data export.

Every answer is `application/fhir+json`; every error an OperationOutcome with the matching
status. The views are DRF views (bearer token or session, `HasRolePermission` reading the
declared permission, as the REST API), left out of the OpenAPI schema: the
CapabilityStatement (`GET metadata`) documents this API.
"""

import json
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.utils import timezone
from django.utils.http import http_date
from fhir.resources.R4B.operationoutcome import OperationOutcome
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.views import APIView

from hms.accounts.api_auth import HasRolePermission
from hms.core.audit import audit_record
from hms.core.errors import DomainError, NotFound
from hms.core.permissions import Perm
from hms.fhir import capability, scopes, services
from hms.fhir.models import ExportJob
from hms.fhir.params import BadParam
from hms.fhir.rendering import as_rendered
from hms.fhir.resources import TYPES, audit_search, patients_read_many, search_page
from hms.fhir.serialise import resource_json

FHIR_JSON = "application/fhir+json; charset=utf-8"
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    412: "conflict",
    415: "not-supported",
    422: "processing",
    429: "throttled",
}


def fhir_json(data, status: int = 200, headers: dict | None = None) -> HttpResponse:
    if hasattr(data, "model_dump_json"):
        body = resource_json(data)
    else:
        body = json.dumps(data, default=str)
    return HttpResponse(body, status=status, content_type=FHIR_JSON, headers=headers)


def operation_outcome(status: int, message: str, code: str | None = None) -> HttpResponse:
    outcome = OperationOutcome(
        issue=[
            {
                "severity": "error" if status >= 400 else "information",
                "code": code or ISSUE_CODES.get(status, "processing"),
                "diagnostics": message[:1000],
            }
        ]
    )
    response = fhir_json(outcome, status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="fhir"'
    return response


def base_url(request) -> str:
    return request.build_absolute_uri("/fhir/R4").rstrip("/")


class FhirNegotiation(BaseContentNegotiation):
    """Every answer is FHIR JSON, whatever `Accept` says (`application/fhir+json`, `*/*`, a
    browser's list): the views write their own responses."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class FhirView(APIView):
    """Errors of every kind become an OperationOutcome."""

    permission_classes = [HasRolePermission]
    content_negotiation_class = FhirNegotiation
    schema = None  # documented by the CapabilityStatement, not the OpenAPI schema
    resource_type = ""

    def handle_exception(self, exc):
        if isinstance(exc, BadParam):
            return operation_outcome(400, exc.message)
        if isinstance(exc, DomainError):
            status = getattr(exc, "status", 400)
            code = "conflict" if status == 409 else None
            if exc.fields:
                message = (
                    exc.message
                    + " "
                    + "; ".join(
                        f"{k}: {' '.join(v) if isinstance(v, list) else v}"
                        for k, v in exc.fields.items()
                    )
                )
            else:
                message = exc.message
            return operation_outcome(status, message, code)
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
            return operation_outcome(401, str(exc.detail))
        if isinstance(exc, exceptions.APIException):
            return operation_outcome(exc.status_code, str(exc.detail))
        if isinstance(exc, Http404):
            return operation_outcome(404, "Not found.")
        if isinstance(exc, PermissionDenied):
            return operation_outcome(403, "Your role may not do this.")
        if isinstance(exc, ValidationError):
            return operation_outcome(400, "; ".join(exc.messages))
        return super().handle_exception(exc)

    def check_scope(self, request, kind: str, write: bool = False) -> None:
        allowed = scopes.may_write if write else scopes.may_read
        if not allowed(request.user, kind):
            audit_record(
                action=f"fhir.{kind.lower()}.{'write' if write else 'read'}_denied",
                actor=request.user,
                object_type=f"fhir.{kind.lower()}",
                details={"scopes": scopes.scopes_for(request.user)},
            )
            raise exceptions.PermissionDenied(
                f"The token's scopes ({' '.join(scopes.scopes_for(request.user)) or 'none'}) "
                f"do not include {kind}.{'write' if write else 'read'}."
            )


def resource_response(request, resource, status: int = 200, created: bool = False):
    resource = as_rendered(resource)
    etag = resource.etag
    headers = {"ETag": etag}
    if resource.last_modified:
        headers["Last-Modified"] = resource.last_modified
    if created:
        location = f"{base_url(request)}/{resource.resource_type}/{resource.id}"
        headers["Location"] = f"{location}/_history/{resource.version_id}"
    wanted = request.headers.get("If-None-Match", "")
    if request.method == "GET" and wanted:
        candidates = {tag.strip() for tag in wanted.split(",")}
        if etag in candidates or etag.removeprefix("W/") in candidates or "*" in candidates:
            return HttpResponse(status=304, headers=headers)
    return HttpResponse(resource.json, status=status, content_type=FHIR_JSON, headers=headers)


class CapabilityView(FhirView):
    required_perm = "public"
    authentication_classes: list = []

    def get(self, request):
        return fhir_json(capability.capability_statement(base_url(request)))


def bundle_response(request, entries, *, kind: str = "searchset", links=None) -> HttpResponse:
    """A Bundle of (resource, search mode) entries, written around each resource's JSON (cached
    or serialised once) rather than serialising everything again as one fhir.resources model."""
    root = base_url(request)
    head = {"resourceType": "Bundle", "type": kind, "timestamp": _instant(timezone.now())}
    if links:
        head["link"] = links
    parts = []
    for resource, mode in entries:
        resource = as_rendered(resource)
        url = json.dumps(f"{root}/{resource.resource_type}/{resource.id}")
        search = f',"search":{{"mode":"{mode}"}}' if kind == "searchset" else ""
        parts.append(f'{{"fullUrl":{url},"resource":{resource.json}{search}}}')
    body = json.dumps(head, separators=(",", ":"))
    if parts:
        body = f'{body[:-1]},"entry":[{",".join(parts)}]}}'
    return HttpResponse(body, content_type=FHIR_JSON)


def _instant(moment: datetime) -> str:
    """A FHIR instant in UTC, as fhir.resources writes one."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _include_patients(request, resource_type, resources) -> list:
    wanted = request.query_params.getlist("_include")
    if not wanted:
        return []
    for value in wanted:
        source, _, target = value.partition(":")
        if source != resource_type.name or target not in ("patient", "subject", "actor"):
            raise BadParam(f"_include={value} is not supported; use {resource_type.name}:patient.")
    if resource_type.patient_ref is None or not scopes.may_read(request.user, "Patient"):
        return []
    refs = [resource_type.patient_ref(resource) for resource in resources]
    return patients_read_many(request.user, [ref for ref in refs if ref])


def _link(request, offset: int, count: int) -> str:
    params = request.query_params.copy()
    params["_offset"] = str(offset)
    params["_count"] = str(count)
    return f"{base_url(request)}/{request.path.rsplit('/', 1)[-1]}?{params.urlencode()}"


class TypeView(FhirView):
    """GET: search (`<Type>?params`). POST: create (Patient, Appointment)."""

    required_perms = {"get": "signed_in"}

    def get(self, request):
        kind = TYPES[self.resource_type]
        self.check_scope(request, kind.name)
        page, count, offset = search_page(request.user, kind, request.query_params)
        included = _include_patients(request, kind, page.resources)
        audit_search(request.user, kind.name, page, dict(request.query_params.lists()))
        links = [{"relation": "self", "url": request.build_absolute_uri()}]
        if page.has_next and count:  # _count=0 asks for no entries: no next page either
            links.append({"relation": "next", "url": _link(request, offset + count, count)})
        if offset:
            links.append(
                {"relation": "previous", "url": _link(request, max(offset - count, 0), count)}
            )
        entries = [(r, "match") for r in page.resources] + [(r, "include") for r in included]
        return bundle_response(request, entries, links=links)


class WritableTypeView(TypeView):
    def post(self, request):
        self.check_scope(request, self.resource_type, write=True)
        data = _body(request)
        if self.resource_type == "Patient":
            row = services.fhir_patient_create(actor=request.user, data=data)
        else:
            row = services.fhir_appointment_book(actor=request.user, data=data)
        resource = TYPES[self.resource_type].read(request.user, row.pk)
        return resource_response(request, resource, status=201, created=True)


def _body(request) -> dict:
    content_type = request.content_type.split(";")[0].strip()
    if content_type not in ("application/fhir+json", "application/json"):
        raise exceptions.UnsupportedMediaType(content_type)
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, RecursionError):
        raise BadParam("The body is not JSON.") from None
    if not isinstance(data, dict):
        raise BadParam("The body must be one FHIR resource (a JSON object).")
    return data


class InstanceView(FhirView):
    """GET: read (`<Type>/<id>`). PUT: update (Patient, Appointment)."""

    required_perms = {"get": "signed_in"}

    def get(self, request, id):
        self.check_scope(request, self.resource_type)
        if len(str(id)) > 64:
            raise NotFound("Not found.")
        resource = TYPES[self.resource_type].read(request.user, id)
        return resource_response(request, resource)


class WritableInstanceView(InstanceView):
    def put(self, request, id):
        self.check_scope(request, self.resource_type, write=True)
        current = as_rendered(TYPES[self.resource_type].read(request.user, id))
        wanted = request.headers.get("If-Match")
        if wanted and wanted.strip() not in (current.etag, current.etag.removeprefix("W/")):
            return operation_outcome(
                412, f"The resource changed: its version is {current.version_id}."
            )
        data = _body(request)
        if self.resource_type == "Patient":
            row = services.fhir_patient_update(actor=request.user, patient_id=id, data=data)
        else:
            row = services.fhir_appointment_update(actor=request.user, appointment_id=id, data=data)
        return resource_response(request, TYPES[self.resource_type].read(request.user, row.pk))


class PatientEverythingView(FhirView):
    """`Patient/<id>/$everything`: the patient and every resource of theirs the token reads."""

    required_perms = {"get": "signed_in"}

    def get(self, request, id):
        self.check_scope(request, "Patient")
        patient = TYPES["Patient"].read(request.user, id)
        entries = [(patient, "match")]
        for name in (
            "Encounter",
            "Condition",
            "Observation",
            "AllergyIntolerance",
            "MedicationRequest",
            "Appointment",
        ):
            if not scopes.may_read(request.user, name):
                continue
            params = {"patient": [str(patient.id)]}
            page = TYPES[name].search(request.user, params, settings.FHIR_MAX_COUNT * 10, 0)
            entries += [(r, "match") for r in page.resources]
        audit_record(
            action="fhir.patient.everything",
            actor=request.user,
            object_type="patients.patient",
            object_id=str(patient.id),
            patient=str(patient.id),
            details={"count": len(entries)},
        )
        return bundle_response(request, entries)


# --- Bulk Data export ------------------------------------------------------------------------


class ExportKickOffView(FhirView):
    """`$export` (system) and `Patient/$export`: 202 and a status URL; the worker writes the
    files. Only with `Prefer: respond-async`."""

    required_perms = {"get": Perm.FHIR_BULK_EXPORT}
    level = "system"

    def get(self, request):
        if "respond-async" not in request.headers.get("Prefer", ""):
            raise BadParam("Bulk Data export needs the header Prefer: respond-async.")
        accept = request.headers.get("Accept", "application/fhir+json")
        if accept not in ("application/fhir+json", "*/*", "application/json"):
            raise BadParam("Accept must be application/fhir+json.")
        output_format = request.query_params.get("_outputFormat", "application/fhir+ndjson")
        if output_format not in ("application/fhir+ndjson", "application/ndjson", "ndjson"):
            raise BadParam("_outputFormat: only application/fhir+ndjson is offered.")
        unknown = set(request.query_params) - {"_type", "_since", "_outputFormat"}
        if unknown:
            raise BadParam(f"$export: {', '.join(sorted(unknown))} not supported.")
        types = [t for v in request.query_params.getlist("_type") for t in v.split(",") if t]
        since = None
        if request.query_params.get("_since"):
            from hms.fhir.params import date_range

            since = date_range("_since", request.query_params["_since"]).start
        job = services.export_job_start(
            actor=request.user,
            level=self.level,
            types=types,
            since=since,
            request_url=request.build_absolute_uri()[:500],
        )
        response = HttpResponse(status=202)
        response["Content-Location"] = f"{base_url(request)}/$export-status/{job.pk}"
        return response


class PatientExportKickOffView(ExportKickOffView):
    level = "patient"


def _own_job(request, job_id) -> ExportJob:
    try:
        job = ExportJob.objects.get(pk=job_id, requested_by=request.user)
    except (ExportJob.DoesNotExist, ValidationError, ValueError):
        raise NotFound("No such export.") from None
    return job


class ExportStatusView(FhirView):
    required_perms = {"get": Perm.FHIR_BULK_EXPORT, "delete": Perm.FHIR_BULK_EXPORT}

    def get(self, request, job_id):
        job = _own_job(request, job_id)
        if job.status in ("accepted", "running"):
            response = HttpResponse(status=202)
            response["X-Progress"] = job.status
            response["Retry-After"] = "2"
            return response
        if job.status == "failed":
            return operation_outcome(500, f"The export failed: {job.error}", "exception")
        root = base_url(request)
        manifest = {
            "transactionTime": job.created_at.isoformat(),
            "request": job.request_url,
            "requiresAccessToken": True,
            "output": [
                {
                    "type": item["type"],
                    "url": f"{root}/$export-file/{job.pk}/{item['type']}.ndjson",
                    "count": item["count"],
                }
                for item in job.output
            ],
            "error": [],
        }
        response = HttpResponse(json.dumps(manifest), content_type="application/json")
        response["Expires"] = http_date(timezone.now().timestamp() + 86400)
        return response

    def delete(self, request, job_id):
        job = _own_job(request, job_id)
        services.export_job_delete(actor=request.user, job=job)
        return HttpResponse(status=202)


class ExportFileView(FhirView):
    required_perms = {"get": Perm.FHIR_BULK_EXPORT}

    def get(self, request, job_id, resource_type):
        job = _own_job(request, job_id)
        if job.status != "completed" or resource_type not in {i["type"] for i in job.output}:
            raise NotFound("No such file.")
        path = services.export_path(job) / f"{resource_type}.ndjson"
        if not path.is_file():
            raise NotFound("The file has been removed.")
        audit_record(
            action="fhir.export.download",
            actor=request.user,
            object_type="fhir.exportjob",
            object_id=str(job.pk),
            details={"type": resource_type},
        )
        return FileResponse(path.open("rb"), content_type="application/fhir+ndjson")
