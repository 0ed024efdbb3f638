"""Domain errors: services raise them, views and the API turn them into clear messages."""

from django.core.exceptions import PermissionDenied


class DomainError(Exception):
    """A rule of the hospital was not met. `code` is stable and machine-readable."""

    code = "invalid"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class NotAllowed(DomainError, PermissionDenied):
    """The actor's role may not do this. Also a PermissionDenied: a view that does not catch
    domain errors answers 403, like Django's own refusal."""

    code = "permission_denied"
    status = 403


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409
