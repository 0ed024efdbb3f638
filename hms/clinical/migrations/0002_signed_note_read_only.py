"""The database refuses any change to a signed note's text or signature.

Only the patient column may still change (a patient merge moves the note to the surviving
record). The service already updates notes conditionally; this catches every other writer.
"""

from django.db import migrations

SQLITE_CREATE = """
CREATE TRIGGER clinical_note_signed_read_only
BEFORE UPDATE ON clinical_clinicalnote
WHEN OLD.signed_at IS NOT NULL AND (
    NEW.subjective IS NOT OLD.subjective OR NEW.objective IS NOT OLD.objective
    OR NEW.assessment IS NOT OLD.assessment OR NEW.plan IS NOT OLD.plan
    OR NEW.signed_at IS NOT OLD.signed_at OR NEW.signed_by_id IS NOT OLD.signed_by_id
    OR NEW.author_id IS NOT OLD.author_id OR NEW.encounter_id IS NOT OLD.encounter_id
)
BEGIN
    SELECT RAISE(ABORT, 'a signed clinical note is read-only');
END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS clinical_note_signed_read_only;"

POSTGRES_CREATE = """
CREATE OR REPLACE FUNCTION clinical_note_signed_read_only() RETURNS trigger AS $$
BEGIN
    IF OLD.signed_at IS NOT NULL AND (
        NEW.subjective IS DISTINCT FROM OLD.subjective
        OR NEW.objective IS DISTINCT FROM OLD.objective
        OR NEW.assessment IS DISTINCT FROM OLD.assessment
        OR NEW.plan IS DISTINCT FROM OLD.plan
        OR NEW.signed_at IS DISTINCT FROM OLD.signed_at
        OR NEW.signed_by_id IS DISTINCT FROM OLD.signed_by_id
        OR NEW.author_id IS DISTINCT FROM OLD.author_id
        OR NEW.encounter_id IS DISTINCT FROM OLD.encounter_id
    ) THEN
        RAISE EXCEPTION 'a signed clinical note is read-only' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER clinical_note_signed_read_only
BEFORE UPDATE ON clinical_clinicalnote
FOR EACH ROW EXECUTE FUNCTION clinical_note_signed_read_only();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS clinical_note_signed_read_only ON clinical_clinicalnote;
DROP FUNCTION IF EXISTS clinical_note_signed_read_only();
"""


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_CREATE)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)


class Migration(migrations.Migration):
    dependencies = [("clinical", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
