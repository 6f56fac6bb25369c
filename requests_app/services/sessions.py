"""Access sessions: what an engineer does to a Cloud PC under an approved, open grant.

Every action checks the grant's window against the clock at the moment of the action, so
enforcement never depends on the sweep having run.
"""

from django.db import connection, transaction
from django.utils import timezone

from audit_app.models import AuditChainHead, Operation, RecordType
from audit_app.services import audit_record, audit_record_failure
from lockbox_site.errors import InvalidInput, NotAllowed, NotFound
from tenants_app.models import CloudPC
from tenants_app.roles import Cap, can

from ..models import AccessRequest
from .grant_rows import GRANT_COLUMNS, PC_COLUMNS, cloud_pc_from_row, grant_from_row
from .operate_in_database import FALLBACK, operate_in_one_statement

ACTIONS = ("view", "diagnostics", "restart")


def _scheduled_start(actor, cloud_pc: CloudPC, now):
    """When the actor's next approved window on this Cloud PC opens (SPEC 10), if any."""
    return (
        AccessRequest.objects.filter(
            status=AccessRequest.Status.APPROVED,
            requester=actor,
            cloud_pcs=cloud_pc,
            window_starts_at__gt=now,
        )
        .order_by("window_starts_at")
        .values_list("window_starts_at", flat=True)
        .first()
    )


def _refuse(*, actor, cloud_pc: CloudPC, action: str, client_ip) -> None:
    opens_at = _scheduled_start(actor, cloud_pc, timezone.now())
    reason = "No active grant"
    if opens_at is not None:
        reason = f"The approved window opens at {opens_at.isoformat()}"
    audit_record_failure(
        tenant_id=cloud_pc.tenant_id,
        actor=actor,
        record_type=RecordType.LOCKBOX,
        operation=Operation.OPERATOR_ACTION,
        object_type="CloudPC",
        object_id=cloud_pc.pk,
        details={"action": action, "cloud_pc": cloud_pc.name, "reason": reason},
        client_ip=client_ip,
    )
    if opens_at is not None:
        raise NotAllowed(
            f"Your approved access to this Cloud PC opens at {opens_at:%Y-%m-%d %H:%M} UTC."
        )
    raise NotAllowed(_why_no_access(actor, cloud_pc))


def _why_no_access(actor, cloud_pc: CloudPC) -> str:
    """The refusal a person can act on: who revoked the last grant, or when it ended (called
    only when no grant is open, so the latest window is a closed one)."""
    last = (
        AccessRequest.objects.filter(
            requester=actor, cloud_pcs=cloud_pc, window_starts_at__isnull=False
        )
        .order_by("-window_ends_at")
        .first()
    )
    if last is None:
        return f"You have no approved access to {cloud_pc.name} right now."
    ended = last.closed_at or last.window_ends_at
    if last.status == AccessRequest.Status.REVOKED:
        revocation = last.decisions.filter(outcome="revoked").select_related("actor").last()
        who = revocation.actor_name if revocation else "the customer"
        return (
            f"Your access to {cloud_pc.name} (request {last.pk}) was revoked by {who} "
            f"at {ended:%Y-%m-%d %H:%M} UTC."
        )
    return (
        f"Your access to {cloud_pc.name} (request {last.pk}) ended at "
        f"{ended:%Y-%m-%d %H:%M} UTC ({last.get_status_display().lower()})."
    )


# An operator action's two reads as plain SQL, compiled once: the ORM's statement building cost
# more CPU than the database's work (issue 17). The grant rule is AccessRequestQuerySet.open_at
# (approved, start <= now < end); tests/requests/test_sessions.py checks the two agree.
_PC_SQL = f"SELECT {', '.join(PC_COLUMNS)} FROM {CloudPC._meta.db_table} WHERE id = %s"
_GRANT_CLOUD_PCS = AccessRequest.cloud_pcs.through._meta.db_table
# The grant and its Cloud PC in one statement: an action under a grant, the common case,
# reads nothing else; without a grant the Cloud PC is read on its own for the refusal.
_GRANT_FROM = (
    f" FROM {AccessRequest._meta.db_table} ar"
    f" INNER JOIN {_GRANT_CLOUD_PCS} link ON link.accessrequest_id = ar.id"
    f" INNER JOIN {CloudPC._meta.db_table} pc ON pc.id = link.cloudpc_id"
)
_GRANT_WHERE = (
    " WHERE ar.status = %s AND ar.window_starts_at <= %s AND ar.window_ends_at > %s"
    " AND ar.requester_id = %s AND link.cloudpc_id = %s"
    " ORDER BY ar.window_ends_at DESC LIMIT 1"
)
_GRANT_SELECT = (
    f"SELECT {', '.join('ar.' + c for c in GRANT_COLUMNS)},"
    f" {', '.join('pc.' + c for c in PC_COLUMNS)}"
)
_GRANT_SQL = _GRANT_SELECT + _GRANT_FROM + _GRANT_WHERE
# An action that writes nothing but its audit record also locks and reads the tenant's chain
# head in the same statement, one round trip less (FOR UPDATE OF ar, head locks in that order,
# the order of every transition: the object first, then the chain head). A tenant without a
# head yet (no record so far) finds no row here and takes the path without it.
_GRANT_AND_HEAD_SQL = (
    _GRANT_SELECT
    + f", head.last_seq, head.last_hash{_GRANT_FROM}"
    + f" INNER JOIN {AuditChainHead._meta.db_table} head ON head.tenant_id = pc.tenant_id"
    + _GRANT_WHERE
)


def _cloud_pc_pk(cloud_pc_id) -> int:
    try:
        pk = CloudPC._meta.pk.get_prep_value(cloud_pc_id)
    except (ValueError, TypeError):
        raise NotFound("No such Cloud PC.") from None
    low, high = connection.ops.integer_field_range(CloudPC._meta.pk.get_internal_type())
    if not low <= pk <= high:  # as the ORM: an id no column can hold matches nothing
        raise NotFound("No such Cloud PC.")
    return pk


def _cloud_pc(pk: int) -> CloudPC:
    with connection.cursor() as cursor:
        cursor.execute(_PC_SQL, [pk])
        row = cursor.fetchone()
    if row is None:
        raise NotFound("No such Cloud PC.")
    return cloud_pc_from_row(row)


def _lock_open_grant(actor, cloud_pc_pk: int, now, *, with_head: bool = False):
    """The actor's open grant on this Cloud PC that ends last, row-locked (FOR UPDATE OF ar),
    with the Cloud PC, and with the tenant's chain head (locked, last_seq, last_hash) if asked
    and found, else None in its place. None if there is no open grant."""
    params = [
        AccessRequest.Status.APPROVED.value,
        *[AccessRequest._meta.get_field("window_starts_at").get_db_prep_value(now, connection)] * 2,
        actor.pk,
        cloud_pc_pk,
    ]
    lock = connection.features.has_select_for_update_of
    row = None
    with connection.cursor() as cursor:
        if with_head:
            cursor.execute(
                _GRANT_AND_HEAD_SQL + (" FOR UPDATE OF ar, head" if lock else ""), params
            )
            row = cursor.fetchone()
        if row is None:
            cursor.execute(_GRANT_SQL + (" FOR UPDATE OF ar" if lock else ""), params)
            row = cursor.fetchone()
            head = None
        else:
            row, head = row[:-2], row[-2:]
    if row is None:
        return None
    split = len(GRANT_COLUMNS)
    grant, cloud_pc = grant_from_row(row[:split]), cloud_pc_from_row(row[split:])
    return grant, cloud_pc, head


def cloud_pc_operate(
    *, actor, cloud_pc_id, action: str, client_ip=None
) -> tuple[CloudPC, AccessRequest]:
    """Perform one action on a Cloud PC under the actor's grant, or refuse and audit the attempt."""
    if action not in ACTIONS:
        raise InvalidInput(f"Unknown action {action!r}.")
    if not can(actor, Cap.REQUEST_ACCESS):
        raise NotAllowed("Only support engineers act on Cloud PCs under a grant.")
    pk = _cloud_pc_pk(cloud_pc_id)
    if action != "restart":
        # On PostgreSQL: the same lock order, record and hash in one statement
        # (operate_in_database.py); elsewhere FALLBACK, and the Python path below.
        done = operate_in_one_statement(actor, pk, action, client_ip, timezone.now())
        if done is None:
            return _refuse(actor=actor, cloud_pc=_cloud_pc(pk), action=action, client_ip=client_ip)
        if done is not FALLBACK:
            grant, cloud_pc = done
            return cloud_pc, grant
    with transaction.atomic():
        now = timezone.now()
        # Locking the grant orders this action against a concurrent revoke: either the action
        # commits first, or it sees the revoked state and is refused.
        # A restart locks the Cloud PC too, after the grant and before the chain head.
        found = _lock_open_grant(actor, pk, now, with_head=action != "restart")
        if found is not None:
            grant, cloud_pc, head = found
            details = {"request_id": grant.pk, "action": action, "cloud_pc": cloud_pc.name}
            if action == "restart":
                cloud_pc = CloudPC.objects.select_for_update().get(pk=cloud_pc.pk)
                cloud_pc.status = CloudPC.Status.RUNNING
                cloud_pc.last_restarted_at = now
                cloud_pc.save(update_fields=["status", "last_restarted_at"])
                details["restarted_at"] = now.isoformat()
            audit_record(
                tenant_id=cloud_pc.tenant_id,
                actor=actor,
                record_type=RecordType.LOCKBOX,
                operation=Operation.OPERATOR_ACTION,
                object_type="CloudPC",
                object_id=cloud_pc.pk,
                details=details,
                client_ip=client_ip,
                locked_head=head,
            )
            return cloud_pc, grant
    _refuse(actor=actor, cloud_pc=_cloud_pc(pk), action=action, client_ip=client_ip)
