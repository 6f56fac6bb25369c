"""The append-only guard per statement instead of per row: same rule, far cheaper for retention.

The rule needs no row data (UPDATE is always refused; DELETE only outside the retention job's
flag), so one check per statement is enough, and a 5,000-row retention DELETE runs it once.
"""

from django.db import migrations

PG_FORWARD = """
DROP TRIGGER IF EXISTS audit_record_append_only ON audit_app_auditrecord;
DROP TRIGGER IF EXISTS audit_pruned_append_only ON audit_app_auditprunedrange;
CREATE OR REPLACE FUNCTION audit_app_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('lockbox.audit_retention', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit records are append-only (% refused on %)', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_record_append_only BEFORE UPDATE OR DELETE ON audit_app_auditrecord
    FOR EACH STATEMENT EXECUTE FUNCTION audit_app_append_only();
CREATE TRIGGER audit_pruned_append_only BEFORE UPDATE OR DELETE ON audit_app_auditprunedrange
    FOR EACH STATEMENT EXECUTE FUNCTION audit_app_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS audit_record_append_only ON audit_app_auditrecord;
DROP TRIGGER IF EXISTS audit_pruned_append_only ON audit_app_auditprunedrange;
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


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit_app", "0004_sign_in")]
    operations = [migrations.RunPython(forward, backward)]
