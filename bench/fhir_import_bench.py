"""FHIR import speed (not part of the test suite; prints figures).

Imports the Synthea sample (../shared/data/synthea-10, 5,945 resources) into a fresh database
with `manage.py import_fhir`, then imports it again (idempotent: nothing is added), and prints
resources/s for both runs and the time of each stage (read, validate, store). The machine may
be shared: each run also gives the CPU the import used (its validating processes included) and
the load average, and resources per CPU second, which the load changes much less (the
database server's CPU is not counted).

Usage: .venv/bin/python bench/fhir_import_bench.py [--database sqlite|postgres] [--runs 3]
PostgreSQL at BENCH_PG (default postgres://postgres@127.0.0.1:5432), database hms_bench_fhir_import.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: the bench package from this checkout

from bench.databases import recreate_postgres  # noqa: E402

SAMPLE = ROOT.parent / "shared" / "data" / "synthea-10"
DB_NAME = "hms_bench_fhir_import"


def fresh_database(kind: str, scratch: Path) -> str:
    if kind == "sqlite":
        path = scratch / "import.sqlite3"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    return recreate_postgres(DB_NAME)


def manage(url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1", "LOG_LEVEL": "ERROR"}
    done = subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout


def run_once(url: str, workers: str | None) -> tuple[float, float, str]:
    """Resources per second, resources per CPU second, and the stages' times."""
    extra = ["--workers", workers] if workers else []
    out = manage(url, "import_fhir", "--quiet", *extra, str(SAMPLE))
    match = re.search(r"(\d+) resources in ([\d.]+) s .*CPU ([\d.]+) s", out)
    total, seconds, cpu = int(match[1]), float(match[2]), float(match[3])
    stages = out.strip().splitlines()[-1].strip()
    return total / seconds, total / cpu, stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--runs", type=int, default=3, help="fresh imports to time (best kept)")
    parser.add_argument("--workers", default=None, help="validating processes (default: CPUs)")
    args = parser.parse_args()
    if not SAMPLE.is_dir():
        raise SystemExit(f"The Synthea sample is not at {SAMPLE}")
    print(f"CPUs: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    rates = []
    with tempfile.TemporaryDirectory() as scratch:
        for n in range(args.runs):
            url = fresh_database(args.database, Path(scratch))
            manage(url, "migrate", "--noinput", "-v0")
            rate, per_cpu, stages = run_once(url, args.workers)
            rates.append(rate)
            load = os.getloadavg()[0]
            print(f"run {n + 1}: {rate:,.0f} resources/s ({stages}), "
                  f"{per_cpu:,.0f} resources per CPU second, load {load:.1f}")  # fmt: skip
        again, _, _ = run_once(url, args.workers)
    print(f"FHIR import ({args.database}): best {max(rates):,.0f} resources/s, "
          f"median {sorted(rates)[len(rates) // 2]:,.0f} resources/s over {args.runs} fresh runs; "
          f"second run (nothing new) {again:,.0f} resources/s")  # fmt: skip


if __name__ == "__main__":
    main()
