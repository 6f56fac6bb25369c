"""An operator action in one statement on PostgreSQL (issue 17): lockbox_operator_action locks
the grant, then the tenant's chain head (the order of every transition: the object, then the
head), appends the action's audit record and advances the head, in the statement's own
transaction: no BEGIN and COMMIT round trips, no second statement.

The record's hash is the chain's (audit_app/chain.py): the caller sends the canonical payload
cut around the values only the database knows (the grant's id, the Cloud PC's name, the
sequence number, the tenant), the pieces and the slots' names each joined with the unit
separator (chr(31), which canonical JSON, ASCII with control characters escaped, never holds:
a text[] parameter cost psycopg a regular expression per character), and the function joins
them back: integers as their decimal
text, the name through lockbox_json_string, Python's json.dumps escaping (ASCII only). The
Python path (requests_app/services/sessions.py) stays for SQLite, for a restart and for a
tenant without a chain head; tests/requests/test_operator_function.py proves both write the
same hashes and that verify_audit accepts a chain written by both.
"""

from django.db import migrations

JSON_STRING = r"""
CREATE OR REPLACE FUNCTION lockbox_json_string(value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    out text := '"';
    ch text;
    code int;
BEGIN
    IF value = '' THEN
        RETURN '""';
    END IF;
    FOREACH ch IN ARRAY regexp_split_to_array(value, '') LOOP
        code := ascii(ch);
        IF ch = '"' THEN out := out || '\"';
        ELSIF ch = '\' THEN out := out || '\\';
        ELSIF code = 10 THEN out := out || '\n';
        ELSIF code = 13 THEN out := out || '\r';
        ELSIF code = 9 THEN out := out || '\t';
        ELSIF code = 8 THEN out := out || '\b';
        ELSIF code = 12 THEN out := out || '\f';
        ELSIF code BETWEEN 32 AND 126 THEN out := out || ch;
        ELSIF code < 65536 THEN out := out || '\u' || lpad(to_hex(code), 4, '0');
        ELSE
            code := code - 65536;
            out := out || '\u' || to_hex(55296 + (code >> 10)) || '\u' || to_hex(56320 + (code & 1023));
        END IF;
    END LOOP;
    RETURN out || '"';
END $$;
"""

OPERATOR_ACTION = r"""
CREATE OR REPLACE FUNCTION lockbox_operator_action(
    p_requester bigint, p_cloud_pc bigint, p_now timestamptz, p_status text, p_action text,
    p_record_type text, p_operation text, p_actor text, p_actor_type text, p_result text,
    p_client_ip inet, p_pieces text, p_slots text
) RETURNS TABLE (
    o_record_id bigint, o_id bigint, o_ticket_id bigint, o_tenant_id bigint,
    o_requester_id bigint, o_status text, o_window_starts_at timestamptz,
    o_window_ends_at timestamptz
)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    g record;
    head record;
    v_seq bigint;
    v_payload text;
    v_hash text;
    pieces text[] := string_to_array(p_pieces, chr(31));
    slots text[] := string_to_array(p_slots, chr(31));
BEGIN
    -- The grant rule of AccessRequestQuerySet.open_at, as requests_app/services/sessions.py.
    SELECT ar.id, ar.ticket_id, ar.tenant_id, ar.requester_id, ar.status, ar.window_starts_at,
           ar.window_ends_at, pc.tenant_id AS pc_tenant, pc.name AS pc_name
      INTO g
      FROM requests_app_accessrequest ar
      JOIN requests_app_accessrequest_cloud_pcs link ON link.accessrequest_id = ar.id
      JOIN tenants_app_cloudpc pc ON pc.id = link.cloudpc_id
     WHERE ar.status = p_status AND ar.window_starts_at <= p_now AND ar.window_ends_at > p_now
       AND ar.requester_id = p_requester AND link.cloudpc_id = p_cloud_pc
     ORDER BY ar.window_ends_at DESC
     LIMIT 1
       FOR UPDATE OF ar;
    IF NOT FOUND THEN
        RETURN;  -- no open grant: the caller refuses and audits the attempt
    END IF;
    o_id := g.id; o_ticket_id := g.ticket_id; o_tenant_id := g.tenant_id;
    o_requester_id := g.requester_id; o_status := g.status;
    o_window_starts_at := g.window_starts_at; o_window_ends_at := g.window_ends_at;
    SELECT h.last_seq, h.last_hash INTO head
      FROM audit_app_auditchainhead h WHERE h.tenant_id = g.pc_tenant FOR UPDATE;
    IF NOT FOUND THEN
        o_record_id := NULL;  -- a tenant without a head yet: the caller takes the Python path
        RETURN NEXT;
        RETURN;
    END IF;
    v_seq := head.last_seq + 1;
    v_payload := pieces[1];
    FOR i IN 1 .. coalesce(array_length(slots, 1), 0) LOOP
        v_payload := v_payload || CASE slots[i]
            WHEN 'name' THEN lockbox_json_string(g.pc_name)
            WHEN 'request_id' THEN g.id::text
            WHEN 'seq' THEN v_seq::text
            WHEN 'tenant_id' THEN g.pc_tenant::text
        END || pieces[i + 1];
    END LOOP;
    v_hash := encode(sha256(convert_to(head.last_hash || v_payload, 'UTF8')), 'hex');
    INSERT INTO audit_app_auditrecord (created_at, tenant_id, seq, record_type, operation, actor,
        actor_type, object_type, object_id, result, client_ip, details, request_id, prev_hash,
        hash)
    VALUES (p_now, g.pc_tenant, v_seq, p_record_type, p_operation, p_actor, p_actor_type,
        'CloudPC', p_cloud_pc::text, p_result, p_client_ip,
        jsonb_build_object('request_id', g.id, 'action', p_action, 'cloud_pc', g.pc_name),
        g.id, head.last_hash, v_hash)
    RETURNING id INTO o_record_id;
    UPDATE audit_app_auditchainhead SET last_seq = v_seq, last_hash = v_hash
     WHERE tenant_id = g.pc_tenant;
    RETURN NEXT;
END $$;
"""

DROP = [
    "DROP FUNCTION IF EXISTS lockbox_operator_action(bigint, bigint, timestamptz, text, text, text,"
    " text, text, text, text, inet, text, text)",
    "DROP FUNCTION IF EXISTS lockbox_json_string(text)",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(JSON_STRING)
        schema_editor.execute(OPERATOR_ACTION)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0010_list_page_index"),
        ("audit_app", "0014_webhook_operations"),
        ("tenants_app", "0006_user_manager"),
    ]

    operations = [migrations.RunPython(create, drop)]
