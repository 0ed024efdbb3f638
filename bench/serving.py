"""How the benchmarks run the application: its settings, gunicorn on a free loopback port, and
the CPU time that processes took (Linux /proc)."""

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench_settings(database_url: str, **more: str) -> dict[str, str]:
    """The environment of the benchmark's Django: DEBUG=0 as in production, with the bare page
    (bench.settings), over plain HTTP on 127.0.0.1 (and the test client's testserver), without
    lock-outs, logging errors only. Background tasks are queued in the database as `make run`
    queues them (no worker takes them: what the bench measures is the requests' cost)."""
    return {
        "DATABASE_URL": database_url, "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,testserver", "SECURE_SSL_REDIRECT": "0",
        "AXES_ENABLED": "0", "LOG_LEVEL": "ERROR", "TASKS_BACKEND": "database",
        "DJANGO_SETTINGS_MODULE": "bench.settings", **more,
    }  # fmt: skip


def start_django(settings: dict[str, str], migrate: bool = False) -> None:
    """Django in this process with `settings` (bench_settings); with `migrate`, the database's
    tables created or brought up to date first."""
    os.environ.update(settings)
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", "--noinput", verbosity=0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds_of(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs, to tell how loaded the machine was meanwhile."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def busy_share(before, after) -> float:
    return (after[0] - before[0]) / max(after[1] - before[1], 1)


class Server:
    """gunicorn serving bench.settings (the application plus the bare page) with `env`."""

    def __init__(self, env: dict, workers: int, threads: int, port: int = 0):
        self.port = port or free_port()
        self.process = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
            [
                str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application",
                f"--bind=127.0.0.1:{self.port}", f"--workers={workers}", f"--threads={threads}",
                "--log-level=warning",
            ],
            cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "bench.settings"},
            start_new_session=True,
        )  # fmt: skip
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}")
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise SystemExit("gunicorn did not start")

    def get(self, path: str, headers: dict | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def pids(self) -> list[int]:
        children = [
            int(p.name)
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and _parent_of(p) == self.process.pid
        ]
        return [self.process.pid, *children]

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


def _parent_of(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None
