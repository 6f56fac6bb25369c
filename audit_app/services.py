"""The one writer of audit records, and the retention-policy services."""

from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from .addresses import stored_client_ip
from .chain import normalise_details, payload_pieces, record_hash
from .models import ActorType, AuditChainHead, AuditRecord, Result

SYSTEM_ACTOR = "System"


def actor_fields(actor) -> tuple[str, str]:
    if actor is None:
        return SYSTEM_ACTOR, ActorType.SYSTEM
    return actor.username, actor.tenant.kind


def _lock_chain_head(tenant_id: int) -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(tenant_id=tenant_id).first()
    if head is None:
        AuditChainHead.objects.bulk_create(
            [AuditChainHead(tenant_id=tenant_id)], ignore_conflicts=True
        )
        head = AuditChainHead.objects.select_for_update().get(tenant_id=tenant_id)
    return head


def audit_record(
    *,
    tenant_id: int,
    actor,
    record_type: str,
    operation: str,
    object_type: str = "",
    object_id="",
    result: str = Result.SUCCESS,
    details: dict | None = None,
    client_ip: str | None = None,
    locked_head: tuple[int, str] | None = None,
) -> AuditRecord:
    """Append a record to the tenant's chain, inside the caller's transaction.

    The chain head's row lock is taken last in every transition (after the object's own lock),
    so the lock order is always object -> chain head and appends cannot deadlock. A caller that
    already locked the head in this transaction (with its object, in that order) passes its
    (last_seq, last_hash) as `locked_head`.
    """
    # The connection once, not through the `connection` proxy at each use (issue 17).
    connection = connections[DEFAULT_DB_ALIAS]
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    actor_name, actor_type = actor_fields(actor)
    details = normalise_details(details)
    request_id = details.get("request_id")
    values = {
        "seq": _SEQ,
        "created_at": timezone.now(),
        "record_type": str(record_type),
        "operation": str(operation),
        "actor": actor_name,
        "actor_type": str(actor_type),
        "object_type": str(object_type),
        "object_id": str(object_id),
        "result": str(result),
        "client_ip": stored_client_ip(client_ip, connection.vendor),
        "details": details,
        "request_id": int(request_id) if request_id is not None else None,
    }
    appended = None
    if locked_head is None and APPEND_IN_DATABASE and connection.vendor == "postgresql":
        appended = _append_in_database(tenant_id, values, connection)
    if appended is not None:
        values["id"], values["seq"], values["prev_hash"], values["hash"] = appended
        values["tenant_id"] = tenant_id
    else:
        last_seq, last_hash = locked_head or _lock_head_row(tenant_id, connection)
        values["seq"] = last_seq + 1
        digest = record_hash(last_hash, tenant_id, values)
        values.update(tenant_id=tenant_id, prev_hash=last_hash, hash=digest)
        values["id"] = _insert_and_advance(values, connection=connection)
    # Positional, in field order: the model's fast path (keywords cost it a lookup each).
    record = AuditRecord(*[values[name] for name in _RECORD_ATTNAMES])
    record._state.adding = False
    return record


# The chain append as plain statements (lock the head; insert and advance the head): the same
# statements the ORM sent, without its per-statement compiling, which cost more CPU than the
# database's work (issue 17). The hash is computed here in Python for both databases;
# PostgreSQL takes the insert and the head's advance in one statement (a data-modifying WITH,
# one round trip less), SQLite as two.
_HEAD = AuditChainHead._meta.db_table
_ADVANCE_HEAD = f"UPDATE {_HEAD} SET last_seq = %s, last_hash = %s WHERE tenant_id = %s"
_INSERT_COLUMNS = (
    "created_at",
    "tenant_id",
    "seq",
    "record_type",
    "operation",
    "actor",
    "actor_type",
    "object_type",
    "object_id",
    "result",
    "client_ip",
    "details",
    "request_id",
    "prev_hash",
    "hash",
)
# audit_record builds every other value as the column takes it (str, int or None); these three
# are prepared as the ORM would (time zones and SQLite's datetimes, the address, JSON).
_PREPARED = {
    name: AuditRecord._meta.get_field(name) for name in ("created_at", "client_ip", "details")
}
_RECORD_ATTNAMES = [field.attname for field in AuditRecord._meta.concrete_fields]
_INSERT = (
    f"INSERT INTO {AuditRecord._meta.db_table} ({', '.join(_INSERT_COLUMNS)})"
    f" VALUES ({', '.join(['%s'] * len(_INSERT_COLUMNS))}) RETURNING id"
)


# PostgreSQL appends in one statement, lockbox_audit_append (migration 0015), which computes the
# hash there from the canonical payload cut where the sequence number goes (audit_app.chain's
# payload_pieces). False (tests) takes the Python path below on PostgreSQL too.
APPEND_IN_DATABASE = True
_SEQ = -7_340_000_201  # a marker no sequence number is
_SEQ_SLOTS = {str(_SEQ): "seq"}
_SEPARATOR = "\x1f"  # joins the pieces: canonical JSON (ASCII, control characters escaped) has none
# lockbox_audit_append's parameters, in its order: the insert's columns but for those the
# function computes (the sequence number and the hashes), the tenant first.
_COMPUTED = ("tenant_id", "seq", "prev_hash", "hash")
_APPEND_COLUMNS = ["tenant_id", *[name for name in _INSERT_COLUMNS if name not in _COMPUTED]]
_APPEND = (
    "SELECT o_id, o_seq, o_prev_hash, o_hash FROM lockbox_audit_append"
    f"({', '.join(['%s'] * (len(_APPEND_COLUMNS) + 1))})"
)
_APPEND_PREPARED = [(_APPEND_COLUMNS.index(name), name) for name in _PREPARED]


def _append_in_database(tenant_id: int, values: dict, connection):
    """(id, seq, prev_hash, hash) of the record appended in one statement; None where the
    Python path must append: the marker's text found in the record's own values (it would be
    cut there too), or a tenant without a chain head yet."""
    pieces, names = payload_pieces(tenant_id, values, _SEQ_SLOTS)
    if names != ["seq"]:
        return None
    params = _params(
        {**values, "tenant_id": tenant_id}, _APPEND_COLUMNS, _APPEND_PREPARED, connection
    )
    params.append(_SEPARATOR.join(pieces))
    with connection.cursor() as cursor:
        cursor.execute(_APPEND, params)
        return cursor.fetchone()


def _lock_head_row(tenant_id: int, connection) -> tuple[int, str]:
    """The tenant's chain head, row-locked until the transaction ends (created if missing)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = f"SELECT last_seq, last_hash FROM {_HEAD} WHERE tenant_id = %s{lock}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant_id])
        row = cursor.fetchone()
        if row is None:
            head = _lock_chain_head(tenant_id)
            return head.last_seq, head.last_hash
        return row


_ADVANCE_WITH_INSERT = f"WITH advanced AS ({_ADVANCE_HEAD}) {_INSERT}"
_PREPARED_POSITIONS = [(_INSERT_COLUMNS.index(name), name) for name in _PREPARED]


def _params(values: dict, columns, prepared_positions, connection) -> list:
    """The values in the columns' order, each prepared field's as the ORM would prepare it
    (JSON, time zones, SQLite's datetimes); shared by both forms of the append."""
    params = [values[name] for name in columns]
    for position, name in prepared_positions:
        params[position] = _PREPARED[name].get_db_prep_save(values[name], connection)
    return params


def _insert_and_advance(values: dict, *, one_statement: bool | None = None, connection=None) -> int:
    """Insert the record and move the head to it; returns the record's id."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    params = _params(values, _INSERT_COLUMNS, _PREPARED_POSITIONS, connection)
    advance = [values["seq"], values["hash"], values["tenant_id"]]
    if one_statement is None:
        one_statement = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if one_statement:
            cursor.execute(_ADVANCE_WITH_INSERT, advance + params)
            return cursor.fetchone()[0]
        cursor.execute(_INSERT, params)
        record_id = cursor.fetchone()[0]
        cursor.execute(_ADVANCE_HEAD, advance)
        return record_id


def audit_record_failure(**kwargs) -> AuditRecord | None:
    """A refused attempt, in a transaction of its own (the refused change never happens).

    Refusals are cheap to provoke, so the same refusal (actor, operation, object) is recorded
    once per AUDIT_REFUSAL_QUIET_SECONDS: the log shows every kind of attempt and when it began,
    and a loop cannot fill it. Returns None for a repeat that was not recorded.
    """
    quiet = timedelta(seconds=settings.AUDIT_REFUSAL_QUIET_SECONDS)
    actor_name, _ = actor_fields(kwargs["actor"])
    with transaction.atomic():
        # Under the chain head's lock concurrent repeats queue, so only the first one writes.
        _lock_chain_head(kwargs["tenant_id"])
        repeat = AuditRecord.objects.filter(
            tenant_id=kwargs["tenant_id"],
            object_id=str(kwargs.get("object_id", "")),
            operation=str(kwargs["operation"]),
            actor=actor_name,
            result=Result.FAILURE,
            created_at__gt=timezone.now() - quiet,
        )
        action = (kwargs.get("details") or {}).get("action")
        if action:  # viewing and restarting the same Cloud PC are different attempts
            repeat = repeat.filter(details__action=action)
        repeat = repeat.exists()
        if repeat:
            return None
        details = {**(kwargs.pop("details", None) or {}), "quiet_seconds": quiet.seconds}
        return audit_record(result=Result.FAILURE, details=details, **kwargs)
