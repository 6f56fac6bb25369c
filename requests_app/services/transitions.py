"""Applying the rows of the transition table (transition_table.py): one function locks,
checks the actor, the state and the inputs, changes the request, signs and records the
decision, audits, and writes its notifications to the outbox, all in one transaction.
"""

import math
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit_app.models import RecordType
from audit_app.refusals import refusals_audited
from lockbox_site.compiled import is_prefetched, keep_prefetched, update
from lockbox_site.errors import ApplicationError, InvalidInput, InvalidState, NotAllowed
from lockbox_site.ids import as_id
from tenants_app.mfa import step_up_refusal
from tenants_app.policy import tenant_policy
from tenants_app.roles import can

from ..models import AccessRequest, RequestMessage
from .common import (
    audit_transition,
    clean_comment,
    customer_approvals,
    lock_access_request,
    record_decision,
)
from .notifications import notify_approvers, notify_global_admins, notify_requester
from .transition_table import (
    ACTIONS,
    EXTEND,
    OPERATE,
    REVIEW_DUE,
    TRANSITIONS,
    Deadline,
    Rule,
    Transition,
    When,
    Who,
    Window,
)
from .webhooks import webhooks_enqueue

Status = AccessRequest.Status
ReviewStatus = AccessRequest.ReviewStatus
MAX_MESSAGE = 4000

# ACTIONS is the API's vocabulary of allowed_actions; re-exported beside the function.
__all__ = ["ACTIONS", "allowed_actions", "apply_transition", "refusal_of", "request_of"]


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
    # A row for another state is refused whoever asks (refusal_of's 409): skipped before its
    # capability and guard checks, which every API response runs for each row.
    status = access_request.status
    allowed = {
        row.action
        for row in TRANSITIONS.values()
        if row.who != Who.UNCHECKED
        and status in row.states
        and refusal_of(row, actor, access_request, now) is None
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
        # Never longer than the tenant's longest access as it stands now (SPEC 9): a request
        # made under a longer limit is cut to the one the customer set since.
        longest = tenant_policy(access_request.tenant).max_access_minutes
        access_request.window_starts_at = start
        access_request.window_ends_at = start + timedelta(
            minutes=min(minutes or access_request.duration_minutes, longest)
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


def _record(
    row: Transition,
    access_request,
    *,
    actor,
    comment,
    now,
    client_ip,
    previous,
    extra,
    save_request_fields=None,
):
    """Sign and save the row's decision, then its audit record (which carries the signature).
    `save_request_fields`: the request's changes not saved yet (saved with the decision)."""
    decision = None
    if row.decision is None and save_request_fields is not None:
        update(access_request, save_request_fields)
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
            save_request_fields=save_request_fields,
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
    if refusal is None and row.step_up:
        # Here, not in refusal_of: the button stays, and pressing it leads to the step-up prompt.
        refusal = step_up_refusal(actor, access_request.tenant)
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
    # The extensions a revocation reaches are locked now, before the chain head (taken by the
    # first record below): a decision on an extension locks it, then the head, and the other
    # order deadlocked with it.
    children = _extensions(access_request, row)
    # The changes are saved with the decision (_record: one statement on PostgreSQL), or now
    # when a message is written first.
    unsaved = SAVED_FIELDS
    if row.message:
        update(access_request, SAVED_FIELDS)
        unsaved = None
        message = RequestMessage.objects.create(
            access_request=access_request, author=actor, kind=row.message, text=text, created_at=now
        )
        if is_prefetched(access_request, "messages"):
            # The messages kept on the request (read, or none) gain this one, in their order.
            messages = [*access_request._prefetched_objects_cache["messages"], message]
            messages.sort(key=lambda m: (m.created_at, m.pk))
            keep_prefetched(access_request, "messages", messages)
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
        save_request_fields=unsaved,
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
    for child in children:
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
    """The extensions a revocation reaches, locked in id order: approved ones not yet over,
    and pending ones."""
    if not row.cascade:
        return []
    return list(
        access_request.extensions.select_for_update()
        .filter(status__in=AccessRequest.OPEN)
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
