"""PostgreSQL only: drop the trigram indexes of 0003. No query uses them: search reads the
B-tree indexed name tokens and the name-word vocabulary (hms/patients/search.py), so they only
slowed every write of a patient. The pg_trgm extension stays (dropping it is not ours to do once
installed). Reversing recreates the indexes."""

from django.db import migrations

FORWARD = [
    "DROP INDEX IF EXISTS patient_name_word_trgm",
    "DROP INDEX IF EXISTS patient_search_name_trgm",
]
BACKWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS patient_search_name_trgm "
    "ON patients_patient USING gin (search_name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS patient_name_word_trgm "
    "ON patients_patientnameword USING gin (word gin_trgm_ops)",
]


def _run(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("patients", "0005_phone_tokens")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
