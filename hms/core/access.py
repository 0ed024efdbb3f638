"""One way for views to declare who may open them; the role matrix test reads the declaration."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from hms.core.permissions import Perm, user_has_perm

PUBLIC = "public"
SIGNED_IN = "signed_in"


def _declare(view, access):
    view.hms_access = access
    return view


def require_perm(perm: Perm):
    """Signed-in users whose role has `perm`; others are sent to sign in (anonymous) or get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_has_perm(request.user, perm):
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
