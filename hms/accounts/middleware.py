import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from hms.core.api import error_body
from hms.core.permissions import Role

LAST_ACTIVITY = "last_activity"
# The stored activity time is refreshed at most this often, so that a busy session is not
# written back on every request: an idle session ends up to this much before the full limit.
ACTIVITY_WRITE_SECONDS = 60
# Requests an open page makes by itself (an htmx queue refreshing) do not count as activity.
BACKGROUND_HEADER = "X-Background-Refresh"


class IdleTimeoutMiddleware:
    """Signs staff out after STAFF_IDLE_TIMEOUT_MINUTES without a request of their own (to the
    minute: the time of the last request is stored at most once a minute)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.is_hospital_staff:
            now = time.time()
            last = request.session.get(LAST_ACTIVITY)
            limit = settings.STAFF_IDLE_TIMEOUT_MINUTES * 60
            if last is not None and now - last > limit:
                logout(request)
                messages.info(
                    request,
                    f"You were signed out after {settings.STAFF_IDLE_TIMEOUT_MINUTES} minutes "
                    "without activity. Please sign in again.",
                )
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        error_body("session_expired", "Signed out after inactivity."), status=401
                    )
                return redirect_to_login(request.get_full_path())
            if not request.headers.get(BACKGROUND_HEADER) and (
                last is None or not 0 <= now - last < ACTIVITY_WRITE_SECONDS
            ):
                request.session[LAST_ACTIVITY] = now
        return self.get_response(request)


def two_factor_exempt(user) -> bool:
    return settings.DEMO_2FA_EXEMPT and user.email.endswith("@demo.hms")


def has_totp_device(user) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


# When this session last found that its user has no TOTP device (a time.time() value).
NO_DEVICE_CHECKED = "no_totp_device_checked"
# A device added from another session is noticed within this time.
NO_DEVICE_RECHECK_SECONDS = 60


def _has_totp_device_cached(request) -> bool:
    """has_totp_device(), asked at most once a minute per session while the answer is no:
    staff without a device would otherwise cost a query on every request."""
    now = time.time()
    checked = request.session.get(NO_DEVICE_CHECKED)
    if checked is not None and 0 <= now - checked < NO_DEVICE_RECHECK_SECONDS:
        return False
    if has_totp_device(request.user):
        request.session.pop(NO_DEVICE_CHECKED, None)
        return True
    request.session[NO_DEVICE_CHECKED] = now
    return False


class TwoFactorMiddleware:
    """Staff with a TOTP device must enter a code after the password; admins must have one."""

    ALLOWED_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/static/", "/healthz")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and user.is_hospital_staff
            and not user.is_verified()
            and not request.path.startswith(self.ALLOWED_PREFIXES)
        ):
            target = None
            if _has_totp_device_cached(request):
                target = "accounts:2fa-verify"
            elif user.role == Role.ADMIN and not two_factor_exempt(user):
                target = "accounts:2fa-setup"
            if target:
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        error_body("two_factor_required", "Two-factor sign-in is required."),
                        status=403,
                    )
                if request.headers.get("HX-Request"):
                    # A page fragment (the bell, a widget) asked in the background: refuse it
                    # rather than redirect, or htmx would paste the code page into the page.
                    return HttpResponse(status=403)
                return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
