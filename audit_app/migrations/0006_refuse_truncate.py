"""The append-only guard covers TRUNCATE too, on every audit table (PostgreSQL).

Row and statement DELETE triggers do not fire for TRUNCATE, so until now one statement could
empty the log. TRUNCATE is refused on the records, the pruned ranges and the chain heads (a
TRUNCATE ... CASCADE from the tenants reaches them too and is refused the same way). Retention
deletes with DELETE, never TRUNCATE, so nothing in the application needs it.

The one exception is the session flag `lockbox.allow_truncate`: Django's test runner empties the
database between transactional tests with TRUNCATE, and the test settings set the flag on
their connections. Like the retention flag, it guards against mistakes and the application's
own SQL, not against a database owner, who can drop the trigger; the hash chain is what shows
tampering (manage.py verify_audit).
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION audit_app_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('lockbox.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit records are append-only (TRUNCATE refused on %)', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON audit_app_auditrecord
    FOR EACH STATEMENT EXECUTE FUNCTION audit_app_no_truncate();
CREATE TRIGGER audit_pruned_no_truncate BEFORE TRUNCATE ON audit_app_auditprunedrange
    FOR EACH STATEMENT EXECUTE FUNCTION audit_app_no_truncate();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_app_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION audit_app_no_truncate();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS audit_record_no_truncate ON audit_app_auditrecord;
DROP TRIGGER IF EXISTS audit_pruned_no_truncate ON audit_app_auditprunedrange;
DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_app_auditchainhead;
DROP FUNCTION IF EXISTS audit_app_no_truncate();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit_app", "0005_statement_level_guard")]
    operations = [migrations.RunPython(forward, backward)]
