"""A view or diagnostics action in one statement on PostgreSQL: lockbox_operator_action
(migration 0011) locks the grant, then the chain head, appends the record and advances the head
in the statement's own transaction (issue 17: the Python path's BEGIN, its two statements and
COMMIT were five round trips where this is one).

The hash stays the chain's: audit_app.chain builds the canonical payload with marker values
where only the database knows the value (the grant's id, the Cloud PC's name, the sequence
number, the tenant) and cuts it there; the function puts the values back.
"""

import json

from django.db import DEFAULT_DB_ALIAS, connections

from audit_app.addresses import stored_client_ip
from audit_app.chain import normalise_details, payload_pieces
from audit_app.models import AuditRecord, Operation, RecordType, Result
from audit_app.services import actor_fields
from tenants_app.models import CloudPC

from ..models import AccessRequest
from .grant_rows import GRANT_COLUMNS, PC_COLUMNS, cloud_pc_from_row, grant_from_row

# Markers no real value has: a name with control characters around it, ids below any id.
_NAME = "\x01lockbox:cloud_pc\x01"
_REQUEST, _SEQ, _TENANT = -7_340_000_101, -7_340_000_102, -7_340_000_103
_SLOTS = {json.dumps(_NAME): "name", str(_REQUEST): "request_id", str(_SEQ): "seq"}
_SLOTS[str(_TENANT)] = "tenant_id"
_EXPECTED = sorted(["name", "request_id", "request_id", "seq", "tenant_id"])

_SQL = (
    f"SELECT f.o_record_id, {', '.join('f.o_' + c for c in GRANT_COLUMNS)},"
    f" {', '.join('pc.' + c for c in PC_COLUMNS)}"
    " FROM lockbox_operator_action(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) f"
    f" INNER JOIN {CloudPC._meta.db_table} pc ON pc.id = %s"
)
_CLIENT_IP = AuditRecord._meta.get_field("client_ip")

# Joins the pieces into one text parameter (see migration 0011): canonical JSON never holds it.
_SEPARATOR = "\x1f"
FALLBACK = object()  # the Python path must do it (see operate)


def available() -> bool:
    return connections[DEFAULT_DB_ALIAS].vendor == "postgresql"


def operate_in_one_statement(actor, cloud_pc_pk: int, action: str, client_ip, now):
    """(grant, cloud_pc) after the action is recorded; None without an open grant (nothing
    written); FALLBACK where the Python path must act: another database, a marker's text found
    in the actor's own values, or a tenant with no chain head yet."""
    if not available():
        return FALLBACK
    connection = connections[DEFAULT_DB_ALIAS]  # once: each proxy use is a lookup (issue 17)
    actor_name, actor_type = actor_fields(actor)
    values = {
        "seq": _SEQ,
        "created_at": now,
        "record_type": str(RecordType.LOCKBOX),
        "operation": str(Operation.OPERATOR_ACTION),
        "actor": actor_name,
        "actor_type": str(actor_type),
        "object_type": "CloudPC",
        "object_id": str(cloud_pc_pk),
        "result": str(Result.SUCCESS),
        "client_ip": stored_client_ip(client_ip, "postgresql"),
        # What cloud_pc_operate's Python path records, normalised as audit_record does.
        "details": normalise_details({"request_id": _REQUEST, "action": action, "cloud_pc": _NAME}),
        "request_id": _REQUEST,
    }
    pieces, names = payload_pieces(_TENANT, values, _SLOTS)
    if sorted(names) != _EXPECTED:
        return FALLBACK
    params = [
        actor.pk,
        cloud_pc_pk,
        now,
        AccessRequest.Status.APPROVED.value,
        action,
        values["record_type"],
        values["operation"],
        actor_name,
        values["actor_type"],
        values["result"],
        _CLIENT_IP.get_db_prep_save(values["client_ip"], connection),
        _SEPARATOR.join(pieces),
        _SEPARATOR.join(names),
        cloud_pc_pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_SQL, params)
        row = cursor.fetchone()
    if row is None:
        return None
    if row[0] is None:
        return FALLBACK
    split = 1 + len(GRANT_COLUMNS)
    return grant_from_row(row[1:split], connection), cloud_pc_from_row(row[split:], connection)
