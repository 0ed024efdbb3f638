"""Webhooks reach only public HTTPS addresses, checked after DNS resolution, and are signed."""

import hashlib
import hmac

import pytest

from hms.workflows.webhooks import WebhookRefused, webhook_resolve, webhook_signature


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/hook",  # not HTTPS
        "https://localhost/hook",  # resolves to loopback
        "https://127.0.0.1/hook",
        "https://[::1]/hook",
        "https://10.1.2.3/hook",  # private
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",  # link-local: cloud metadata
        "https://240.0.0.1/hook",  # reserved
        "https://0.0.0.0/hook",
        "https://[::ffff:127.0.0.1]/hook",  # loopback in IPv6 clothing
        "https://user:pw@example.org/hook",
        "https://no-such-host.invalid/hook",
    ],
)
def test_a_webhook_to_a_forbidden_address_is_refused(url):
    with pytest.raises(WebhookRefused):
        webhook_resolve(url)


def test_a_public_literal_address_is_allowed():
    assert webhook_resolve("https://93.184.215.14:8443/in?x=1") == (
        "93.184.215.14", 8443, "/in?x=1", "93.184.215.14"
    )  # fmt: skip


def test_the_signature_is_hmac_sha256_of_timestamp_and_body():
    expected = hmac.new(b"s3cret", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert webhook_signature("s3cret", "1700000000", b"{}") == f"sha256={expected}"
