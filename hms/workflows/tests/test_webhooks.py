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


@pytest.fixture
def tls_receiver(tmp_path):
    """A real HTTPS server on 127.0.0.1 with a certificate for "localhost"; records requests."""
    import http.server
    import shutil
    import ssl
    import subprocess
    import threading

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",  # noqa: S607
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    seen = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.path, dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    serving = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    serving.load_cert_chain(cert, key)
    server.socket = serving.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    trusting = ssl.create_default_context(cafile=str(cert))
    yield server.server_address[1], trusting, seen
    server.shutdown()


def test_the_call_goes_to_the_checked_address_signed_and_checks_the_certificate(tls_receiver):
    from hms.workflows.webhooks import webhook_post

    port, trusting, seen = tls_receiver
    body = b'{"event":"appointment.booked"}'
    headers = {"Content-Type": "application/json", "X-HMS-Timestamp": "1700000000",
               "X-HMS-Signature": webhook_signature("k", "1700000000", body)}  # fmt: skip
    answer = webhook_post(host="localhost", port=port, path="/in", address="127.0.0.1",
                          data=body, headers=headers, context=trusting)  # fmt: skip
    assert answer == "localhost answered 204"
    path, got, received = seen[0]
    assert path == "/in" and received == body
    assert got["X-HMS-Signature"] == webhook_signature("k", "1700000000", received)
    # The same address under another name: the certificate does not match, nothing is sent.
    with pytest.raises(ConnectionError):
        webhook_post(host="other.example", port=port, path="/in", address="127.0.0.1",
                     data=body, headers=headers, context=trusting)  # fmt: skip
    assert len(seen) == 1
