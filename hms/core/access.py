"""One way to declare access: views declare who may open them (the role matrix test reads the
declaration), and services check their actor with `require` against the same catalogue."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse

from hms.core.audit import audit_record
from hms.core.errors import NotAllowed
from hms.core.permissions import Perm, user_has_perm

PUBLIC = "public"
SIGNED_IN = "signed_in"


def _declare(view, access):
    view.hms_access = access
    return view


def audit_refused_patient(patient_id, perm: Perm) -> None:
    """A page or API call about a patient refused to a role leaves an audit row naming the
    patient asked for: who tries to open records they may not is worth knowing."""
    ref = str(patient_id)[:64]
    audit_record(
        action="patient.access_denied",
        object_type="patients.patient",
        object_id=ref,
        patient=ref,
        details={"perm": str(perm)},
    )


def to_sign_in(request):
    """Anonymous (or signed out by the idle timeout): the sign-in page. A fragment that htmx asks
    for in the background (the bell) sends the whole page there instead of being replaced by
    the sign-in form."""
    response = redirect_to_login(request.get_full_path())
    if request.headers.get("HX-Request"):
        answer = HttpResponse(status=204)
        answer["HX-Redirect"] = response["Location"]
        return answer
    return response


def require_perm(perm: Perm):
    """Signed-in users whose role has `perm`; others are sent to sign in (anonymous) or get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return to_sign_in(request)
            if not user_has_perm(request.user, perm):
                if "patient_id" in kwargs:
                    audit_refused_patient(kwargs["patient_id"], perm)
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return _declare(wrapped, perm)

    return decorator


def signed_in(view):
    """Any signed-in user, whatever the role."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return to_sign_in(request)
        return view(request, *args, **kwargs)

    return _declare(wrapped, SIGNED_IN)


def public(view):
    """Open to everyone, signed in or not."""
    return _declare(view, PUBLIC)


# --- Services ------------------------------------------------------------------------------------

_as_system: ContextVar[bool] = ContextVar("hms_as_system", default=False)


@contextmanager
def as_system() -> Iterator[None]:
    """The hospital's own processes: event handlers (run by `emit`, carrying out what an already
    checked service started), tasks, seeders and imports. Inside, `require` lets every actor
    through, `None` (no user) included. Outside, `None` is refused like any role without the
    permission, so a view or API passing no user gets a 403, never the system's rights."""
    token = _as_system.set(True)
    try:
        yield
    finally:
        _as_system.reset(token)


def require(actor: AbstractBaseUser | None, perm: Perm, message: str = "") -> None:
    """Refuse (NotAllowed, a 403 and a PermissionDenied) unless `actor` is active and their role
    has `perm`, or the caller runs `as_system()`. Every public service starts with it."""
    if not _as_system.get() and not user_has_perm(actor, perm):
        raise NotAllowed(message or "Your role may not do this.")
