"""Configuration comes from the environment; production refuses unsafe or malformed values.

Each case starts `manage.py` in a fresh process, because settings are read once at start.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[3]
STRONG_KEY = "k3v-9Qz_" * 8  # 64 characters, not the development key
CONFIG_VARS = (
    "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "EMAIL_URL", "TIME_ZONE",
    "TASKS_BACKEND", "TASKS_REDIS_URL", "REDIS_URL", "STAFF_IDLE_TIMEOUT_MINUTES",
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "DEMO_2FA_EXEMPT", "CSRF_TRUSTED_ORIGINS",
    "PHONE_DEFAULT_REGION",
)  # fmt: skip


def manage(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    clean.update(VAR_DIR=str(tmp_path), PYTHONDONTWRITEBYTECODE="1", **env)
    return subprocess.run(  # noqa: S603 (our own manage.py with fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {"DEBUG": "0", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "hms.example.org"}


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "secret",
    [None, "insecure-dev-key-do-not-use-in-production", "short-key"],
    ids=["missing", "the development key", "too short"],
)
def test_production_mode_refuses_to_start_without_a_real_secret_key(tmp_path, secret):
    env = {**PRODUCTION}
    if secret is None:
        del env["SECRET_KEY"]
    else:
        env["SECRET_KEY"] = secret
    result = manage("check", tmp_path=tmp_path, **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "carrier-pigeon://hospital/db"),
        ("EMAIL_URL", "carrier-pigeon://mail.example.org"),
        ("TIME_ZONE", "Mars/Olympus_Mons"),
        ("DEBUG", "perhaps"),
        ("STAFF_IDLE_TIMEOUT_MINUTES", "a while"),
        ("TASKS_BACKEND", "carrier-pigeon"),
        ("PHONE_DEFAULT_REGION", "Narnia"),
    ],
)
def test_a_malformed_setting_fails_at_start_naming_the_variable(tmp_path, variable, value):
    env = {**PRODUCTION, variable: value}
    result = manage("check", tmp_path=tmp_path, **env)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line and variable in last_line, result.stderr


def test_the_openapi_schema_generates_without_errors_or_warnings(tmp_path):
    schema = tmp_path / "schema.yaml"
    result = manage(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(schema),
        tmp_path=tmp_path, DEBUG="1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "Error" not in result.stderr, result.stderr
    assert schema.read_text().startswith("openapi: 3.")


def test_the_demo_two_factor_exemption_is_off_in_production_whatever_the_environment(tmp_path):
    code = "from django.conf import settings; print(settings.DEMO_2FA_EXEMPT)"
    env = {**PRODUCTION, "DEMO_2FA_EXEMPT": "1"}
    result = manage("shell", "--no-imports", "-c", code, tmp_path=tmp_path, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_production_mode_sets_secure_cookies_and_hsts(tmp_path):
    code = (
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS >= 31536000)"
    )
    result = manage("shell", "--no-imports", "-c", code, tmp_path=tmp_path, **PRODUCTION)
    assert result.stdout.split() == ["True"] * 4, result.stderr


def test_every_environment_variable_the_settings_read_is_in_env_example():
    read = set(
        re.findall(
            r'env_(?:str|bool|int|list|choice)\(\s*"([A-Z0-9_]+)"',
            (BASE_DIR / "config" / "settings.py").read_text(),
        )
    )
    documented = set(
        re.findall(r"^#?\s*([A-Z0-9_]+)=", (BASE_DIR / ".env.example").read_text(), re.M)
    )
    assert read, "the settings read no variables? the pattern is out of date"
    assert read - documented == set(), "add these to .env.example"


@pytest.mark.parametrize(
    ("redis_url", "engine"),
    [("redis://127.0.0.1:6379/0", "cached_db"), ("", "db")],
    ids=["with Redis", "without"],
)
def test_sessions_are_read_from_redis_when_there_is_one_and_never_from_a_per_process_cache(
    tmp_path, redis_url, engine
):
    code = "from django.conf import settings as s; print(s.SESSION_ENGINE, s.CACHES)"
    result = manage(
        "shell", "--no-imports", "-c", code, tmp_path=tmp_path, **PRODUCTION, REDIS_URL=redis_url
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == f"django.contrib.sessions.backends.{engine}"
    assert ("RedisCache" in result.stdout) == bool(redis_url)


@pytest.mark.parametrize(
    ("env", "queue_url"),
    [
        ({"REDIS_URL": "redis://cache:6379/0"}, "redis://cache:6379/0"),
        ({"REDIS_URL": "redis://cache:6379/0", "TASKS_REDIS_URL": "redis://q:6379/2"}, "redis://q:6379/2"),
    ],
    ids=["the cache's Redis", "a Redis of its own"],
)  # fmt: skip
def test_the_rq_queue_is_one_setting_away(tmp_path, env, queue_url):
    code = (
        "from django.conf import settings as s; "
        "print(s.TASKS['default']['BACKEND'], s.RQ_QUEUES['default']['URL'], "
        "'django_rq' in s.INSTALLED_APPS)"
    )
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        tmp_path=tmp_path,
        **PRODUCTION,
        TASKS_BACKEND="rq",
        **env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django_tasks_rq.RQBackend", queue_url, "True"]


def test_the_rq_queue_without_a_redis_address_refuses_to_start(tmp_path):
    result = manage("check", tmp_path=tmp_path, **PRODUCTION, TASKS_BACKEND="rq")
    assert result.returncode != 0
    assert "TASKS_BACKEND=rq needs TASKS_REDIS_URL (or REDIS_URL)" in result.stderr


def test_development_mail_lands_as_one_clickable_file_per_message_in_var_mail(tmp_path):
    link = "https://127.0.0.1:8000/accounts/confirm/" + "x" * 120 + "/"
    code = (
        "from django.core.mail import send_mail; "
        f"send_mail('Confirm your email', 'Open {link}', 'hms@example.org', ['pat@example.org'])"
    )
    result = manage("shell", "--no-imports", "-c", code, tmp_path=tmp_path, DEBUG="1")
    assert result.returncode == 0, result.stderr
    [message] = (tmp_path / "mail").iterdir()
    assert f"Open {link}" in message.read_text().splitlines()
