"""The REST API's shared pieces: the JSON error shape (and its place in the OpenAPI schema)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from hms.core.errors import DomainError


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail) -> dict:
    if isinstance(detail, dict):
        return {
            key: [str(item) for item in value] if isinstance(value, list) else str(value)
            for key, value in detail.items()
        }
    return {}


def exception_handler(exc, context):
    """Every API error as {"error": {"code", "message", "fields"}}."""
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status)
    if isinstance(exc, ValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        non_field = fields.pop("non_field_errors", None)
        if isinstance(exc.detail, list):
            message = "; ".join(str(item) for item in exc.detail)
        elif non_field:
            message = "; ".join(non_field) if isinstance(non_field, list) else non_field
        else:
            message = "Some fields are not valid."
        response.data = error_body("invalid", message, fields)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = error_body(str(code), str(detail))
    return response


def json_error(code: str, message: str, http_status: int = status.HTTP_400_BAD_REQUEST):
    return Response(error_body(code, message), status=http_status)


class ErrorDetailOut(serializers.Serializer):
    """The inside of an error answer, for operations that document one with more in it."""

    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.JSONField(), help_text="Messages per field name (a list or a string)."
    )


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {}},
            },
        }
    },
}


def document_errors(result, generator, request, public):
    """drf-spectacular post-processing hook: every operation may answer an error in the one
    error shape, so the schema says so (`default`) wherever no error answer is declared."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            operation.setdefault("responses", {}).setdefault(
                "default",
                {
                    "description": "An error: `{error: {code, message, fields}}`.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            )
    return result


_TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$"


@extend_schema_field({"type": "string", "pattern": _TIME_PATTERN, "example": "09:00"})
class WallClockTimeField(serializers.TimeField):
    """A time of day without a zone ("09:00" or "09:00:00"). OpenAPI's `format: time` is an
    RFC 3339 time, which needs an offset, so the schema gives the pattern instead."""
