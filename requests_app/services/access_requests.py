"""Creating access requests, and the public names of their transitions (rows of
`transitions.TRANSITIONS`, which views, the API, admin actions and tasks call)."""

from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit_app.models import Operation, RecordType
from audit_app.refusals import refusals_audited
from lockbox_site.errors import InvalidInput, InvalidState, NotAllowed, NotFound
from lockbox_site.ids import as_id, as_int
from tenants_app.models import CloudPC
from tenants_app.roles import Cap, can, require

from ..models import AccessRequest, Ticket
from ..selectors import tickets_for_user
from .common import audit_transition, lock_access_request
from .transitions import TRANSITIONS, Window, apply_transition
from .transitions import _apply as apply_row
from .transitions import _request_of as request_of


def _clean_duration(duration_minutes) -> int:
    if duration_minutes is None or duration_minutes == "":
        return settings.LOCKBOX_DEFAULT_ACCESS_MINUTES
    low, high = settings.LOCKBOX_MIN_ACCESS_MINUTES, settings.LOCKBOX_MAX_ACCESS_MINUTES
    value = as_int(duration_minutes)
    if value is None:
        raise InvalidInput("duration_minutes must be a whole number of minutes.")
    if not low <= value <= high:
        raise InvalidInput(f"duration_minutes must be between {low} and {high}.")
    return value


def _clean_cloud_pcs(ticket: Ticket, cloud_pc_ids) -> list[CloudPC]:
    if not isinstance(cloud_pc_ids, list | tuple) or not cloud_pc_ids:
        raise InvalidInput("Choose at least one Cloud PC.")
    wanted = {as_id(pk) for pk in cloud_pc_ids}
    if None in wanted:
        raise InvalidInput("cloud_pcs must be a list of Cloud PC ids.")
    found = list(CloudPC.objects.filter(tenant_id=ticket.tenant_id, pk__in=wanted))
    missing = sorted(wanted - {pc.pk for pc in found})
    if missing:
        raise InvalidInput(
            f"These Cloud PCs do not belong to {ticket.tenant.name}: {missing}.",
            {"cloud_pcs": missing},
        )
    return sorted(found, key=lambda pc: pc.pk)


@transaction.atomic
def access_request_create(
    *,
    actor,
    ticket_id,
    cloud_pc_ids,
    reason,
    duration_minutes=None,
    reason_type=AccessRequest.ReasonType.CUSTOMER_INITIATED_SUPPORT,
    client_ip=None,
) -> AccessRequest:
    require(actor, Cap.REQUEST_ACCESS, "Only support engineers can request access.")
    try:
        ticket = tickets_for_user(actor).select_related(None).select_for_update().get(pk=ticket_id)
    except (Ticket.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such ticket.") from None
    if ticket.status != Ticket.Status.OPEN:
        raise InvalidState("This ticket is completed; open a new ticket to request access.")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("Give a reason for the access.", {"reason": ["This field is required."]})
    if len(reason) > 4000:
        raise InvalidInput("reason must be at most 4000 characters.")
    if reason_type not in AccessRequest.ReasonType.values:
        choices = ", ".join(AccessRequest.ReasonType.values)
        raise InvalidInput(
            f"reason_type must be one of {choices}.", {"reason_type": [f"One of {choices}."]}
        )
    duration = _clean_duration(duration_minutes)
    cloud_pcs = _clean_cloud_pcs(ticket, cloud_pc_ids)
    now = timezone.now()
    access_request = AccessRequest.objects.create(
        ticket=ticket,
        tenant_id=ticket.tenant_id,
        requester=actor,
        reason=reason.strip(),
        reason_type=reason_type,
        duration_minutes=duration,
        created_at=now,
        expires_at=now + timedelta(minutes=settings.LOCKBOX_PENDING_TTL_MINUTES),
    )
    access_request.cloud_pcs.set(cloud_pcs)
    audit_transition(
        access_request,
        actor=actor,
        operation=Operation.REQUEST_CREATED,
        client_ip=client_ip,
        reason=access_request.reason,
        reason_type=access_request.reason_type,
        duration_minutes=duration,
        cloud_pcs=[{"id": pc.pk, "name": pc.name} for pc in cloud_pcs],
        expires_at=access_request.expires_at.isoformat(),
    )
    return access_request


def access_request_internal_approve(
    *, actor, access_request_id, comment="", client_ip=None
) -> AccessRequest:
    """The Support Manager's approval; where the tenant has Lockbox off, the system approves
    in the customer's place at once."""
    return apply_transition(
        "internal_approve",
        actor=actor,
        access_request_id=access_request_id,
        comment=comment,
        client_ip=client_ip,
    )


def access_request_internal_deny(
    *, actor, access_request_id, comment="", client_ip=None
) -> AccessRequest:
    return apply_transition(
        "internal_deny",
        actor=actor,
        access_request_id=access_request_id,
        comment=comment,
        client_ip=client_ip,
    )


def access_request_approve(
    *, actor, access_request_id, comment="", client_ip=None, window_ends_at=None, channel=None
) -> AccessRequest:
    """The customer's approval. `window_ends_at` (Google's expireTime) shortens the window:
    it opens now and ends then, which must be after now and at most the requested duration
    from now. `channel` names the surface in the audit record (e.g. "access-approval-v1")."""
    kwargs = {"actor": actor, "access_request_id": access_request_id, "comment": comment}
    kwargs.update(client_ip=client_ip, **_channel(channel))
    if window_ends_at is None:
        return apply_transition("approve", **kwargs)
    return refusals_audited(
        operation=Operation.REQUEST_APPROVED,
        object_type="AccessRequest",
        locate=request_of,
        record_type=RecordType.LOCKBOX,
    )(_approve_until)(window_ends_at=window_ends_at, **kwargs)


@transaction.atomic
def _approve_until(*, actor, access_request_id, window_ends_at, **kwargs) -> AccessRequest:
    """The `approve` row itself, with the window set first: under the row lock and in the
    row's transaction, so a refusal (403/409) rolls the window back with everything else."""
    access_request = lock_access_request(access_request_id, actor)
    now = timezone.now()
    if not now < window_ends_at <= now + timedelta(minutes=access_request.duration_minutes):
        raise InvalidInput(
            "The window must end after now and at most the requested duration from now.",
            {"window_ends_at": window_ends_at.isoformat()},
        )
    AccessRequest.objects.filter(pk=access_request.pk).update(
        window_starts_at=now, window_ends_at=window_ends_at
    )
    row = replace(TRANSITIONS["approve"], window=Window.UNCHANGED)
    return apply_row(row=row, actor=actor, access_request_id=access_request_id, now=now, **kwargs)


def _channel(channel) -> dict:
    return {"channel": channel} if channel else {}


def access_request_deny(
    *, actor, access_request_id, comment="", client_ip=None, channel=None
) -> AccessRequest:
    return apply_transition(
        "deny",
        actor=actor,
        access_request_id=access_request_id,
        comment=comment,
        client_ip=client_ip,
        **_channel(channel),
    )


def access_request_cancel(*, actor, access_request_id, comment="", client_ip=None) -> AccessRequest:
    return apply_transition(
        "cancel",
        actor=actor,
        access_request_id=access_request_id,
        comment=comment,
        client_ip=client_ip,
    )


def access_request_revoke(
    *, actor, access_request_id, comment="", client_ip=None, channel=None
) -> AccessRequest:
    return apply_transition(
        "revoke",
        actor=actor,
        access_request_id=access_request_id,
        comment=comment,
        client_ip=client_ip,
        **_channel(channel),
    )


def access_request_decide(*, actor, access_request_id, approve: bool, comment="", client_ip=None):
    """Approve or deny at the stage the actor's role owns: manager internal, customer final."""
    kwargs = {
        "actor": actor,
        "access_request_id": access_request_id,
        "comment": comment,
        "client_ip": client_ip,
    }
    action = "approve" if approve else "deny"
    for name, row in TRANSITIONS.items():
        if row.action == action and row.capability is not None and can(actor, row.capability):
            return apply_transition(name, **kwargs)
    # Run the lookup first so that a request the actor cannot see stays a 404.
    with transaction.atomic():
        lock_access_request(access_request_id, actor)
    raise NotAllowed("You cannot decide on access requests.")
