"""Database-level guard: audit records are never updated, and deleted only by retention."""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION audit_app_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('lockbox.audit_retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit records are append-only (% refused on %)', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_record_append_only BEFORE UPDATE OR DELETE ON audit_app_auditrecord
    FOR EACH ROW EXECUTE FUNCTION audit_app_append_only();
CREATE TRIGGER audit_pruned_append_only BEFORE UPDATE OR DELETE ON audit_app_auditprunedrange
    FOR EACH ROW EXECUTE FUNCTION audit_app_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS audit_record_append_only ON audit_app_auditrecord;
DROP TRIGGER IF EXISTS audit_pruned_append_only ON audit_app_auditprunedrange;
DROP FUNCTION IF EXISTS audit_app_append_only();
"""
# SQLite has no session flags, so there the guard covers UPDATE only.
SQLITE_FORWARD = [
    """CREATE TRIGGER audit_record_no_update BEFORE UPDATE ON audit_app_auditrecord
       BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;""",
    """CREATE TRIGGER audit_pruned_no_update BEFORE UPDATE ON audit_app_auditprunedrange
       BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_record_no_update;",
    "DROP TRIGGER IF EXISTS audit_pruned_no_update;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit_app", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
