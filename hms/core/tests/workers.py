"""Task workers in their own processes, for the tests that show the queue across processes: the
same database as the test (a file on SQLite) and, for RQ, the real Redis on 127.0.0.1."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ON_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
# One Redis database per test process, so that two test runs on one machine (a developer's and
# CI's) do not take each other's jobs.
RQ_REDIS_URL = f"redis://127.0.0.1:6379/{10 + os.getpid() % 6}"
RQ_TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
RQ_QUEUES = {"default": {"URL": RQ_REDIS_URL}}


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def require_redis() -> None:
    """Skip without Redis on a developer's machine; on CI a missing Redis is a failure."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        if ON_CI:
            pytest.fail("Redis on 127.0.0.1:6379 is needed on CI for the distributed worker tests")
        pytest.skip("needs Redis on 127.0.0.1:6379")


def empty_rq_database() -> None:
    """This test process's Redis database emptied: no job, and no scheduler lock left by workers
    an earlier test killed (a new worker's scheduler would wait for it to expire)."""
    import redis

    redis.Redis.from_url(RQ_REDIS_URL).flushdb()


def start_worker(backend: str, prelude: str = "", **env: str) -> subprocess.Popen:
    """`manage.py task_worker` for `backend` ("database" or "rq") in its own process;
    `prelude` is Python run first in the worker (e.g. importing a test's subscriber)."""
    code = "\n".join(
        [
            "import django",
            "django.setup()",
            prelude,
            "from django.core.management import call_command",
            "call_command('task_worker', '--interval', '0.2', verbosity=0)",
        ]
    )
    environment = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": database_url(),
        "TASKS_BACKEND": backend,
        "TASKS_REDIS_URL": RQ_REDIS_URL,
        **env,
    }
    return subprocess.Popen(  # noqa: S603  our own interpreter and code
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _descendants(pid: int) -> list[int]:
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def kill(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and every process it started, as a machine that dies would: RQ runs
    each job in a forked child that leaves the worker's process group."""
    for pid in [worker.pid, *_descendants(worker.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    worker.wait(10)


def wait_for(check, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False
