"""Patient search benchmark: seed N patients into a separate database, then time searches.

    .venv/bin/python bench/patient_search.py                       # SQLite var/bench.sqlite3
    .venv/bin/python bench/patient_search.py --patients 100000
    .venv/bin/python bench/patient_search.py \\
        --database-url postgres://postgres@127.0.0.1:5432/hms_bench

Never touches the development database. Seeding is skipped when the bench database already
holds N patients (use --reseed to start again). Prints p50/p95 latency of
hms.patients.search.patient_search (audit row included, as in a real request) for MRN,
exact name, partial name, phone (international, national, last digits) and date-of-birth
searches. Targets: p95 < 50 ms on PostgreSQL and < 150 ms on SQLite on a 2-core machine.
"""

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url",
        default=f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}",
        help="a separate database (created if missing); never the development one",
    )
    parser.add_argument("--queries", type=int, default=200, help="queries of each kind")
    parser.add_argument("--reseed", action="store_true", help="empty the bench database first")
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args()


def prepare_database(url: str) -> None:
    """Create the PostgreSQL bench database when it does not exist yet."""
    if not url.startswith(("postgres://", "postgresql://")):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    admin = psycopg.connect(
        dbname="postgres",
        user=config["USER"],
        password=config["PASSWORD"] or None,
        host=config["HOST"],
        port=config["PORT"] or 5432,
        autocommit=True,
    )
    with admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{config["NAME"]}"')


def name_pools(rng: random.Random):
    from faker import Faker

    pools = {}
    for locale in ("en_GB", "en_US", "es_ES", "fr_FR", "de_DE", "pt_BR", "it_IT"):
        faker = Faker(locale)
        faker.seed_instance(rng.randrange(1 << 30))
        pools[locale] = (
            sorted({faker.first_name() for _ in range(400)}),
            sorted({faker.last_name() for _ in range(600)}),
        )
    return list(pools.values())


def patient_rows(n: int, rng: random.Random):
    """Yield (fields dict) for n synthetic patients with realistic, accented names."""
    from hms.patients.mrn import mrn_format
    from hms.patients.normalize import digits, fold

    pools = name_pools(rng)
    start = date(1930, 1, 1).toordinal()
    span = date(2024, 12, 31).toordinal() - start
    now = datetime.now(UTC)
    for serial in range(1, n + 1):
        given_pool, family_pool = pools[rng.randrange(len(pools))]
        given, family = rng.choice(given_pool), rng.choice(family_pool)
        phone = f"+447{rng.randrange(100, 1000)}{rng.randrange(100000, 1000000)}"  # E.164
        yield {
            "id": uuid.uuid4(),
            "mrn": mrn_format(serial),
            "given_name": given,
            "family_name": family,
            "birth_date": date.fromordinal(start + rng.randrange(span)),
            "sex": rng.choice(("female", "male")),
            "phone": phone,
            "search_name": fold(f"{given} {family}"),
            "search_family": fold(family),
            "search_phone": digits(phone),
            "created_at": now,
            "updated_at": now,
        }


def seed(n: int, rng: random.Random) -> list[str]:
    """n patients with MRNs 1..n (COPY on PostgreSQL), their name and phone search keys, and
    the MRN serial set to continue after them; the family names used, sorted."""
    from django.db import connection, transaction

    from hms.patients.models import (
        MrnSerial,
        Patient,
        PatientNameToken,
        PatientNameWord,
        PatientPhoneToken,
    )
    from hms.patients.normalize import phone_tokens
    from hms.patients.services import name_words_of

    fields = [f for f in Patient._meta.concrete_fields]
    columns = [f.column for f in fields]
    defaults = {}
    for f in fields:
        if f.column in ("photo",) or f.null:
            defaults[f.column] = None
        elif f.has_default():
            defaults[f.column] = f.get_default()
        else:
            defaults[f.column] = ""
    patient_table = Patient._meta.db_table
    token_table = PatientNameToken._meta.db_table
    phone_table = PatientPhoneToken._meta.db_table
    postgres = connection.vendor == "postgresql"
    words: set[str] = set()
    families: set[str] = set()
    began = time.perf_counter()

    def converted(row: dict):
        values = []
        for f in fields:
            value = row.get(f.attname, defaults[f.column])
            if not postgres:
                if isinstance(value, uuid.UUID):
                    value = value.hex
                elif isinstance(value, datetime | date):
                    value = value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)
            values.append(value)
        return values

    with transaction.atomic():
        cursor = connection.cursor()
        if not postgres:
            cursor.execute("PRAGMA cache_size = -400000")
        batch, tokens, phone_keys = [], [], []
        column_list = ", ".join(columns)

        def flush():
            if postgres:
                raw = cursor.cursor
                with raw.copy(f"COPY {patient_table} ({column_list}) FROM STDIN") as copy:
                    for values in batch:
                        copy.write_row(values)
                for table, rows in ((token_table, tokens), (phone_table, phone_keys)):
                    with raw.copy(f"COPY {table} (patient_id, token) FROM STDIN") as copy:
                        for values in rows:
                            copy.write_row(values)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {patient_table} ({column_list}) VALUES ({marks})",  # noqa: S608 (model names)
                    batch,
                )
                for table, rows in ((token_table, tokens), (phone_table, phone_keys)):
                    cursor.executemany(
                        f"INSERT INTO {table} (patient_id, token) VALUES (%s, %s)",  # noqa: S608
                        rows,
                    )
            batch.clear()
            tokens.clear()
            phone_keys.clear()

        for count, row in enumerate(patient_rows(n, rng), 1):
            batch.append(converted(row))
            families.add(row["family_name"])
            key = row["id"] if postgres else row["id"].hex
            for word in sorted(name_words_of(row["given_name"], row["family_name"])):
                tokens.append((key, word))
                words.add(word)
            phone_keys.extend((key, token) for token in sorted(phone_tokens(row["phone"])))
            if len(batch) >= 20000:
                flush()
                if count % 100000 == 0:
                    print(f"  seeded {count:,} patients ({time.perf_counter() - began:.0f} s)")
        if batch:
            flush()
        PatientNameWord.objects.bulk_create(
            [PatientNameWord(word=w) for w in sorted(words)], ignore_conflicts=True, batch_size=5000
        )
    serials = MrnSerial._meta.db_table
    with connection.cursor() as cursor:
        # MRNs 1..n were written directly: new registrations continue after them.
        if postgres:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [serials, n])
        else:  # AUTOINCREMENT never goes below the largest id it has seen
            cursor.execute(f"INSERT INTO {serials} (id) VALUES (%s)", [n])  # noqa: S608
            cursor.execute(f"DELETE FROM {serials} WHERE id = %s", [n])  # noqa: S608
        # What autovacuum does on a live server: statistics and the visibility map.
        cursor.execute("VACUUM ANALYZE" if postgres else "ANALYZE")
    print(f"Seeded {n:,} patients in {time.perf_counter() - began:.1f} s")
    return sorted(families)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    args = parse_args()
    prepare_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from hms.accounts.models import User
    from hms.core.permissions import Role
    from hms.patients.models import Patient
    from hms.patients.search import patient_search

    dev_db = str(ROOT / "var" / "hms.sqlite3")
    if str(connection.settings_dict["NAME"]) in (dev_db, "hms"):
        sys.exit("Refusing to run on the development database: pass another --database-url.")
    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    have = Patient.objects.count()
    if args.reseed or have != args.patients:
        if have:
            print(f"Emptying the bench database ({have:,} patients)")
            with connection.cursor() as cursor:
                for table in ("patientnametoken", "patientphonetoken", "patientnameword",
                              "patientidentifier", "patientmerge", "patient"):  # fmt: skip
                    cursor.execute(f"DELETE FROM patients_{table}")  # noqa: S608 (fixed names)
        print(f"Seeding {args.patients:,} patients into {connection.vendor} ...")
        seed(args.patients, rng)
    user, _ = User.objects.get_or_create(
        email="bench@bench.hms",
        defaults={"given_name": "Bench", "family_name": "Clerk", "role": Role.RECEPTIONIST},
    )
    sample = []
    for serial in rng.sample(range(1, args.patients + 1), args.queries):
        from hms.patients.mrn import mrn_format

        sample.append(Patient.objects.get(mrn=mrn_format(serial)))
    kinds = {
        "MRN": lambda p: p.mrn_display,
        "exact name": lambda p: f"{p.given_name} {p.family_name}",
        "partial name": lambda p: f"{p.given_name[:3]} {p.family_name[:4]}",
        "phone": lambda p: p.phone,
        "national phone": lambda p: "0" + p.phone.removeprefix("+44"),
        "phone ending": lambda p: p.phone[-6:],
        "date of birth": lambda p: p.birth_date.strftime("%d/%m/%Y"),
        "name typo": lambda p: p.family_name[:1] + p.family_name[2:3] + p.family_name[1:2]
        + p.family_name[3:] + " " + p.given_name,
    }  # fmt: skip
    print(
        f"\npatient_search on {connection.vendor}, {args.patients:,} patients, "
        f"{args.queries} queries each (page of 25, audit row included)"
    )
    print(f"{'query':<14} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'found':>7}")
    for kind, make in kinds.items():
        timings, hits = [], 0
        for patient in sample:
            query = make(patient)
            began = time.perf_counter()
            page = patient_search(user=user, query=query)
            timings.append((time.perf_counter() - began) * 1000)
            hits += any(p.pk == patient.pk for p in page.patients) or page.has_next
        print(
            f"{kind:<14} {statistics.median(timings):>8.1f} {percentile(timings, 0.95):>8.1f} "
            f"{max(timings):>8.1f} {hits:>4}/{len(sample)}"
        )


if __name__ == "__main__":
    main()
