"""One way for views to declare who may open them; the role matrix test reads the declaration."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from hms.core.audit import audit_record
from hms.core.permissions import Perm, user_has_perm

PUBLIC = "public"
SIGNED_IN = "signed_in"


def _declare(view, access):
    view.hms_access = access
    return view


def _audit_refused_patient(patient_id, perm: Perm) -> None:
    """A page about a patient refused to a role leaves an audit row naming the patient asked for:
    who tries to open records they may not is worth knowing."""
    ref = str(patient_id)[:64]
    audit_record(
        action="patient.access_denied",
        object_type="patients.patient",
        object_id=ref,
        patient=ref,
        details={"perm": str(perm)},
    )


def require_perm(perm: Perm):
    """Signed-in users whose role has `perm`; others are sent to sign in (anonymous) or get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_has_perm(request.user, perm):
                if "patient_id" in kwargs:
                    _audit_refused_patient(kwargs["patient_id"], perm)
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return _declare(wrapped, perm)

    return decorator


def signed_in(view):
    """Any signed-in user, whatever the role."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return _declare(wrapped, SIGNED_IN)


def public(view):
    """Open to everyone, signed in or not."""
    return _declare(view, PUBLIC)
