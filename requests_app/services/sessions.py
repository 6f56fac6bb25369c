"""Access sessions: what an engineer does to a Cloud PC under an approved, open grant.

Every action checks the grant's window against the clock at the moment of the action, so
enforcement never depends on the sweep having run.
"""

from django.db import transaction
from django.utils import timezone

from audit_app.models import Operation, RecordType
from audit_app.services import audit_record, audit_record_failure
from lockbox_site.errors import InvalidInput, NotAllowed, NotFound
from tenants_app.models import CloudPC
from tenants_app.roles import Cap, can

from ..models import AccessRequest

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


def cloud_pc_operate(
    *, actor, cloud_pc_id, action: str, client_ip=None
) -> tuple[CloudPC, AccessRequest]:
    """Perform one action on a Cloud PC under the actor's grant, or refuse and audit the attempt."""
    if action not in ACTIONS:
        raise InvalidInput(f"Unknown action {action!r}.")
    if not can(actor, Cap.REQUEST_ACCESS):
        raise NotAllowed("Only support engineers act on Cloud PCs under a grant.")
    try:
        cloud_pc = CloudPC.objects.get(pk=cloud_pc_id)
    except (CloudPC.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such Cloud PC.") from None
    with transaction.atomic():
        now = timezone.now()
        # Locking the grant orders this action against a concurrent revoke: either the action
        # commits first, or it sees the revoked state and is refused.
        grant = (
            AccessRequest.objects.open_at(now)
            .select_for_update()
            .filter(requester=actor, cloud_pcs=cloud_pc)
            .order_by("-window_ends_at")
            .first()
        )
        if grant is not None:
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
            )
            return cloud_pc, grant
    _refuse(actor=actor, cloud_pc=cloud_pc, action=action, client_ip=client_ip)
