"""No two active appointments of one practitioner (or of one patient) overlap in time.

PostgreSQL: exclusion constraints over tstzrange(start, end) with btree_gist.
SQLite: BEFORE INSERT/UPDATE triggers that abort on an overlap (SQLite has no exclusion
constraint; its writers are serialised by IMMEDIATE transactions, so the check cannot race).
Overbooked appointments (walk-ins, urgent) are exempt from the practitioner rule only.
Both raise IntegrityError naming the rule, which the booking service turns into a 409.
"""

from django.db import migrations

ACTIVE = "status NOT IN ('cancelled', 'no_show')"

PG_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""ALTER TABLE scheduling_appointment ADD CONSTRAINT appointment_practitioner_no_overlap
        EXCLUDE USING gist (practitioner_id WITH =, tstzrange(start, "end", '[)') WITH &&)
        WHERE ({ACTIVE} AND NOT overbooked)""",
    f"""ALTER TABLE scheduling_appointment ADD CONSTRAINT appointment_patient_no_overlap
        EXCLUDE USING gist (patient_id WITH =, tstzrange(start, "end", '[)') WITH &&)
        WHERE ({ACTIVE})""",
]
PG_BACKWARD = [
    "ALTER TABLE scheduling_appointment DROP CONSTRAINT appointment_practitioner_no_overlap",
    "ALTER TABLE scheduling_appointment DROP CONSTRAINT appointment_patient_no_overlap",
]


def _sqlite_trigger(name: str, event: str, who: str, extra: str) -> str:
    return f"""CREATE TRIGGER {name} BEFORE {event} ON scheduling_appointment
    WHEN NEW.{ACTIVE}{extra.replace("{t}", "NEW")}
    BEGIN
        SELECT RAISE(ABORT, 'appointment_{who}_no_overlap') WHERE EXISTS (
            SELECT 1 FROM scheduling_appointment AS other
            WHERE other.{who}_id = NEW.{who}_id AND other.id != NEW.id
              AND other.{ACTIVE}{extra.replace("{t}", "other")}
              AND other.start < NEW."end" AND other."end" > NEW.start
        );
    END"""  # noqa: S608 (constant names, no input)


_UPDATE_OF = 'UPDATE OF practitioner_id, patient_id, start, "end", status, overbooked'
_TRIGGERS = [
    (
        "appointment_practitioner_overlap_insert",
        "INSERT",
        "practitioner",
        " AND {t}.overbooked = 0",
    ),
    (
        "appointment_practitioner_overlap_update",
        _UPDATE_OF,
        "practitioner",
        " AND {t}.overbooked = 0",
    ),
    ("appointment_patient_overlap_insert", "INSERT", "patient", ""),
    ("appointment_patient_overlap_update", _UPDATE_OF, "patient", ""),
]
SQLITE_FORWARD = [_sqlite_trigger(*trigger) for trigger in _TRIGGERS]
SQLITE_BACKWARD = [f"DROP TRIGGER IF EXISTS {name}" for name, *_ in _TRIGGERS]


def forwards(apps, schema_editor):
    statements = {"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}.get(
        schema_editor.connection.vendor, []
    )
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    statements = {"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}.get(
        schema_editor.connection.vendor, []
    )
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
