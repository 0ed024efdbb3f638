"""The browser-test harness: Playwright (sync API) driving Debian's Chromium against the
live server that pytest-django runs in this process.

Journeys live in tests/e2e/test_*.py and use these fixtures:
- `page`: a fresh browser context and tab whose relative URLs go to the live server;
  a screenshot lands in var/e2e-artifacts/ when the test fails.
- `sign_in(page, email, password)`: signs in through the login form.
- `login_as(page, user)`: starts the session as `user` without the form (an admin's 2FA done).
- `totp_code(user)`: the current code of the user's confirmed TOTP device.

Every test here is marked `e2e` (select with `-m e2e`, leave out with `-m "not e2e"`).
Without Chromium the journeys are skipped locally but fail when CI=true.
"""

import os
import re
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000
ON_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _chromium_missing_message() -> str | None:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium is not at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make install)"
    return None


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per journey file. Playwright's launch() gives it a new, empty
    user-data-dir of its own (and removes it at close); it never downloads a browser."""
    missing = _chromium_missing_message()
    if missing:
        if ON_CI:
            pytest.fail(f"Browser tests cannot run on CI: {missing}", pytrace=False)
        pytest.skip(f"Browser tests skipped: {missing}")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; Django's ORM refuses to
    # run inside one unless told it is safe, which it is here (the test and the live server
    # share one process). Only while the browser lives: the variable must not leak into other
    # tests (manage.py check --deploy rejects it, and it would hide real async mistakes).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()


@pytest.fixture
def artifacts_dir(settings) -> Path:
    path = Path(settings.VAR_DIR) / "e2e-artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page(request, browser, live_server, artifacts_dir):
    """A new tab in a new context (no cookies shared between tests) pointed at the live server."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    failed = any(
        getattr(getattr(request.node, f"report_{when}", None), "failed", False)
        for when in ("setup", "call")
    )
    if failed:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        try:
            tab.screenshot(path=str(artifacts_dir / f"{name}.png"), full_page=True)
            (artifacts_dir / f"{name}.html").write_text(tab.content(), encoding="utf-8")
        except Exception as exc:  # a screenshot must never hide the real failure
            print(f"could not save the failure screenshot: {exc}")
    context.close()


@pytest.fixture
def sign_in():
    """Signs in through the login form and waits until the browser has left the login page."""

    def submit(page, email: str, password: str) -> None:
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)

    return submit


@pytest.fixture
def login_as(live_server, client_for):
    """Starts the page's session as `user` without the login form, for journeys about something
    else; an administrator counts as having passed 2FA (as with the `client_for` fixture)."""

    def login(page, user) -> None:
        from django.conf import settings

        cookie = client_for(user=user).cookies[settings.SESSION_COOKIE_NAME].value
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
        )

    return login


@pytest.fixture
def totp_code():
    """The code an authenticator app would show now for the user's confirmed TOTP device."""

    def code_for(user) -> str:
        from django_otp.oath import totp
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.get(user=user, confirmed=True)
        value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
        return f"{value:0{device.digits}d}"

    return code_for
