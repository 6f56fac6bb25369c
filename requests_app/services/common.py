"""Pieces every transition shares: the row lock, the audit write, the decision record."""

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import BooleanField, Exists, OuterRef, Value
from django.db.models.expressions import RawSQL
from django.utils import timezone

from audit_app.models import Operation, RecordType
from audit_app.services import audit_record
from lockbox_site.compiled import Compiled, insert, is_prefetched, keep_prefetched
from lockbox_site.errors import InvalidInput, NotFound
from lockbox_site.ids import as_id

from ..models import AccessRequest, Decision, RequestMessage, Webhook
from ..selectors import (
    folded_relations,
    keep_folded_relations,
    request_decisions,
    request_scope,
    scoped,
)
from .statements import sign_decision


def _locking_read(scope: str) -> Compiled:
    """The request by id, within what the scope lets its actor see, row-locked. The audit
    record and the notifications need ticket, tenant and requester, so they are joined; only
    the request's own row is locked. Compiled once (lockbox_site.compiled): every transition
    sends it."""

    def build(pk, *limit):
        queryset = AccessRequest.objects.select_related("ticket", "tenant", "requester")
        queryset = queryset.select_for_update(of=("self",))
        # Whether it has messages and its tenant enabled webhooks: most have neither, and then
        # neither is read again (the API's response shows no messages, no webhook event is
        # written). A webhook enabled meanwhile is as if enabled just after this transition.
        messages = RequestMessage.objects.filter(access_request=OuterRef("pk"))
        webhooks = Webhook.objects.filter(tenant_id=OuterRef("tenant_id"), disabled_at__isnull=True)
        queryset = queryset.annotate(
            messages_exist=Exists(messages),
            webhooks_exist=Exists(webhooks),
            # Its decisions and Cloud PCs too, as JSON (issue 17: two statements less).
            **folded_relations(OuterRef("pk")),
            fresh=_fresh(),
        )
        return scoped(queryset, scope, *limit or (None,)).filter(pk=pk)

    return Compiled(build, slots=2 if scope in ("tenant", "requester") else 1)


def _fresh():
    """Whether the columns read beside the row are as of the lock (True) or may be older.

    PostgreSQL reads a statement's subqueries in the snapshot taken when the statement began.
    A transaction that held the row's lock meanwhile (an answer adding a message, the previous
    approval of a quorum adding its decision) changed the row, so the row returned is its new
    version while the subqueries still saw the old state: the row's xmin differs from the one
    the statement's snapshot sees. Then the relations are read again after the lock. (SQLite
    runs one writer at a time: what a statement reads is current.)"""
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        return Value(True, output_field=BooleanField())
    table = connections[DEFAULT_DB_ALIAS].ops.quote_name(AccessRequest._meta.db_table)
    return RawSQL(
        f"{table}.xmin = (SELECT seen.xmin FROM {table} seen WHERE seen.id = {table}.id)",
        [],
        output_field=BooleanField(),
    )


_LOCKING_READS = {scope: _locking_read(scope) for scope in ("tenant", "all", "requester")}


def lock_access_request(access_request_id, actor=None) -> AccessRequest:
    """Lock the row for this transaction; a request the actor cannot see is a 404."""
    pk = as_id(access_request_id)
    scope, limit = ("all", None) if actor is None else request_scope(actor)
    found = None
    if pk is not None and scope in _LOCKING_READS:
        values = (pk,) if limit is None else (pk, limit)
        found = _LOCKING_READS[scope].first(*values)
    if found is None:
        raise NotFound("No such access request.")
    if found.fresh:
        # Messages are only added by a transition, under this lock; decisions too.
        keep_folded_relations(found)
        if not found.messages_exist:
            keep_prefetched(found, "messages", [])
    return found


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
    save_request_fields=None,
) -> Decision:
    """Save a decision; a customer-side one is signed here, after the transition's changes to
    the request and before its audit record (pass it to audit_transition as `decision`).
    `save_request_fields`: the request's changed fields, saved first (one statement with the
    decision's insert on PostgreSQL)."""
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
    after = None if save_request_fields is None else (access_request, save_request_fields)
    insert(decision, after_update=after)
    if is_prefetched(access_request, "decisions"):
        # The request's decisions read so far gain this one, in their order.
        decisions = [*access_request.decisions.all(), decision]
        decisions.sort(key=lambda d: (d.created_at, d.pk))
        keep_prefetched(access_request, "decisions", decisions)
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
    return [
        decision
        for decision in request_decisions(access_request)  # ordered by created_at, id
        if decision.stage == Decision.Stage.CUSTOMER
        and decision.outcome == Decision.Outcome.APPROVED
        and not decision.automatic
    ]
