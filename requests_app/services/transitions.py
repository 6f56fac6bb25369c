"""The access-request state machine as one table (SPEC section 2).

Each row says who may move a request, from which states and under which condition, to which
state, and what that writes (window, decision, audit record) and tells. `apply_transition`
applies a row; `allowed_actions` reads the same rows, so a button or API link is offered exactly
when pressing it would succeed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from django.db import transaction
from django.utils import timezone

from audit_app.models import Operation, RecordType
from audit_app.refusals import refusals_audited
from lockbox_site.errors import ApplicationError, InvalidState, NotAllowed
from lockbox_site.ids import as_id
from tenants_app.mfa import step_up_refusal
from tenants_app.roles import Cap, can

from ..models import AccessRequest, Decision
from .common import audit_transition, clean_comment, lock_access_request, record_decision
from .notifications import notify_approvers, notify_requester

Status = AccessRequest.Status
Stage, Outcome = Decision.Stage, Decision.Outcome


class Who(StrEnum):
    CAPABLE = "capable"  # whoever holds the row's capability
    NOT_REQUESTER = "not_requester"  # ... except the engineer who created the request
    REQUESTER = "requester"  # only the engineer who created the request
    UNCHECKED = "unchecked"  # the caller decided (a sweep, a closing ticket): never a button


class When(StrEnum):
    ANY_TIME = "any_time"
    BEFORE_DEADLINE = "before_deadline"  # the sweep expires it within seconds; until then it holds
    WINDOW_OPEN = "window_open"
    PAST_DEADLINE = "past_deadline"
    WINDOW_ENDED = "window_ended"


class Window(StrEnum):
    UNCHANGED = "unchanged"
    OPEN = "open"  # from now, for the requested duration
    END_NOW = "end_now"  # never later than it was


@dataclass(frozen=True, kw_only=True)
class Rule:
    """Who may act on a request, in which states, and when."""

    states: tuple[str, ...]
    who: Who
    capability: Cap | None = None
    refusal: str = ""  # the 403 for an actor who is not `who`
    self_refusal: str = ""  # the 403 for the requester deciding on its own request
    when: When = When.ANY_TIME
    verb: str = ""  # "Cannot {verb} a request that is ..."


@dataclass(frozen=True, kw_only=True)
class Transition(Rule):
    name: str
    action: str | None  # the API's and the page's name for it; None for system rows
    to_state: str
    operation: Operation
    window: Window = Window.UNCHANGED
    reaches_customer: bool = False  # from here on the customer sees the request (SPEC 8)
    decision: tuple[Stage, Outcome] | None = None
    automatic: bool = False  # taken by the system in the customer's place
    details: Callable[[AccessRequest, str], dict] | None = None  # (request, previous status)
    tell_requester: str = ""  # "... is now {tell_requester}"
    tell_approvers: bool = False
    lockbox_off: str = ""  # the row applied at once, as the system, where Lockbox is off


def _window(access_request, previous) -> dict:
    return {
        "window_starts_at": access_request.window_starts_at.isoformat(),
        "window_ends_at": access_request.window_ends_at.isoformat(),
    }


def _auto_approval(access_request, previous) -> dict:
    return {
        "auto_approved": True,
        "reason": "Customer Lockbox is off for this tenant",
        **_window(access_request, previous),
    }


def _deadline(access_request, previous) -> dict:
    return {"previous_status": previous, "expires_at": access_request.expires_at.isoformat()}


def _window_end(access_request, previous) -> dict:
    return {"window_ends_at": access_request.window_ends_at.isoformat()}


TRANSITIONS: dict[str, Transition] = {
    row.name: row
    for row in (
        Transition(
            name="internal_approve",
            action="approve",
            states=(Status.PENDING_INTERNAL,),
            who=Who.NOT_REQUESTER,
            capability=Cap.DECIDE_INTERNALLY,
            refusal="Only a support manager can approve internally.",
            self_refusal="You cannot approve a request you created.",
            when=When.BEFORE_DEADLINE,
            verb="approve internally",
            to_state=Status.PENDING_CUSTOMER,
            reaches_customer=True,
            decision=(Stage.INTERNAL, Outcome.APPROVED),
            operation=Operation.REQUEST_INTERNALLY_APPROVED,
            tell_approvers=True,
            lockbox_off="auto_approve",
        ),
        Transition(
            name="internal_deny",
            action="deny",
            states=(Status.PENDING_INTERNAL,),
            who=Who.NOT_REQUESTER,
            capability=Cap.DECIDE_INTERNALLY,
            refusal="Only a support manager can deny internally.",
            self_refusal="You cannot decide on a request you created.",
            when=When.BEFORE_DEADLINE,
            verb="deny internally",
            to_state=Status.DENIED,
            decision=(Stage.INTERNAL, Outcome.DENIED),
            operation=Operation.REQUEST_INTERNALLY_DENIED,
            tell_requester="denied by your manager",
        ),
        Transition(
            name="approve",
            action="approve",
            states=(Status.PENDING_CUSTOMER,),
            who=Who.NOT_REQUESTER,
            capability=Cap.DECIDE_REQUESTS,
            refusal="Only a Customer Lockbox approver can approve requests.",
            self_refusal="You cannot approve a request you created.",
            when=When.BEFORE_DEADLINE,
            verb="approve",
            to_state=Status.APPROVED,
            window=Window.OPEN,
            decision=(Stage.CUSTOMER, Outcome.APPROVED),
            operation=Operation.REQUEST_APPROVED,
            details=_window,
            tell_requester="approved",
        ),
        Transition(
            name="auto_approve",
            action=None,
            states=(Status.PENDING_CUSTOMER,),
            who=Who.UNCHECKED,
            to_state=Status.APPROVED,
            window=Window.OPEN,
            decision=(Stage.CUSTOMER, Outcome.APPROVED),
            automatic=True,
            operation=Operation.REQUEST_AUTO_APPROVED,
            details=_auto_approval,
            tell_requester="approved automatically",
        ),
        Transition(
            name="deny",
            action="deny",
            states=(Status.PENDING_CUSTOMER,),
            who=Who.CAPABLE,
            capability=Cap.DECIDE_REQUESTS,
            refusal="Only a Customer Lockbox approver can deny requests.",
            when=When.BEFORE_DEADLINE,
            verb="deny",
            to_state=Status.DENIED,
            decision=(Stage.CUSTOMER, Outcome.DENIED),
            operation=Operation.REQUEST_DENIED,
            tell_requester="denied",
        ),
        Transition(
            name="cancel",
            action="cancel",
            states=AccessRequest.PENDING,
            who=Who.REQUESTER,
            refusal="Only the engineer who created a request can cancel it.",
            when=When.BEFORE_DEADLINE,
            verb="cancel",
            to_state=Status.CANCELLED,
            decision=(Stage.CANCELLATION, Outcome.CANCELLED),
            operation=Operation.REQUEST_CANCELLED,
            tell_requester="cancelled",
        ),
        Transition(
            name="revoke",
            action="revoke",
            states=(Status.APPROVED,),
            who=Who.CAPABLE,
            capability=Cap.DECIDE_REQUESTS,
            refusal="Only a Customer Lockbox approver can revoke access.",
            when=When.WINDOW_OPEN,
            verb="revoke",
            to_state=Status.REVOKED,
            window=Window.END_NOW,
            decision=(Stage.REVOCATION, Outcome.REVOKED),
            operation=Operation.ACCESS_REVOKED,
            tell_requester="revoked",
        ),
        Transition(
            name="expire",
            action=None,
            states=AccessRequest.PENDING,
            who=Who.UNCHECKED,
            when=When.PAST_DEADLINE,
            verb="expire",
            to_state=Status.EXPIRED,
            operation=Operation.REQUEST_EXPIRED,
            details=_deadline,
            tell_requester="expired without a decision",
        ),
        Transition(
            name="complete",
            action=None,
            states=(Status.APPROVED,),
            who=Who.UNCHECKED,
            when=When.WINDOW_ENDED,
            verb="complete",
            to_state=Status.COMPLETED,
            operation=Operation.ACCESS_EXPIRED,
            details=_window_end,
        ),
        # Closing a ticket ends its requests (the caller checked who may close the ticket).
        Transition(
            name="close_pending",
            action=None,
            states=AccessRequest.PENDING,
            who=Who.UNCHECKED,
            verb="cancel",
            to_state=Status.CANCELLED,
            decision=(Stage.CANCELLATION, Outcome.CANCELLED),
            operation=Operation.REQUEST_CANCELLED,
            tell_requester="cancelled because the ticket was closed",
        ),
        Transition(
            name="close_approved",
            action=None,
            states=(Status.APPROVED,),
            who=Who.UNCHECKED,
            verb="complete",
            to_state=Status.COMPLETED,
            window=Window.END_NOW,
            operation=Operation.ACCESS_EXPIRED,
        ),
    )
}

# Not a change of state: acting on the request's Cloud PCs under its grant.
OPERATE = Rule(states=(Status.APPROVED,), who=Who.REQUESTER, when=When.WINDOW_OPEN)

ACTIONS = ("approve", "deny", "cancel", "revoke", "operate")

# SPEC 14: the customer's decisions that its tenant may require a fresh second factor for.
STEP_UP_ROWS = frozenset({"approve", "deny", "revoke", "review"})


def _guard_refusal(when: When, access_request: AccessRequest, now) -> ApplicationError | None:
    if when == When.BEFORE_DEADLINE and access_request.expires_at <= now:
        return InvalidState(
            "This request expired before a decision was made.", {"status": "expired"}
        )
    if when == When.WINDOW_OPEN and not access_request.window_open_at(now):
        return InvalidState("This access window has already ended.", {"status": "completed"})
    if when == When.PAST_DEADLINE and access_request.expires_at > now:
        return InvalidState("This request is not past its decision deadline yet.")
    if when == When.WINDOW_ENDED and access_request.window_ends_at > now:
        return InvalidState("This access window has not ended yet.")
    return None


def refusal_of(rule: Rule, actor, access_request: AccessRequest, now) -> ApplicationError | None:
    """Why `actor` may not apply `rule` now (403 before 409), or None if it may."""
    if rule.capability is not None and not can(actor, rule.capability):
        return NotAllowed(rule.refusal)
    is_requester = actor is not None and access_request.requester_id == actor.pk
    if rule.who == Who.NOT_REQUESTER and is_requester:
        return NotAllowed(rule.self_refusal)
    if rule.who == Who.REQUESTER and not is_requester:
        return NotAllowed(rule.refusal)
    if access_request.status not in rule.states:
        return InvalidState(
            f"Cannot {rule.verb} a request that is {access_request.get_status_display().lower()}.",
            {"status": access_request.status},
        )
    return _guard_refusal(rule.when, access_request, now)


def allowed_actions(actor, access_request: AccessRequest, now) -> set[str]:
    """What `actor` may do now with a request it can see (one from access_requests_for_user;
    a request it cannot see allows nothing: every action on it is a 404)."""
    allowed = {
        row.action
        for row in TRANSITIONS.values()
        if row.who != Who.UNCHECKED and refusal_of(row, actor, access_request, now) is None
    }
    if refusal_of(OPERATE, actor, access_request, now) is None:
        allowed.add("operate")
    return allowed


def _change(access_request: AccessRequest, row: Transition, now) -> None:
    access_request.status = row.to_state
    if row.window == Window.OPEN:
        access_request.window_starts_at = now
        access_request.window_ends_at = now + timedelta(minutes=access_request.duration_minutes)
    elif row.window == Window.END_NOW:
        access_request.window_ends_at = min(access_request.window_ends_at, now)
    if row.to_state not in AccessRequest.OPEN:
        access_request.closed_at = now
    if row.reaches_customer:
        access_request.reached_customer_at = now
    if row.automatic:
        access_request.auto_approved = True


def _record(row: Transition, access_request, *, actor, comment, now, client_ip, previous, extra):
    """Sign and save the row's decision, then its audit record (which carries the signature)."""
    decision = None
    if row.decision is not None:
        stage, outcome = row.decision
        decision = record_decision(
            access_request,
            stage=stage,
            outcome=outcome,
            actor=actor,
            comment=comment,
            automatic=row.automatic,
            now=now,
        )
    details = {} if row.who == Who.UNCHECKED else {"comment": comment}
    if row.details is not None:
        details.update(row.details(access_request, previous))
    audit_transition(
        access_request,
        decision=decision,
        actor=actor,
        operation=row.operation,
        client_ip=client_ip,
        **details,
        **extra,
    )


@transaction.atomic
def _apply(*, row, actor, access_request_id, comment="", client_ip=None, now=None, **extra):
    comment = clean_comment(comment)
    access_request = lock_access_request(
        access_request_id, None if row.who == Who.UNCHECKED else actor
    )
    now = now or timezone.now()
    refusal = refusal_of(row, actor, access_request, now)
    if refusal is None and row.name in STEP_UP_ROWS:  # here, not in refusal_of: keep the button
        refusal = step_up_refusal(actor, access_request.tenant)
    if refusal is not None:
        raise refusal
    previous = access_request.status
    _change(access_request, row, now)
    # Read in the locking query: the tenant's setting as it stands at this decision.
    follow = None
    if row.lockbox_off and not access_request.tenant.lockbox_enabled:
        follow = TRANSITIONS[row.lockbox_off]
        _change(access_request, follow, now)
    access_request.save(
        update_fields=[
            "status",
            "window_starts_at",
            "window_ends_at",
            "closed_at",
            "reached_customer_at",
            "auto_approved",
        ]
    )
    _record(
        row,
        access_request,
        actor=actor,
        comment=comment,
        now=now,
        client_ip=client_ip,
        previous=previous,
        extra=extra,
    )
    if follow is not None:
        _record(
            follow,
            access_request,
            actor=None,
            comment="",
            now=now,
            client_ip=None,
            previous=previous,
            extra={},
        )
    told = follow or row
    if told.tell_approvers:
        notify_approvers(access_request)
    if told.tell_requester:
        notify_requester(access_request, told.tell_requester)
    return access_request


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


def apply_transition(name: str, **kwargs) -> AccessRequest:
    """Apply one row in one transaction: lock, check actor and state, change, sign and record
    the decision, audit, and write the notifications to the outbox (sent after commit).

    A refused person's attempt (403) is audited in the request's tenant after the rollback
    (SPEC 4: every attempt is seen). Raises NotFound, NotAllowed or InvalidState.
    """
    row = TRANSITIONS[name]
    if row.who == Who.UNCHECKED:
        return _apply(row=row, **kwargs)
    audited = refusals_audited(
        operation=row.operation,
        object_type="AccessRequest",
        locate=_request_of,
        record_type=RecordType.LOCKBOX,
    )(_apply)
    return audited(row=row, **kwargs)
