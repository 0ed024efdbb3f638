"""PostgreSQL only: pg_trgm and GIN trigram indexes for similar-name lookups.

On SQLite these operations do nothing: search there uses the B-tree indexed name tokens and the
name-word vocabulary (see hms/patients/search.py).
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS patient_search_name_trgm "
    "ON patients_patient USING gin (search_name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS patient_name_word_trgm "
    "ON patients_patientnameword USING gin (word gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS patient_name_word_trgm",
    "DROP INDEX IF EXISTS patient_search_name_trgm",
]


def _run(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("patients", "0002_search_tokens_and_merges")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
