"""Pieces every transition shares: the row lock, the audit write, the decision record."""

from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone

from audit_app.models import Operation, RecordType
from audit_app.services import audit_record
from lockbox_site.errors import InvalidInput, NotFound

from ..models import AccessRequest, Decision
from ..selectors import access_requests_for_user
from .statements import sign_decision


def lock_access_request(access_request_id, actor=None) -> AccessRequest:
    """Lock the row for this transaction; a request the actor cannot see is a 404."""
    queryset = AccessRequest.objects.all()
    if actor is not None:
        queryset = access_requests_for_user(actor).prefetch_related(None)
    # The audit record and the notifications need ticket, tenant and requester; joining them
    # here saves three queries per transition. Only the request's own row is locked.
    queryset = queryset.select_related("ticket", "tenant", "requester").select_for_update(
        of=("self",)
    )
    try:
        return queryset.get(pk=access_request_id)
    except (AccessRequest.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such access request.") from None


def audit_transition(
    access_request: AccessRequest,
    *,
    actor,
    operation: Operation,
    client_ip=None,
    decision: Decision | None = None,
    **details,
) -> None:
    if decision is not None and decision.jws:
        # In the hashed record too, so the chain covers the signed statement.
        details.update(statement=decision.statement, jws=decision.jws)
    audit_record(
        tenant_id=access_request.tenant_id,
        actor=actor,
        record_type=RecordType.LOCKBOX,
        operation=operation,
        object_type="AccessRequest",
        object_id=access_request.pk,
        details={
            "request_id": access_request.pk,
            "ticket": access_request.ticket.number,
            "status": access_request.status,
            **details,
        },
        client_ip=client_ip,
    )


def record_decision(
    access_request,
    *,
    stage,
    outcome,
    actor,
    comment="",
    automatic=False,
    now=None,
    duration_minutes=None,
) -> Decision:
    """Save a decision; a customer-side one is signed here, after the transition's changes to
    the request and before its audit record (pass it to audit_transition as `decision`)."""
    decision = Decision(
        access_request=access_request,
        stage=stage,
        outcome=outcome,
        actor=actor,
        comment=comment,
        automatic=automatic,
        duration_minutes=duration_minutes,
        created_at=now or timezone.now(),
    )
    sign_decision(access_request, decision)
    decision.save()
    # The request's decisions read so far are stale now; the next read loads them again.
    getattr(access_request, "_prefetched_objects_cache", {}).pop("decisions", None)
    return decision


def clean_comment(comment) -> str:
    if comment is None:
        return ""
    if not isinstance(comment, str):
        raise InvalidInput("comment must be text.")
    if len(comment) > 2000:
        raise InvalidInput("comment must be at most 2000 characters.")
    return comment.strip()


def customer_approvals(access_request: AccessRequest) -> list[Decision]:
    """The customer approvals given so far (a quorum's, SPEC 10), oldest first.

    The request's decisions are read once and kept on it (as a prefetch, which lists and the
    API's response use too): a transition asks five times, from checks to audit details.
    record_decision drops them when it adds one.
    """
    if "decisions" not in getattr(access_request, "_prefetched_objects_cache", {}):
        decisions = Decision.objects.select_related("actor").order_by("created_at", "id")
        prefetch_related_objects([access_request], Prefetch("decisions", queryset=decisions))
    return [
        decision
        for decision in access_request.decisions.all()  # ordered by created_at, id
        if decision.stage == Decision.Stage.CUSTOMER
        and decision.outcome == Decision.Outcome.APPROVED
        and not decision.automatic
    ]
