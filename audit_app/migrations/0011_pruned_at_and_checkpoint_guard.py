"""Pruned ranges take their `pruned_at` from retention (it is signed before the row is written),
and checkpoints get the append-only guard of the audit records (SPEC 11).

Checkpoints are never updated or deleted, not even by retention: on PostgreSQL UPDATE and
DELETE are refused whatever the session's flags, and TRUNCATE like on the other audit tables
(only the test runner's `lockbox.allow_truncate`, migration 0006). SQLite has no session flags
and the test runner empties its tables with DELETE, so there the guard covers UPDATE only; the
signatures and `manage.py verify_audit` show the rest.
"""

import django.utils.timezone
from django.db import migrations, models

PG_FORWARD = """
CREATE OR REPLACE FUNCTION audit_app_checkpoint_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit checkpoints are append-only (% refused on %)', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_app_auditcheckpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_app_checkpoint_append_only();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_app_auditcheckpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_app_no_truncate();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_app_auditcheckpoint;
DROP TRIGGER IF EXISTS audit_checkpoint_no_truncate ON audit_app_auditcheckpoint;
DROP FUNCTION IF EXISTS audit_app_checkpoint_append_only();
"""
# On SQLite, AlterField rebuilds the table and its triggers go with it: 0009 lost the records'
# guard of migration 0002, 0010 and this migration the pruned ranges'. They are made again here
# (IF NOT EXISTS: a database migrated some other way may still have them).
SQLITE_FORWARD = [
    """CREATE TRIGGER IF NOT EXISTS audit_record_no_update BEFORE UPDATE ON audit_app_auditrecord
       BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;""",
    """CREATE TRIGGER IF NOT EXISTS audit_pruned_no_update
       BEFORE UPDATE ON audit_app_auditprunedrange
       BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;""",
    """CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_app_auditcheckpoint
       BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;""",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS audit_checkpoint_no_update;"]


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
    dependencies = [("audit_app", "0010_checkpoints_and_signed_ranges")]

    operations = [
        migrations.AlterField(
            model_name="auditprunedrange",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.RunPython(forward, backward),
    ]
