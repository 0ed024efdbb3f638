"""Database triggers that keep the audit trail append-only, whoever writes to the database.

UPDATE is refused except the sealer's one-time fill of the chain columns (seq, prev_hash, hash,
sealed_at) on a row that has none yet; DELETE is always refused. Installed by a migration.
"""

_CONTENT = (
    "id", "occurred_at", "actor_id", "actor_email", "role", "action", "object_type",
    "object_id", "patient_ref", "ip_address", "user_agent", "details", "mac",
)  # fmt: skip
MESSAGE = "audit events are append-only"

SQLITE_NO_UPDATE = f"""
CREATE TRIGGER IF NOT EXISTS core_audit_no_update BEFORE UPDATE ON core_auditevent
WHEN OLD.hash IS NOT NULL OR NEW.hash IS NULL
    OR {" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _CONTENT)}
BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
"""
SQLITE_NO_DELETE = f"""
CREATE TRIGGER IF NOT EXISTS core_audit_no_delete BEFORE DELETE ON core_auditevent
BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
"""
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS core_audit_no_update",
    "DROP TRIGGER IF EXISTS core_audit_no_delete",
]

POSTGRES_CREATE = f"""
CREATE OR REPLACE FUNCTION core_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND NEW.hash IS NOT NULL
       AND ({", ".join(f"NEW.{c}" for c in _CONTENT)})
           IS NOT DISTINCT FROM ({", ".join(f"OLD.{c}" for c in _CONTENT)}) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER core_audit_append_only BEFORE UPDATE OR DELETE ON core_auditevent
FOR EACH ROW EXECUTE FUNCTION core_audit_append_only();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS core_audit_append_only ON core_auditevent;
DROP FUNCTION IF EXISTS core_audit_append_only();
"""


def install(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(SQLITE_NO_UPDATE)
            cursor.execute(SQLITE_NO_DELETE)
        elif connection.vendor == "postgresql":
            cursor.execute(POSTGRES_CREATE)


def remove(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for statement in SQLITE_DROP:
                cursor.execute(statement)
        elif connection.vendor == "postgresql":
            cursor.execute(POSTGRES_DROP)
