"""Fixtures shared by every app's tests: users of each role and signed-in clients."""

import pytest

from hms.accounts.tests.factories import UserFactory
from hms.core.permissions import Role


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Argon2 with production parameters costs ~0.25 s per hash; tests use a cheap Argon2."""
    from django.conf import settings
    from django.test import override_settings

    fast = "hms.accounts.tests.hashers.FastArgon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=[fast, *settings.PASSWORD_HASHERS]):
        yield


@pytest.fixture(autouse=True, scope="session")
def _tasks_run_in_process():
    """Tests run background tasks (emails) at once, in the test's process; a test that needs
    the queue itself overrides TASKS back to the database backend. Every commit that stores
    events queues its own delivery task (no window shared from one test to the next)."""
    from django.test import override_settings

    immediate = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    with override_settings(TASKS=immediate, OUTBOX_DISPATCH_WINDOW_MS=0):
        yield


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def shared_cache(monkeypatch):
    """The cache taken as shared by every server process (as Redis is), so that the entries
    kept only in a shared cache (hms/core/versioned_cache.py) are kept in the test's one."""
    monkeypatch.setattr("hms.core.versioned_cache.cache_is_shared", lambda: True)


@pytest.fixture
def make_user(db):
    def make(role: Role = Role.PATIENT, **kwargs):
        return UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def client_for(client, make_user):
    """A test client signed in as a fresh user of the given role (2FA already passed)."""

    def sign_in(role: Role = Role.PATIENT, user=None):
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        user = user or make_user(role)
        client.force_login(user)
        if user.role == Role.ADMIN:
            device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", confirmed=True)
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        client.user = user
        return client

    return sign_in


@pytest.fixture(autouse=True)
def _audit_trail_flushable_after_transactional_tests(request):
    """SQLite empties tables after a `transaction=True` or live-server test with DELETE, which the
    audit trail's append-only trigger refuses (PostgreSQL truncates; row triggers do not see it).
    Lift that one trigger for the flush; the next test puts it back."""
    marker = request.node.get_closest_marker("django_db")
    flushed = {"transactional_db", "live_server"} & set(request.fixturenames)
    if not (flushed or (marker and marker.kwargs.get("transaction"))):
        yield
        return
    request.getfixturevalue("transactional_db")
    from django.db import connection

    from hms.core import audit_triggers

    if connection.vendor == "sqlite":
        audit_triggers.install(connection)
    yield
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS core_audit_no_delete")
