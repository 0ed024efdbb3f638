import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from hms.core.api import error_body
from hms.core.permissions import Role

LAST_ACTIVITY = "last_activity"
# Requests an open page makes by itself (an htmx queue refreshing) do not count as activity.
BACKGROUND_HEADER = "X-Background-Refresh"


class IdleTimeoutMiddleware:
    """Signs staff out after STAFF_IDLE_TIMEOUT_MINUTES without a request of their own."""

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
            if not request.headers.get(BACKGROUND_HEADER):
                request.session[LAST_ACTIVITY] = now
        return self.get_response(request)


def two_factor_exempt(user) -> bool:
    return settings.DEMO_2FA_EXEMPT and user.email.endswith("@demo.hms")


def has_totp_device(user) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


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
            if has_totp_device(user):
                target = "accounts:2fa-verify"
            elif user.role == Role.ADMIN and not two_factor_exempt(user):
                target = "accounts:2fa-setup"
            if target:
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        error_body("two_factor_required", "Two-factor sign-in is required."),
                        status=403,
                    )
                return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
