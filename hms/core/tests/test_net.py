"""The client's address: X-Forwarded-For counts only behind a proxy named in TRUSTED_PROXIES."""

import ipaddress

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from config.env import env_networks
from hms.core.net import client_ip

PROXY = "10.0.0.2"


def _ip(settings, remote: str, forwarded: str | None = None, proxies=(PROXY,)) -> str | None:
    settings.TRUSTED_PROXIES = [ipaddress.ip_network(p) for p in proxies]
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **meta))


def test_without_a_trusted_proxy_the_header_is_ignored(settings):
    assert _ip(settings, "203.0.113.9", "198.51.100.1") == "203.0.113.9"
    assert _ip(settings, "203.0.113.9", "198.51.100.1", proxies=()) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_forwarded_client_counts(settings):
    assert _ip(settings, PROXY, "198.51.100.1") == "198.51.100.1"


def test_a_client_cannot_forge_its_address_through_the_proxy(settings):
    # The proxy appends what it saw; whatever the client wrote itself comes first.
    assert _ip(settings, PROXY, "1.2.3.4, 198.51.100.1") == "198.51.100.1"


def test_a_chain_of_trusted_proxies_is_walked_back_to_the_client(settings):
    hops = "198.51.100.1, 10.1.0.5"
    assert _ip(settings, PROXY, hops, proxies=(PROXY, "10.1.0.0/16")) == "198.51.100.1"


def test_a_garbled_forwarded_hop_falls_back_to_the_proxys_address(settings):
    assert _ip(settings, PROXY, "not-an-ip") == PROXY
    assert _ip(settings, PROXY, "") == PROXY


def test_trusted_proxies_must_be_addresses_or_networks(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, ::1")
    assert [str(n) for n in env_networks("TRUSTED_PROXIES")] == ["10.0.0.0/8", "::1/128"]
    monkeypatch.setenv("TRUSTED_PROXIES", "proxy.local")
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        env_networks("TRUSTED_PROXIES")


@pytest.mark.django_db
def test_the_audit_trail_and_the_lockout_record_the_forwarded_address(client, settings):
    from axes.models import AccessAttempt

    from hms.core.models import AuditEvent

    settings.TRUSTED_PROXIES = [ipaddress.ip_network(PROXY)]
    client.post(
        "/accounts/login/",
        {"username": "who@example.org", "password": "wrong-password-1"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    assert AuditEvent.objects.get(action="auth.login_failed").ip_address == "198.51.100.1"
    assert AccessAttempt.objects.get().ip_address == "198.51.100.1"
