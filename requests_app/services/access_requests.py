"""Creating access requests, and the public names of their transitions (rows of
`transitions.TRANSITIONS`, which views, the API, admin actions and tasks call)."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit_app.models import Operation, RecordType
from audit_app.refusals import refusals_audited
from lockbox_site.errors import InvalidInput, InvalidState, NotAllowed, NotFound
from lockbox_site.ids import as_id, as_int
from tenants_app.models import CloudPC
from tenants_app.policy import tenant_policy
from tenants_app.roles import Cap, can, require

from ..models import AccessRequest, Ticket
from ..selectors import tickets_for_user
from .common import audit_transition, lock_access_request
from .transition_table import EXTEND, TRANSITIONS
from .transitions import apply_transition, refusal_of, request_of

SCHEDULE_AHEAD = timedelta(days=7)


def _clean_duration(duration_minutes, policy) -> int:
    """Within the deployment's bounds and the tenant's longest access (SPEC 9)."""
    low = settings.LOCKBOX_MIN_ACCESS_MINUTES
    high = min(settings.LOCKBOX_MAX_ACCESS_MINUTES, policy.max_access_minutes)
    if duration_minutes is None or duration_minutes == "":
        return min(settings.LOCKBOX_DEFAULT_ACCESS_MINUTES, high)
    value = as_int(duration_minutes)
    if value is None:
        raise InvalidInput("duration_minutes must be a whole number of minutes.")
    if not low <= value <= high:
        message = f"duration_minutes must be between {low} and {high}."
        if value > high and high < settings.LOCKBOX_MAX_ACCESS_MINUTES:
            message = f"{message[:-1]}: the customer's policy allows at most {high} minutes."
        raise InvalidInput(message, {"duration_minutes": [message]})
    return value


def _clean_starts_at(starts_at, now):
    """SPEC 10: a scheduled start from now to 7 days ahead (a moment just past counts as now)."""
    if starts_at is None or starts_at == "":
        return None
    if isinstance(starts_at, str):
        starts_at = parse_datetime(starts_at.strip())
    if not isinstance(starts_at, datetime):
        message = "starts_at must be an ISO 8601 date and time (UTC unless it names a zone)."
        raise InvalidInput(message, {"starts_at": [message]})
    if timezone.is_naive(starts_at):  # as the API's and the form's fields read it
        starts_at = timezone.make_aware(starts_at, UTC)
    if starts_at < now - timedelta(minutes=5) or starts_at > now + SCHEDULE_AHEAD:
        message = "starts_at must be from now to 7 days ahead."
        raise InvalidInput(message, {"starts_at": [message]})
    return max(starts_at, now)


def _clean_reason(reason, reason_type) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("Give a reason for the access.", {"reason": ["This field is required."]})
    if len(reason) > 4000:
        raise InvalidInput("reason must be at most 4000 characters.")
    if reason_type not in AccessRequest.ReasonType.values:
        choices = ", ".join(AccessRequest.ReasonType.values)
        raise InvalidInput(
            f"reason_type must be one of {choices}.", {"reason_type": [f"One of {choices}."]}
        )
    return reason.strip()


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
    starts_at=None,
    client_ip=None,
) -> AccessRequest:
    require(actor, Cap.REQUEST_ACCESS, "Only support engineers can request access.")
    try:
        ticket = tickets_for_user(actor).select_related(None).select_for_update().get(pk=ticket_id)
    except (Ticket.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such ticket.") from None
    if ticket.status != Ticket.Status.OPEN:
        raise InvalidState("This ticket is completed; open a new ticket to request access.")
    reason = _clean_reason(reason, reason_type)
    now = timezone.now()
    policy = tenant_policy(ticket.tenant)
    duration = _clean_duration(duration_minutes, policy)
    starts_at = _clean_starts_at(starts_at, now)
    cloud_pcs = _clean_cloud_pcs(ticket, cloud_pc_ids)
    return _create(
        ticket=ticket,
        actor=actor,
        cloud_pcs=cloud_pcs,
        reason=reason,
        reason_type=reason_type,
        duration=duration,
        starts_at=starts_at,
        policy=policy,
        now=now,
        client_ip=client_ip,
    )


def _create(
    *,
    ticket,
    actor,
    cloud_pcs,
    reason,
    reason_type,
    duration,
    starts_at,
    policy,
    now,
    client_ip,
    extends=None,
) -> AccessRequest:
    access_request = AccessRequest.objects.create(
        ticket=ticket,
        tenant_id=ticket.tenant_id,
        requester=actor,
        reason=reason,
        reason_type=reason_type,
        duration_minutes=duration,
        starts_at=starts_at,
        extends=extends,
        approvals_required=policy.required_approvals,
        created_at=now,
        expires_at=now + timedelta(hours=policy.pending_ttl_hours),
    )
    access_request.cloud_pcs.set(cloud_pcs)
    scheduled = {"starts_at": starts_at.isoformat()} if starts_at else {}
    if extends is not None:
        scheduled["extends"] = extends.pk
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
        approvals_required=access_request.approvals_required,
        **scheduled,
    )
    return access_request


@refusals_audited(
    operation=Operation.REQUEST_CREATED,
    object_type="AccessRequest",
    locate=request_of,
    record_type=RecordType.LOCKBOX,
)
@transaction.atomic
def access_request_extend(
    *, actor, access_request_id, reason, duration_minutes=None, client_ip=None
) -> AccessRequest:
    """SPEC 10: more time without starting over. A new request for the same ticket and Cloud
    PCs, starting where the current window ends; it goes through the same approvals.

    The current request's row is locked first, as a revocation locks it, so an extension and a
    revocation of the same request never cross: one of them sees the other's result.
    """
    parent = lock_access_request(access_request_id, actor)
    now = timezone.now()
    refusal = refusal_of(EXTEND, actor, parent, now)
    if refusal is not None:
        raise refusal
    if parent.ticket.status != Ticket.Status.OPEN:
        raise InvalidState("This ticket is completed; open a new ticket to request access.")
    current = parent.extensions.filter(status__in=AccessRequest.OPEN).order_by("pk").first()
    if current is not None and current.is_pending:
        raise InvalidState("An extension of this request is already waiting for approval.")
    if current is not None:
        # Both would start where this window ends: extend the extension once it is open.
        raise InvalidState(
            f"This request already has an approved extension (request {current.pk}); "
            "extend that one once its window is open."
        )
    reason = _clean_reason(reason, parent.reason_type)
    policy = tenant_policy(parent.tenant)
    return _create(
        ticket=parent.ticket,
        actor=actor,
        cloud_pcs=list(parent.cloud_pcs.order_by("pk")),
        reason=reason,
        reason_type=parent.reason_type,
        duration=_clean_duration(duration_minutes, policy),
        starts_at=parent.window_ends_at,
        policy=policy,
        now=now,
        client_ip=client_ip,
        extends=parent,
    )


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
    *, actor, access_request_id, comment="", duration_minutes=None, client_ip=None, channel=None
) -> AccessRequest:
    """A customer approval: the last of the tenant's quorum approves (SPEC 10); each may
    shorten the window. `channel` names the surface in the audit record (e.g.
    "access-approval-v1", the Google-compatible API)."""
    return apply_transition(
        "approve",
        actor=actor,
        access_request_id=access_request_id,
        comment=comment,
        duration_minutes=duration_minutes,
        client_ip=client_ip,
        **_channel(channel),
    )


def _channel(channel) -> dict:
    return {"channel": channel} if channel else {}


def access_request_request_info(
    *, actor, access_request_id, question, client_ip=None
) -> AccessRequest:
    """A customer approver asks the engineer a question; the deadline stops until the answer."""
    return apply_transition(
        "request_info",
        actor=actor,
        access_request_id=access_request_id,
        text=question,
        client_ip=client_ip,
    )


def access_request_answer(*, actor, access_request_id, answer, client_ip=None) -> AccessRequest:
    """The engineer answers; the request waits for the customer again with the time left."""
    return apply_transition(
        "answer",
        actor=actor,
        access_request_id=access_request_id,
        text=answer,
        client_ip=client_ip,
    )


def access_request_emergency_approve(
    *, actor, access_request_id, comment="", client_ip=None
) -> AccessRequest:
    """Break-glass (SPEC 10): a Support Manager approves at once where the tenant allows it."""
    return apply_transition(
        "emergency_approve",
        actor=actor,
        access_request_id=access_request_id,
        comment=comment,
        client_ip=client_ip,
    )


REVIEW_OUTCOMES = {"accepted": "review_accept", "disputed": "review_dispute"}


def access_request_review(
    *, actor, access_request_id, outcome, comment="", client_ip=None
) -> AccessRequest:
    """The customer's review of an emergency access: accepted or disputed."""
    if outcome not in REVIEW_OUTCOMES:
        message = "outcome must be accepted or disputed."
        raise InvalidInput(message, {"outcome": [message]})
    return apply_transition(
        REVIEW_OUTCOMES[outcome],
        actor=actor,
        access_request_id=access_request_id,
        comment=comment,
        client_ip=client_ip,
    )


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


def access_request_decide(
    *, actor, access_request_id, approve: bool, comment="", duration_minutes=None, client_ip=None
):
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
            if row.quorum:
                kwargs["duration_minutes"] = duration_minutes
            elif duration_minutes is not None:
                message = "Only a customer approval can shorten the window."
                raise InvalidInput(message, {"duration_minutes": [message]})
            return apply_transition(name, **kwargs)
    operation = Operation.REQUEST_APPROVED if approve else Operation.REQUEST_DENIED
    refused = refusals_audited(
        operation=operation,
        object_type="AccessRequest",
        locate=request_of,
        record_type=RecordType.LOCKBOX,
    )(_refuse_decision)
    refused(actor=actor, access_request_id=access_request_id, client_ip=client_ip)


@transaction.atomic
def _refuse_decision(*, actor, access_request_id, client_ip=None):
    """Neither stage is the actor's: a 403 (audited, SPEC 4), after the lookup so that a request
    the actor cannot see stays a 404."""
    lock_access_request(access_request_id, actor)
    raise NotAllowed("You cannot decide on access requests.")
