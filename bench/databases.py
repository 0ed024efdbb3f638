"""The benchmarks' PostgreSQL: BENCH_PG (a server URL without a database name), where each bench
recreates a database of its own. Never name a database you care about."""

import os
import re

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def postgres_answers() -> bool:
    try:
        import psycopg

        psycopg.connect(f"{PG}/postgres", connect_timeout=3).close()
        return True
    except Exception:  # no server, no psycopg, refused: the caller goes on without PostgreSQL
        return False


def recreate_postgres(name: str) -> str:
    """Drop the database `name` (its connections closed) and create it empty; its URL."""
    import psycopg

    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"not a bench database name: {name!r}")
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return f"{PG}/{name}"
