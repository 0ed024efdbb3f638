from django.utils.functional import LazyObject, empty

from hms.core.audit import current_request
from hms.core.errors_views import bad_request


class AuditContextMiddleware:
    """Makes the current request (user, IP, user agent) available to audit_record()."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)


class RejectNulMiddleware:
    """Answers 400 to a NUL character in the path or query string.

    No one types one; PostgreSQL refuses it in any text parameter, so a view that passed it
    on to a query (a search box) would fail with a 500 instead.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            return bad_request(request)
        return self.get_response(request)


class ResolvedUserMiddleware:
    """Puts the signed-in user itself on the request, in place of the lazy objects that resolve
    it (Django's, wrapped again by django-otp's).

    A page reads the user dozens of times (permissions, the menu, the templates) and each read
    through the two lazy layers costs a raised and caught AttributeError. Every request resolves
    the user anyway (the idle-timeout check asks who it is), so nothing more is loaded. Goes
    right after django-otp's middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        while isinstance(user, LazyObject):
            if user._wrapped is empty:
                user._setup()
            user = user._wrapped
        request.user = user
        return self.get_response(request)
