"""A chain append in one statement on PostgreSQL (issue 17): lockbox_audit_append locks the
tenant's chain head, appends the record with the next sequence number and the hash over it, and
advances the head. audit_record's two statements (the head's locking read, then the insert with
the head's advance) were two round trips; the transition holds its object's lock already, so the
order stays the object, then the head.

The hash is the chain's (audit_app/chain.py): the caller sends the canonical payload cut where
the sequence number goes (two pieces joined with the unit separator, chr(31), which canonical
JSON never holds), and the function puts the number back. A tenant without a head yet returns
no row and the Python path (which creates it) appends instead. tests/audit/test_integrity.py
proves the forms write the same bytes and that verify_audit accepts a chain written by all.
"""

from django.db import migrations

APPEND = r"""
CREATE OR REPLACE FUNCTION lockbox_audit_append(
    p_tenant bigint, p_created_at timestamptz, p_record_type text, p_operation text,
    p_actor text, p_actor_type text, p_object_type text, p_object_id text, p_result text,
    p_client_ip inet, p_details jsonb, p_request_id bigint, p_pieces text
) RETURNS TABLE (o_id bigint, o_seq bigint, o_prev_hash text, o_hash text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head record;
    pieces text[] := string_to_array(p_pieces, chr(31));
BEGIN
    SELECT h.last_seq, h.last_hash INTO head
      FROM audit_app_auditchainhead h WHERE h.tenant_id = p_tenant FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;  -- no head yet: the caller's Python path creates it
    END IF;
    o_seq := head.last_seq + 1;
    o_prev_hash := head.last_hash;
    o_hash := encode(
        sha256(convert_to(head.last_hash || pieces[1] || o_seq::text || pieces[2], 'UTF8')), 'hex'
    );
    INSERT INTO audit_app_auditrecord (created_at, tenant_id, seq, record_type, operation, actor,
        actor_type, object_type, object_id, result, client_ip, details, request_id, prev_hash,
        hash)
    VALUES (p_created_at, p_tenant, o_seq, p_record_type, p_operation, p_actor, p_actor_type,
        p_object_type, p_object_id, p_result, p_client_ip, p_details, p_request_id,
        o_prev_hash, o_hash)
    RETURNING id INTO o_id;
    UPDATE audit_app_auditchainhead SET last_seq = o_seq, last_hash = o_hash
     WHERE tenant_id = p_tenant;
    RETURN NEXT;
END $$;
"""

DROP = (
    "DROP FUNCTION IF EXISTS lockbox_audit_append(bigint, timestamptz, text, text, text, text,"
    " text, text, text, inet, jsonb, bigint, text)"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audit_app", "0014_webhook_operations")]

    operations = [migrations.RunPython(create, drop)]
