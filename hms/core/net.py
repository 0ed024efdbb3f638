"""Where a request comes from: the one answer the audit trail, the sign-in lockout and the rate
limits all use."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXIES)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address. `X-Forwarded-For` counts only when the connection comes from a
    proxy named in TRUSTED_PROXIES (anyone else could write the header): the address is then
    the last one in it that is not itself a trusted proxy."""
    address = request.META.get("REMOTE_ADDR") or None
    if address is None or not _trusted(address):
        return address
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
        if not _trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:  # a garbled hop: the last proxy's own address is what we know
                return address
        address = hop
    return address
