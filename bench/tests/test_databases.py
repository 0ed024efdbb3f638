"""Each bench's database of its own, recreated empty at BENCH_PG, and the bench's settings."""

import pytest

from bench.databases import PG, postgres_answers, recreate_postgres
from bench.serving import bench_settings

NAME = "hms_bench_tidy_check"


@pytest.mark.skipif(not postgres_answers(), reason=f"no PostgreSQL at {PG}")
def test_the_database_is_recreated_empty_and_its_url_returned():
    import psycopg

    url = recreate_postgres(NAME)
    assert url == f"{PG}/{NAME}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE ward (name text)")
        held = psycopg.connect(url)  # a connection left open does not stop the next run
    try:
        assert recreate_postgres(NAME) == url
        with psycopg.connect(url) as conn:
            tables = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'ward'")
            assert tables.fetchone()[0] == 0
    finally:
        held.close()
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)")


@pytest.mark.parametrize("name", ["hms; DROP DATABASE hms", "Hms", "1hms", "hms-bench", ""])
def test_a_name_that_is_not_a_plain_identifier_is_refused(name):
    with pytest.raises(SystemExit, match="not a bench database name"):
        recreate_postgres(name)


def test_the_settings_are_production_like_and_take_overrides():
    settings = bench_settings("sqlite:///x.sqlite3", REDIS_URL="redis://r/1", SECRET_KEY="k")
    assert settings["DATABASE_URL"] == "sqlite:///x.sqlite3"
    assert settings["DEBUG"] == "0"
    assert settings["DJANGO_SETTINGS_MODULE"] == "bench.settings"
    assert (settings["REDIS_URL"], settings["SECRET_KEY"]) == ("redis://r/1", "k")
    assert bench_settings("x")["SECRET_KEY"] != bench_settings("x")["SECRET_KEY"]
