"""The access-request state machine as one table (SPEC section 2).

Each row says who may move a request, from which states and under which condition, to which
state, and what that writes (window, decision, audit record) and tells. `apply_transition`
applies a row; `allowed_actions` reads the same rows, so a button or API link is offered exactly
when pressing it would succeed.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit_app.models import Operation, RecordType
from audit_app.refusals import refusals_audited
from lockbox_site.errors import ApplicationError, InvalidInput, InvalidState, NotAllowed
from lockbox_site.ids import as_id
from tenants_app.policy import tenant_policy
from tenants_app.roles import Cap, can

from ..models import AccessRequest, Decision, RequestMessage
from .common import audit_transition, clean_comment, lock_access_request, record_decision
from .notifications import notify_approvers, notify_global_admins, notify_requester
from .webhooks import webhooks_enqueue

Status = AccessRequest.Status
ReviewStatus = AccessRequest.ReviewStatus
Stage, Outcome = Decision.Stage, Decision.Outcome
MAX_MESSAGE = 4000


class Who(StrEnum):
    CAPABLE = "capable"  # whoever holds the row's capability
    NOT_REQUESTER = "not_requester"  # ... except the engineer who created the request
    REQUESTER = "requester"  # only the engineer who created the request
    UNCHECKED = "unchecked"  # the caller decided (a sweep, a closing ticket): never a button


class When(StrEnum):
    ANY_TIME = "any_time"
    # The sweep expires it within seconds; until then it holds. A question stops the deadline.
    BEFORE_DEADLINE = "before_deadline"
    WINDOW_OPEN = "window_open"
    NOT_ENDED = "not_ended"  # approved and its window not over: open now, or scheduled
    PAST_DEADLINE = "past_deadline"
    WINDOW_ENDED = "window_ended"
    REVIEW_DUE = "review_due"  # an emergency access whose review is pending and due


class Window(StrEnum):
    UNCHANGED = "unchanged"
    # From now, or from the scheduled start if later, for the duration the approvals left.
    OPEN = "open"
    END_NOW = "end_now"  # never later than it was


class Deadline(StrEnum):
    RUNS = "runs"
    PAUSE = "pause"  # a question: the time left is kept
    RESUME = "resume"  # its answer: the time left runs again from now


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
    # A further condition on the request (409 with its reason), e.g. emergency access allowed.
    condition: Callable[[AccessRequest], ApplicationError | None] | None = None


@dataclass(frozen=True, kw_only=True)
class Transition(Rule):
    name: str
    action: str | None  # the API's and the page's name for it; None for system rows
    to_state: str | None  # None: the status stays (an approval short of the quorum, a review)
    operation: Operation
    window: Window = Window.UNCHANGED
    deadline: Deadline = Deadline.RUNS
    # Approvals short of the tenant's quorum apply this row instead (SPEC 10).
    quorum: str = ""
    message: str = ""  # the text given is kept in the thread as this kind (question, answer)
    text_label: str = ""  # what the text is called in the 400 when it is missing
    needs_comment: str = ""  # the 400 when no comment is given (always needed)
    policy_comment: str = ""  # the same, where the tenant's policy requires decision comments
    emergency: bool = False  # grants emergency access and opens its review
    review: str = ""  # the review status this row sets
    cascade: tuple[str, str] = ()  # (row for approved, row for pending) extensions
    event: str = ""  # the webhook event, if not request.<status>
    tell_global_admins: str = ""  # an e-mail subject line to the tenant's Global Administrators
    reaches_customer: bool = False  # from here on the customer sees the request (SPEC 8)
    decision: tuple[Stage, Outcome] | None = None
    automatic: bool = False  # taken by the system in the customer's place
    details: Callable[[AccessRequest, str], dict] | None = None  # (request, previous status)
    tell_requester: str = ""  # "... is now {tell_requester}"
    tell_approvers: str = ""  # what the approvers' e-mail is about: pending, emergency, answered
    lockbox_off: str = ""  # the row applied at once, as the system, where Lockbox is off


def _window(access_request, previous) -> dict:
    return {
        "window_starts_at": access_request.window_starts_at.isoformat(),
        "window_ends_at": access_request.window_ends_at.isoformat(),
    }


def _approvers(access_request) -> list[str]:
    return [decision.actor_name for decision in customer_approvals(access_request)]


def _approval(access_request, previous) -> dict:
    return {
        "approval": f"{len(_approvers(access_request))} of {access_request.approvals_required}",
        "approvals_required": access_request.approvals_required,
    }


def _approved(access_request, previous) -> dict:
    return {**_approval(access_request, previous), "approvers": _approvers(access_request)}


def _approved_window(access_request, previous) -> dict:
    return {**_approved(access_request, previous), **_window(access_request, previous)}


def _auto_approval(access_request, previous) -> dict:
    return {
        "auto_approved": True,
        "reason": "Customer Lockbox is off for this tenant",
        **_window(access_request, previous),
    }


def _deadline(access_request, previous) -> dict:
    return {"previous_status": previous, "expires_at": access_request.expires_at.isoformat()}


def _paused(access_request, previous) -> dict:
    return {"deadline_paused_seconds": access_request.deadline_paused_seconds}


def _window_end(access_request, previous) -> dict:
    return {"window_ends_at": access_request.window_ends_at.isoformat()}


def _emergency(access_request, previous) -> dict:
    return {
        "emergency": True,
        "reason_type": access_request.reason_type,
        "review_due_at": access_request.review_due_at.isoformat(),
        **_window(access_request, previous),
    }


def _review(access_request, previous) -> dict:
    return {"review": access_request.review_status}


def _overdue(access_request, previous) -> dict:
    return {
        "review": access_request.review_status,
        "due_at": access_request.review_due_at.isoformat(),
    }


EMERGENCY_REASON = AccessRequest.ReasonType.RESPONSE_TO_PRODUCTION_ALERT
EMERGENCY_MAX_MINUTES = 60
REVIEW_DUE = timedelta(hours=72)
POLICY_COMMENT = "Your organization's policy requires a comment to {verb} access."


def _emergency_allowed(access_request) -> ApplicationError | None:
    """SPEC 10: only where the tenant allows it, for a production alert, for an hour at most."""
    if not tenant_policy(access_request.tenant).allow_emergency_access:
        return InvalidState(f"{access_request.tenant.name} does not allow emergency access.")
    if access_request.reason_type != EMERGENCY_REASON:
        return InvalidState(
            "Emergency access is only for a request of type response_to_production_alert."
        )
    if access_request.duration_minutes > EMERGENCY_MAX_MINUTES:
        return InvalidState(
            f"Emergency access is for at most {EMERGENCY_MAX_MINUTES} minutes; "
            f"this request asks for {access_request.duration_minutes}."
        )
    return None


def _reviewable(access_request) -> ApplicationError | None:
    if not access_request.emergency:
        return InvalidState("Only an emergency access is reviewed.")
    if access_request.review_status not in (ReviewStatus.PENDING, ReviewStatus.OVERDUE):
        return InvalidState(
            f"This emergency access was already reviewed ({access_request.review_status})."
        )
    return None


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
            tell_approvers="pending",
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
            name="emergency_approve",
            action="emergency_approve",
            states=(Status.PENDING_INTERNAL, Status.PENDING_CUSTOMER),
            who=Who.NOT_REQUESTER,
            capability=Cap.DECIDE_INTERNALLY,
            refusal="Only a support manager can grant emergency access.",
            self_refusal="You cannot grant emergency access to a request you created.",
            when=When.BEFORE_DEADLINE,
            verb="grant emergency access to",
            condition=_emergency_allowed,
            needs_comment="Emergency access needs a comment that says why it cannot wait.",
            to_state=Status.APPROVED,
            window=Window.OPEN,
            reaches_customer=True,
            emergency=True,
            review=ReviewStatus.PENDING,
            decision=(Stage.EMERGENCY, Outcome.APPROVED),
            operation=Operation.EMERGENCY_ACCESS_GRANTED,
            details=_emergency,
            event="request.emergency_access",
            tell_requester="approved as emergency access",
            tell_approvers="emergency",
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
            quorum="approval_add",
            to_state=Status.APPROVED,
            window=Window.OPEN,
            decision=(Stage.CUSTOMER, Outcome.APPROVED),
            operation=Operation.REQUEST_APPROVED,
            details=_approved_window,
            tell_requester="approved",
        ),
        # One approval of a quorum that is not yet complete (SPEC 10).
        Transition(
            name="approval_add",
            action=None,
            states=(Status.PENDING_CUSTOMER,),
            who=Who.UNCHECKED,
            to_state=None,
            decision=(Stage.CUSTOMER, Outcome.APPROVED),
            operation=Operation.REQUEST_APPROVAL_ADDED,
            details=_approval,
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
            states=(Status.PENDING_CUSTOMER, Status.INFO_REQUESTED),
            who=Who.CAPABLE,
            capability=Cap.DECIDE_REQUESTS,
            refusal="Only a Customer Lockbox approver can deny requests.",
            when=When.BEFORE_DEADLINE,
            verb="deny",
            policy_comment=POLICY_COMMENT.format(verb="deny"),
            to_state=Status.DENIED,
            decision=(Stage.CUSTOMER, Outcome.DENIED),
            operation=Operation.REQUEST_DENIED,
            tell_requester="denied",
        ),
        Transition(
            name="request_info",
            action="request_info",
            states=(Status.PENDING_CUSTOMER,),
            who=Who.CAPABLE,
            capability=Cap.DECIDE_REQUESTS,
            refusal="Only a Customer Lockbox approver can ask the engineer a question.",
            when=When.BEFORE_DEADLINE,
            verb="ask about",
            to_state=Status.INFO_REQUESTED,
            deadline=Deadline.PAUSE,
            message=RequestMessage.Kind.QUESTION,
            text_label="question",
            operation=Operation.INFORMATION_REQUESTED,
            details=_paused,
            event="request.info_requested",
            tell_requester="waiting for your answer to the customer's question",
        ),
        Transition(
            name="answer",
            action="answer",
            states=(Status.INFO_REQUESTED,),
            who=Who.REQUESTER,
            refusal="Only the engineer who created a request can answer its question.",
            verb="answer",
            to_state=Status.PENDING_CUSTOMER,
            deadline=Deadline.RESUME,
            message=RequestMessage.Kind.ANSWER,
            text_label="answer",
            operation=Operation.INFORMATION_PROVIDED,
            details=_deadline,
            event="request.info_provided",
            tell_approvers="answered",
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
            when=When.NOT_ENDED,
            verb="revoke",
            policy_comment=POLICY_COMMENT.format(verb="revoke"),
            to_state=Status.REVOKED,
            window=Window.END_NOW,
            decision=(Stage.REVOCATION, Outcome.REVOKED),
            operation=Operation.ACCESS_REVOKED,
            cascade=("revoke_extension", "cancel_extension"),
            tell_requester="revoked",
        ),
        # Revoking a request revokes its extensions too (SPEC 10), in the same transaction.
        Transition(
            name="revoke_extension",
            action=None,
            states=(Status.APPROVED,),
            who=Who.UNCHECKED,
            when=When.NOT_ENDED,
            verb="revoke",
            to_state=Status.REVOKED,
            window=Window.END_NOW,
            decision=(Stage.REVOCATION, Outcome.REVOKED),
            operation=Operation.ACCESS_REVOKED,
            cascade=("revoke_extension", "cancel_extension"),
            tell_requester="revoked with the request it extends",
        ),
        Transition(
            name="cancel_extension",
            action=None,
            states=AccessRequest.PENDING,
            who=Who.UNCHECKED,
            verb="cancel",
            to_state=Status.CANCELLED,
            decision=(Stage.CANCELLATION, Outcome.CANCELLED),
            operation=Operation.REQUEST_CANCELLED,
            cascade=("revoke_extension", "cancel_extension"),
            tell_requester="cancelled because the request it extends was revoked",
        ),
        Transition(
            name="review_accept",
            action="review",
            states=(Status.APPROVED, Status.REVOKED, Status.COMPLETED),
            who=Who.CAPABLE,
            capability=Cap.DECIDE_REQUESTS,
            refusal="Only a Customer Lockbox approver can review an emergency access.",
            verb="review",
            condition=_reviewable,
            to_state=None,
            review=ReviewStatus.ACCEPTED,
            decision=(Stage.REVIEW, Outcome.ACCEPTED),
            operation=Operation.EMERGENCY_ACCESS_REVIEWED,
            details=_review,
        ),
        Transition(
            name="review_dispute",
            action="review",
            states=(Status.APPROVED, Status.REVOKED, Status.COMPLETED),
            who=Who.CAPABLE,
            capability=Cap.DECIDE_REQUESTS,
            refusal="Only a Customer Lockbox approver can review an emergency access.",
            verb="review",
            condition=_reviewable,
            policy_comment=POLICY_COMMENT.format(verb="dispute"),
            to_state=None,
            review=ReviewStatus.DISPUTED,
            decision=(Stage.REVIEW, Outcome.DISPUTED),
            operation=Operation.EMERGENCY_ACCESS_REVIEWED,
            details=_review,
        ),
        Transition(
            name="review_overdue",
            action=None,
            states=(Status.APPROVED, Status.REVOKED, Status.COMPLETED),
            who=Who.UNCHECKED,
            when=When.REVIEW_DUE,
            verb="mark overdue",
            to_state=None,
            review=ReviewStatus.OVERDUE,
            operation=Operation.EMERGENCY_REVIEW_OVERDUE,
            details=_overdue,
            event="request.review_overdue",
            tell_global_admins="An emergency access to your content has not been reviewed",
        ),
        Transition(
            name="expire",
            action=None,
            states=AccessRequest.DEADLINE_RUNS,
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
            event="access.closed",
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
            event="access.closed",
        ),
    )
}

# Not changes of state: acting on the request's Cloud PCs under its grant, and asking for more
# time (a new request, see access_requests.access_request_extend).
OPERATE = Rule(states=(Status.APPROVED,), who=Who.REQUESTER, when=When.WINDOW_OPEN)
EXTEND = Rule(
    states=(Status.APPROVED,),
    who=Who.REQUESTER,
    refusal="Only the engineer who holds the access can extend it.",
    when=When.WINDOW_OPEN,
    verb="extend",
)

ACTIONS = (
    "approve",
    "deny",
    "request_info",
    "answer",
    "cancel",
    "revoke",
    "extend",
    "emergency_approve",
    "review",
    "operate",
)


def _guard_refusal(when: When, access_request: AccessRequest, now) -> ApplicationError | None:
    if when == When.BEFORE_DEADLINE and access_request.deadline_passed(now):
        return InvalidState(
            "This request expired before a decision was made.", {"status": "expired"}
        )
    if when == When.WINDOW_OPEN and not access_request.window_open_at(now):
        if access_request.window_starts_at and now < access_request.window_starts_at:
            return InvalidState(
                f"This access window opens at {access_request.window_starts_at:%Y-%m-%d %H:%M} "
                "UTC.",
                {"status": access_request.status},
            )
        return InvalidState("This access window has already ended.", {"status": "completed"})
    if when == When.NOT_ENDED and access_request.window_ends_at <= now:
        return InvalidState("This access window has already ended.", {"status": "completed"})
    if when == When.PAST_DEADLINE and access_request.expires_at > now:
        return InvalidState("This request is not past its decision deadline yet.")
    if when == When.WINDOW_ENDED and access_request.window_ends_at > now:
        return InvalidState("This access window has not ended yet.")
    if when == When.REVIEW_DUE and (
        access_request.review_status != ReviewStatus.PENDING or access_request.review_due_at > now
    ):
        return InvalidState("This emergency access has no review that fell due.")
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
    refusal = _guard_refusal(rule.when, access_request, now)
    if refusal is None and rule.condition is not None:
        refusal = rule.condition(access_request)
    return refusal


def allowed_actions(actor, access_request: AccessRequest, now) -> set[str]:
    """What `actor` may do now with a request it can see (one from access_requests_for_user;
    a request it cannot see allows nothing: every action on it is a 404)."""
    allowed = {
        row.action
        for row in TRANSITIONS.values()
        if row.who != Who.UNCHECKED and refusal_of(row, actor, access_request, now) is None
    }
    if "approve" in allowed and access_request.status == Status.PENDING_CUSTOMER:
        # One approver's second approval of a quorum is a 409.
        if any(decision.actor_id == actor.pk for decision in customer_approvals(access_request)):
            allowed.discard("approve")
    if refusal_of(OPERATE, actor, access_request, now) is None:
        allowed.add("operate")
    if refusal_of(EXTEND, actor, access_request, now) is None:
        allowed.add("extend")
    return allowed


def customer_approvals(access_request: AccessRequest) -> list[Decision]:
    """The customer approvals given so far (a quorum's, SPEC 10), oldest first. Lists read them
    from the prefetched decisions; a transition, from the locked request's rows."""
    if "decisions" in getattr(access_request, "_prefetched_objects_cache", {}):
        decisions = access_request.decisions.all()  # ordered by created_at, id
    else:
        decisions = Decision.objects.filter(access_request=access_request).select_related("actor")
        decisions = decisions.order_by("created_at", "id")
    return [
        decision
        for decision in decisions
        if decision.stage == Stage.CUSTOMER
        and decision.outcome == Outcome.APPROVED
        and not decision.automatic
    ]


def _granted_minutes(access_request: AccessRequest, duration_minutes) -> int:
    """The window's length: what was asked, or less if an approver shortened it (the smallest
    of a quorum's wins, SPEC 10)."""
    asked = [access_request.duration_minutes, duration_minutes]
    asked += [decision.duration_minutes for decision in customer_approvals(access_request)]
    return min(minutes for minutes in asked if minutes)


def _change(access_request: AccessRequest, row: Transition, now, *, minutes=None) -> None:
    if row.to_state is not None:
        access_request.status = row.to_state
    if row.window == Window.OPEN:
        # A scheduled request opens at its start, not before (SPEC 10).
        start = max(now, access_request.starts_at or now)
        access_request.window_starts_at = start
        access_request.window_ends_at = start + timedelta(
            minutes=minutes or access_request.duration_minutes
        )
    elif row.window == Window.END_NOW:
        access_request.window_ends_at = min(access_request.window_ends_at, now)
        # A scheduled window revoked before it opened never opens.
        access_request.window_starts_at = min(
            access_request.window_starts_at, access_request.window_ends_at
        )
    if row.deadline == Deadline.PAUSE:
        left = (access_request.expires_at - now).total_seconds()
        access_request.deadline_paused_seconds = max(0, math.ceil(left))
    elif row.deadline == Deadline.RESUME:
        left = access_request.deadline_paused_seconds or 0
        access_request.expires_at = now + timedelta(seconds=left)
        access_request.deadline_paused_seconds = None
    if row.to_state is not None and row.to_state not in AccessRequest.OPEN:
        access_request.closed_at = now
    if row.reaches_customer and access_request.reached_customer_at is None:
        access_request.reached_customer_at = now
    if row.automatic:
        access_request.auto_approved = True
    if row.emergency:
        access_request.emergency = True
        access_request.review_due_at = now + REVIEW_DUE
    if row.review:
        access_request.review_status = row.review


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
            duration_minutes=extra.get("duration_minutes"),
        )
    details = {} if actor is None else {"comment": comment}
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


def _clean_text(row: Transition, text) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(
            f"Write the {row.text_label}.", {row.text_label: ["This field is required."]}
        )
    if len(text) > MAX_MESSAGE:
        raise InvalidInput(
            f"The {row.text_label} must be at most {MAX_MESSAGE} characters.",
            {row.text_label: [f"At most {MAX_MESSAGE} characters."]},
        )
    return text.strip()


def _clean_minutes(access_request: AccessRequest, duration_minutes) -> int | None:
    """An approver's shorter window: at least the deployment's minimum, at most what was asked."""
    if duration_minutes is None:
        return None
    low = settings.LOCKBOX_MIN_ACCESS_MINUTES
    high = access_request.duration_minutes
    if isinstance(duration_minutes, bool) or not isinstance(duration_minutes, int):
        raise InvalidInput("duration_minutes must be a whole number of minutes.")
    if not low <= duration_minutes <= high:
        message = f"duration_minutes must be from {low} to {high}, the time the engineer asked for."
        raise InvalidInput(message, {"duration_minutes": [message]})
    return duration_minutes


def _check_inputs(row, access_request, *, actor, comment, text, duration_minutes) -> tuple:
    """The row's own inputs, checked against the locked request (400s, after 403 and 409)."""
    if row.needs_comment and not comment:
        raise InvalidInput(row.needs_comment, {"comment": [row.needs_comment]})
    if (
        row.policy_comment
        and not comment
        and tenant_policy(access_request.tenant).require_decision_comment
    ):
        raise InvalidInput(row.policy_comment, {"comment": [row.policy_comment]})
    if row.quorum and any(d.actor_id == actor.pk for d in customer_approvals(access_request)):
        raise InvalidState(
            "You have already approved this request; another approver must give the next approval.",
            {"status": access_request.status},
        )
    text = _clean_text(row, text) if row.message else ""
    minutes = _clean_minutes(access_request, duration_minutes) if row.quorum else None
    return text, minutes


@transaction.atomic
def _apply(
    *,
    row,
    actor,
    access_request_id,
    comment="",
    text="",
    duration_minutes=None,
    client_ip=None,
    now=None,
    **extra,
):
    comment = clean_comment(comment)
    access_request = lock_access_request(
        access_request_id, None if row.who == Who.UNCHECKED else actor
    )
    now = now or timezone.now()
    refusal = refusal_of(row, actor, access_request, now)
    if refusal is not None:
        raise refusal
    text, minutes = _check_inputs(
        row,
        access_request,
        actor=actor,
        comment=comment,
        text=text,
        duration_minutes=duration_minutes,
    )
    if (
        row.quorum
        and len(customer_approvals(access_request)) + 1 < access_request.approvals_required
    ):
        row = TRANSITIONS[row.quorum]
    if minutes is not None:
        extra["duration_minutes"] = minutes
    previous = access_request.status
    granted = _granted_minutes(access_request, minutes) if row.window == Window.OPEN else None
    _change(access_request, row, now, minutes=granted)
    if row.review in (ReviewStatus.ACCEPTED, ReviewStatus.DISPUTED):
        access_request.reviewed_by, access_request.reviewed_at = actor, now
        access_request.review_comment = comment
    # Read in the locking query: the tenant's setting as it stands at this decision.
    follow = None
    if row.lockbox_off and not access_request.tenant.lockbox_enabled:
        follow = TRANSITIONS[row.lockbox_off]
        _change(access_request, follow, now)
    access_request.save(update_fields=SAVED_FIELDS)
    if row.message:
        RequestMessage.objects.create(
            access_request=access_request, author=actor, kind=row.message, text=text, created_at=now
        )
        extra[row.message] = text
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
    for child in _extensions(access_request, row):
        cascade = row.cascade[0] if child.status == Status.APPROVED else row.cascade[1]
        _apply(
            row=TRANSITIONS[cascade],
            actor=actor,
            access_request_id=child.pk,
            comment=comment,
            now=now,
            extends=access_request.pk,
        )
    _tell(follow or row, access_request)
    return access_request


SAVED_FIELDS = [
    "status",
    "window_starts_at",
    "window_ends_at",
    "closed_at",
    "reached_customer_at",
    "auto_approved",
    "expires_at",
    "deadline_paused_seconds",
    "emergency",
    "review_status",
    "review_due_at",
    "reviewed_by",
    "reviewed_at",
    "review_comment",
]


def _extensions(access_request: AccessRequest, row: Transition) -> list[AccessRequest]:
    """The extensions a revocation reaches: approved ones not yet over, and pending ones."""
    if not row.cascade:
        return []
    return list(
        access_request.extensions.filter(status__in=AccessRequest.OPEN)
        .order_by("pk")
        .only("pk", "status")
    )


def _tell(row: Transition, access_request: AccessRequest) -> None:
    """Write the row's e-mails and webhook event to the outbox (sent after commit)."""
    event = row.event
    if not event and row.to_state is not None and (row.tell_requester or row.tell_approvers):
        event = f"request.{access_request.status}"
    # A request the customer never saw (SPEC 8) is not told to the customer's webhooks.
    if event and access_request.reached_customer_at is not None:
        webhooks_enqueue(access_request, event)
    if row.tell_approvers:
        notify_approvers(access_request, row.tell_approvers)
    if row.tell_requester:
        notify_requester(access_request, row.tell_requester)
    if row.tell_global_admins:
        notify_global_admins(access_request, row.tell_global_admins)


def request_of(kwargs):
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
    (SPEC 4: every attempt is seen). Raises NotFound, NotAllowed, InvalidState or InvalidInput.
    """
    row = TRANSITIONS[name]
    if row.who == Who.UNCHECKED:
        return _apply(row=row, **kwargs)
    audited = refusals_audited(
        operation=row.operation,
        object_type="AccessRequest",
        locate=request_of,
        record_type=RecordType.LOCKBOX,
    )(_apply)
    return audited(row=row, **kwargs)
