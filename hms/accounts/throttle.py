"""Soft per-address limits on the anonymous doors (sign-in, registration): an address that
knocks too often waits for the window to pass. Accounts are locked by django-axes instead."""

from django.conf import settings
from django.http import HttpRequest

from hms.core.net import client_ip
from hms.core.ratelimit import rate_limit_exceeded

SIGN_IN_REFUSED = "Too many sign-in attempts from your network. Wait a minute and try again."
REGISTRATION_REFUSED = "Too many registrations from your network. Try again in an hour."


def sign_in_throttled(request: HttpRequest) -> bool:
    return rate_limit_exceeded(
        scope="sign-in",
        key=client_ip(request) or "",
        limit=settings.LOGIN_RATE_PER_ADDRESS,
        window_seconds=60,
    )


def registration_throttled(request: HttpRequest) -> bool:
    return rate_limit_exceeded(
        scope="register",
        key=client_ip(request) or "",
        limit=settings.REGISTRATION_RATE_PER_ADDRESS,
        window_seconds=3600,
    )
