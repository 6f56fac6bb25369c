"""The access-request state machine as one table (SPEC sections 2 and 10).

Each row says who may move a request, from which states and under which condition, to which
state, and what that writes (window, deadline, decision, thread, review, audit record) and
tells. `transitions.apply_transition` applies a row; `transitions.allowed_actions` reads the
same rows, so a button or API link is offered exactly when pressing it would succeed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from audit_app.models import Operation
from lockbox_site.errors import ApplicationError, InvalidState
from tenants_app.policy import tenant_policy
from tenants_app.roles import Cap

from ..models import AccessRequest, Decision, RequestMessage
from .common import customer_approvals

Status = AccessRequest.Status
ReviewStatus = AccessRequest.ReviewStatus
Stage, Outcome = Decision.Stage, Decision.Outcome


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
    # SPEC 14: a customer decision the tenant may require a fresh second factor for.
    step_up: bool = False
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
            step_up=True,
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
            step_up=True,
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
            step_up=True,
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
            step_up=True,
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
            step_up=True,
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
