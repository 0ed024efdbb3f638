"""Webhook calls, made safe for a hospital network: HTTPS only; the host is resolved once and
every address must be public (private, loopback, link-local, reserved, multicast and
unspecified addresses are refused, so a rule cannot reach the hospital's own servers or a
cloud metadata service); the connection goes to the address that was checked (no second
lookup an attacker's DNS could answer differently), with the certificate checked against the
host name; no redirects; a timeout; the body signed with HMAC-SHA256 of the rule's secret in
`X-HMS-Signature: sha256=<hex>`, with `X-HMS-Timestamp` inside the signed text."""

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
from urllib.parse import urlsplit

from django.conf import settings


class WebhookRefused(ValueError):
    """The URL may not be called (a permanent failure: never retried)."""


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def webhook_resolve(url: str) -> tuple[str, int, str, str]:
    """(host, port, path, address) of an allowed URL; WebhookRefused otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port or 443
    except ValueError:
        raise WebhookRefused("The webhook URL is not valid.") from None
    if parts.scheme != "https" or not parts.hostname:
        raise WebhookRefused("Webhooks must use https://.")
    if parts.username or parts.password:
        raise WebhookRefused("Put no credentials in the webhook URL; use the secret.")
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise WebhookRefused(f"{parts.hostname} does not resolve.") from None
    addresses = sorted({info[4][0] for info in infos})
    refused = [a for a in addresses if not _public(a)]
    if not addresses or refused:
        raise WebhookRefused(
            f"{parts.hostname} resolves to an address webhooks may not reach "
            f"({', '.join(refused)}): private, loopback, link-local and reserved are refused."
        )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, port, path, addresses[0]


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the checked address and checks the certificate against the host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float, context=None):
        super().__init__(
            host, port, timeout=timeout, context=context or ssl.create_default_context()
        )
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def webhook_call(*, url: str, secret: str, body: dict) -> str:
    """POST the JSON body; a 2xx answer is success, anything else raises (and is retried)."""
    host, port, path, address = webhook_resolve(url)
    data = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "HMS-Workflows/1",
        "X-HMS-Timestamp": timestamp,
        "X-HMS-Signature": webhook_signature(secret, timestamp, data),
        "X-HMS-Event-Id": str(body.get("event_id", "")),
    }
    return webhook_post(host=host, port=port, path=path, address=address, data=data,
                        headers=headers)  # fmt: skip


def webhook_post(
    *, host: str, port: int, path: str, address: str, data: bytes, headers: dict, context=None
) -> str:
    """The POST itself, to the already checked `address` (`context`: tests trust their own CA)."""
    timeout = settings.WORKFLOW_WEBHOOK_TIMEOUT
    connection = _PinnedHTTPSConnection(host, port, address, timeout, context)
    try:
        connection.request("POST", path, body=data, headers=headers)
        response = connection.getresponse()
        response.read(65536)
    except (OSError, http.client.HTTPException) as exc:
        raise ConnectionError(f"{host}: {exc}") from None
    finally:
        connection.close()
    if not 200 <= response.status < 300:
        raise ConnectionError(f"{host} answered {response.status}")
    return f"{host} answered {response.status}"
