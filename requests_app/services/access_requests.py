"""The access-request state machine: one function per transition (SPEC section 2)."""

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

from ..models import AccessRequest, Decision, Ticket
from ..selectors import tickets_for_user
from .common import (
    audit_transition,
    clean_comment,
    lock_access_request,
    record_decision,
    require_not_overdue,
    require_status,
)
from .notifications import notify_approvers, notify_requester

Status = AccessRequest.Status


def _request_of(kwargs):
    access_request_id = as_id(kwargs["access_request_id"])
    tenant_id = (
        AccessRequest.objects.filter(pk=access_request_id)
        .values_list("tenant_id", flat=True)
        .first()
    )
    if tenant_id is None:
        return None
    return tenant_id, access_request_id, {"request_id": access_request_id}


def _refusals_audited(operation):
    """A refused decision is audited in the request's tenant (SPEC 4: every attempt is seen)."""
    return refusals_audited(
        operation=operation,
        object_type="AccessRequest",
        locate=_request_of,
        record_type=RecordType.LOCKBOX,
    )


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
    *, actor, ticket_id, cloud_pc_ids, reason, duration_minutes=None, client_ip=None
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
    duration = _clean_duration(duration_minutes)
    cloud_pcs = _clean_cloud_pcs(ticket, cloud_pc_ids)
    now = timezone.now()
    access_request = AccessRequest.objects.create(
        ticket=ticket,
        tenant_id=ticket.tenant_id,
        requester=actor,
        reason=reason.strip(),
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
        duration_minutes=duration,
        cloud_pcs=[{"id": pc.pk, "name": pc.name} for pc in cloud_pcs],
        expires_at=access_request.expires_at.isoformat(),
    )
    return access_request


def _open_window(access_request: AccessRequest, now) -> None:
    access_request.status = Status.APPROVED
    access_request.window_starts_at = now
    access_request.window_ends_at = now + timedelta(minutes=access_request.duration_minutes)


@_refusals_audited(Operation.REQUEST_INTERNALLY_APPROVED)
@transaction.atomic
def access_request_internal_approve(
    *, actor, access_request_id, comment="", client_ip=None
) -> AccessRequest:
    comment = clean_comment(comment)
    access_request = lock_access_request(access_request_id, actor)
    require(actor, Cap.DECIDE_INTERNALLY, "Only a support manager can approve internally.")
    if access_request.requester_id == actor.pk:
        raise NotAllowed("You cannot approve a request you created.")
    require_status(access_request, Status.PENDING_INTERNAL, action="approve internally")
    now = timezone.now()
    require_not_overdue(access_request, now)
    decision = record_decision(
        access_request,
        stage=Decision.Stage.INTERNAL,
        outcome=Decision.Outcome.APPROVED,
        actor=actor,
        comment=comment,
        now=now,
    )
    access_request.reached_customer_at = now
    # Read in the locking query: the setting as it stands at this decision.
    if access_request.tenant.lockbox_enabled:
        access_request.status = Status.PENDING_CUSTOMER
    else:
        _open_window(access_request, now)
        access_request.auto_approved = True
    access_request.save(
        update_fields=[
            "status",
            "window_starts_at",
            "window_ends_at",
            "auto_approved",
            "reached_customer_at",
        ]
    )
    audit_transition(
        access_request,
        decision=decision,
        actor=actor,
        operation=Operation.REQUEST_INTERNALLY_APPROVED,
        client_ip=client_ip,
        comment=comment,
    )
    if access_request.auto_approved:
        decision = record_decision(
            access_request,
            stage=Decision.Stage.CUSTOMER,
            outcome=Decision.Outcome.APPROVED,
            actor=None,
            automatic=True,
            now=now,
        )
        audit_transition(
            access_request,
            decision=decision,
            actor=None,
            operation=Operation.REQUEST_AUTO_APPROVED,
            auto_approved=True,
            reason="Customer Lockbox is off for this tenant",
            window_starts_at=access_request.window_starts_at.isoformat(),
            window_ends_at=access_request.window_ends_at.isoformat(),
        )
        notify_requester(access_request, "approved automatically")
    else:
        notify_approvers(access_request)
    return access_request


@_refusals_audited(Operation.REQUEST_INTERNALLY_DENIED)
@transaction.atomic
def access_request_internal_deny(
    *, actor, access_request_id, comment="", client_ip=None
) -> AccessRequest:
    comment = clean_comment(comment)
    access_request = lock_access_request(access_request_id, actor)
    require(actor, Cap.DECIDE_INTERNALLY, "Only a support manager can deny internally.")
    if access_request.requester_id == actor.pk:
        raise NotAllowed("You cannot decide on a request you created.")
    require_status(access_request, Status.PENDING_INTERNAL, action="deny internally")
    now = timezone.now()
    require_not_overdue(access_request, now)
    access_request.status = Status.DENIED
    access_request.closed_at = now
    access_request.save(update_fields=["status", "closed_at"])
    decision = record_decision(
        access_request,
        stage=Decision.Stage.INTERNAL,
        outcome=Decision.Outcome.DENIED,
        actor=actor,
        comment=comment,
        now=now,
    )
    audit_transition(
        access_request,
        decision=decision,
        actor=actor,
        operation=Operation.REQUEST_INTERNALLY_DENIED,
        client_ip=client_ip,
        comment=comment,
    )
    notify_requester(access_request, "denied by your manager")
    return access_request


@_refusals_audited(Operation.REQUEST_APPROVED)
@transaction.atomic
def access_request_approve(
    *, actor, access_request_id, comment="", client_ip=None
) -> AccessRequest:
    comment = clean_comment(comment)
    access_request = lock_access_request(access_request_id, actor)
    require(actor, Cap.DECIDE_REQUESTS, "Only a Customer Lockbox approver can approve requests.")
    if access_request.requester_id == actor.pk:
        raise NotAllowed("You cannot approve a request you created.")
    require_status(access_request, Status.PENDING_CUSTOMER, action="approve")
    now = timezone.now()
    require_not_overdue(access_request, now)
    _open_window(access_request, now)
    access_request.save(update_fields=["status", "window_starts_at", "window_ends_at"])
    decision = record_decision(
        access_request,
        stage=Decision.Stage.CUSTOMER,
        outcome=Decision.Outcome.APPROVED,
        actor=actor,
        comment=comment,
        now=now,
    )
    audit_transition(
        access_request,
        decision=decision,
        actor=actor,
        operation=Operation.REQUEST_APPROVED,
        client_ip=client_ip,
        comment=comment,
        window_starts_at=access_request.window_starts_at.isoformat(),
        window_ends_at=access_request.window_ends_at.isoformat(),
    )
    notify_requester(access_request, "approved")
    return access_request


@_refusals_audited(Operation.REQUEST_DENIED)
@transaction.atomic
def access_request_deny(*, actor, access_request_id, comment="", client_ip=None) -> AccessRequest:
    comment = clean_comment(comment)
    access_request = lock_access_request(access_request_id, actor)
    require(actor, Cap.DECIDE_REQUESTS, "Only a Customer Lockbox approver can deny requests.")
    require_status(access_request, Status.PENDING_CUSTOMER, action="deny")
    now = timezone.now()
    require_not_overdue(access_request, now)
    access_request.status = Status.DENIED
    access_request.closed_at = now
    access_request.save(update_fields=["status", "closed_at"])
    decision = record_decision(
        access_request,
        stage=Decision.Stage.CUSTOMER,
        outcome=Decision.Outcome.DENIED,
        actor=actor,
        comment=comment,
        now=now,
    )
    audit_transition(
        access_request,
        decision=decision,
        actor=actor,
        operation=Operation.REQUEST_DENIED,
        client_ip=client_ip,
        comment=comment,
    )
    notify_requester(access_request, "denied")
    return access_request


@_refusals_audited(Operation.REQUEST_CANCELLED)
@transaction.atomic
def access_request_cancel(*, actor, access_request_id, comment="", client_ip=None) -> AccessRequest:
    comment = clean_comment(comment)
    access_request = lock_access_request(access_request_id, actor)
    if access_request.requester_id != actor.pk:
        raise NotAllowed("Only the engineer who created a request can cancel it.")
    require_status(access_request, *AccessRequest.PENDING, action="cancel")
    now = timezone.now()
    require_not_overdue(access_request, now)
    access_request.status = Status.CANCELLED
    access_request.closed_at = now
    access_request.save(update_fields=["status", "closed_at"])
    decision = record_decision(
        access_request,
        stage=Decision.Stage.CANCELLATION,
        outcome=Decision.Outcome.CANCELLED,
        actor=actor,
        comment=comment,
        now=now,
    )
    audit_transition(
        access_request,
        decision=decision,
        actor=actor,
        operation=Operation.REQUEST_CANCELLED,
        client_ip=client_ip,
        comment=comment,
    )
    notify_requester(access_request, "cancelled")
    return access_request


@_refusals_audited(Operation.ACCESS_REVOKED)
@transaction.atomic
def access_request_revoke(*, actor, access_request_id, comment="", client_ip=None) -> AccessRequest:
    comment = clean_comment(comment)
    access_request = lock_access_request(access_request_id, actor)
    require(actor, Cap.DECIDE_REQUESTS, "Only a Customer Lockbox approver can revoke access.")
    require_status(access_request, Status.APPROVED, action="revoke")
    now = timezone.now()
    if not access_request.window_open_at(now):
        raise InvalidState("This access window has already ended.", {"status": "completed"})
    access_request.status = Status.REVOKED
    access_request.window_ends_at = now
    access_request.closed_at = now
    access_request.save(update_fields=["status", "window_ends_at", "closed_at"])
    decision = record_decision(
        access_request,
        stage=Decision.Stage.REVOCATION,
        outcome=Decision.Outcome.REVOKED,
        actor=actor,
        comment=comment,
        now=now,
    )
    audit_transition(
        access_request,
        decision=decision,
        actor=actor,
        operation=Operation.ACCESS_REVOKED,
        client_ip=client_ip,
        comment=comment,
    )
    notify_requester(access_request, "revoked")
    return access_request


def access_request_decide(*, actor, access_request_id, approve: bool, comment="", client_ip=None):
    """Approve or deny at the stage the actor's role owns: manager internal, customer final."""
    kwargs = {
        "actor": actor,
        "access_request_id": access_request_id,
        "comment": comment,
        "client_ip": client_ip,
    }
    if can(actor, Cap.DECIDE_INTERNALLY):
        service = access_request_internal_approve if approve else access_request_internal_deny
    elif can(actor, Cap.DECIDE_REQUESTS):
        service = access_request_approve if approve else access_request_deny
    else:
        # Run the lookup first so that a request the actor cannot see stays a 404.
        with transaction.atomic():
            lock_access_request(access_request_id, actor)
        raise NotAllowed("You cannot decide on access requests.")
    return service(**kwargs)
