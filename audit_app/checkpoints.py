"""Signed checkpoints of a tenant's chain head (SPEC 11): the one writer of AuditCheckpoint."""

import hashlib
import logging
import time

from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.dispatch import Signal
from django.utils import timezone

from tenants_app.models import Tenant

from .models import AuditChainHead, AuditCheckpoint, AuditPrunedRange, AuditRecord
from .signing import SignatureInvalid, sign, verify

logger = logging.getLogger(__name__)

CHECKPOINT_TYPE = "lockbox.checkpoint/v1"

# Sent inside the issuing transaction (keyword arguments `checkpoint`, `tenant`), so what a
# receiver writes - the webhook outbox messages - commits or rolls back with the checkpoint.
# audit_app sits below requests_app (which imports it), so webhook delivery lives there and
# subscribes here (requests_app/apps.py) instead of this module importing it.
checkpoint_issued = Signal()


def checkpoint_statement(checkpoint: AuditCheckpoint, tenant: Tenant) -> dict:
    return {
        "type": CHECKPOINT_TYPE,
        "tenant": tenant.slug,
        "tenant_id": tenant.pk,
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "issued_at": checkpoint.issued_at.isoformat(),
        "previous": checkpoint.previous or None,
    }


def checkpoint_as_json(checkpoint: AuditCheckpoint, tenant: Tenant) -> dict:
    """What the API, exports and webhooks carry: the signed fields for reading, and the JWS."""
    statement = checkpoint_statement(checkpoint, tenant)
    return {
        "kind": "checkpoint",
        **{k: v for k, v in statement.items() if k != "type"},
        "jws": checkpoint.jws,
    }


def checkpoint_latest(tenant_id: int) -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.filter(tenant_id=tenant_id).order_by("-seq", "-id").first()


def _extends(head: AuditChainHead, last: AuditCheckpoint) -> bool:
    """Does the chain as it stands still hold the last signed (seq, hash)?"""
    if head.last_seq <= last.seq:
        return head.last_seq == last.seq and head.last_hash == last.hash
    digest = (
        AuditRecord.objects.filter(tenant_id=head.tenant_id, seq=last.seq)
        .values_list("hash", flat=True)
        .first()
    )
    if digest is not None:
        return digest == last.hash
    pruned = AuditPrunedRange.objects.filter(
        tenant_id=head.tenant_id, first_seq__lte=last.seq, last_seq__gte=last.seq
    ).first()
    if pruned is None or not _signed_by_us(pruned):
        # A range nobody signed may hide the rewrite: never sign over it.
        return False
    # Strictly inside a signed pruned range the hash is gone: nothing left to compare.
    return pruned.last_seq != last.seq or pruned.last_hash == last.hash


def _signed_by_us(pruned: AuditPrunedRange) -> bool:
    try:
        statement = verify(pruned.jws) if pruned.jws else None
    except SignatureInvalid:
        return False
    return bool(statement) and (
        statement.get("tenant_id"),
        statement.get("first_seq"),
        statement.get("last_seq"),
        statement.get("last_hash"),
    ) == (pruned.tenant_id, pruned.first_seq, pruned.last_seq, pruned.last_hash)


@transaction.atomic
def checkpoint_issue(*, tenant_id: int, force: bool = False) -> AuditCheckpoint | None:
    """Sign the tenant's chain head if it moved since the last checkpoint (or if `force`).

    The chain head's row lock orders this against appends, so the signed (seq, hash) is a
    real record's; the previous checkpoint's digest links checkpoints into a chain of their own.
    A chain that no longer holds the last signed (seq, hash) - rolled back or rewritten behind
    the application's back - is never signed: that would vouch for the change.
    """
    head = AuditChainHead.objects.select_for_update().filter(tenant_id=tenant_id).first()
    if head is None or head.last_seq == 0:
        return None
    last = checkpoint_latest(tenant_id)
    if last is not None and last.seq == head.last_seq and not force:
        return None
    if last is not None and not _extends(head, last):
        logger.error(
            "Audit chain of tenant %s does not extend its checkpoint at seq %s: not signed "
            "(run manage.py verify_audit)",
            tenant_id,
            last.seq,
        )
        return None
    tenant = Tenant.objects.get(pk=tenant_id)
    checkpoint = AuditCheckpoint(
        tenant_id=tenant_id,
        seq=head.last_seq,
        hash=head.last_hash,
        issued_at=timezone.now(),
        previous=hashlib.sha256(last.jws.encode()).hexdigest() if last else "",
    )
    checkpoint.jws = sign(checkpoint_statement(checkpoint, tenant))
    checkpoint.save()
    checkpoint_issued.send(sender=AuditCheckpoint, checkpoint=checkpoint, tenant=tenant)
    return checkpoint


def checkpoint_due_tenant_ids() -> list[int]:
    """Tenants whose chain head moved past their last checkpoint, longest-waiting first."""
    last = AuditCheckpoint.objects.filter(tenant_id=OuterRef("tenant_id")).order_by("-seq", "-id")
    return list(
        AuditChainHead.objects.annotate(
            signed_seq=Coalesce(Subquery(last.values("seq")[:1]), 0),
            signed_id=Subquery(last.values("id")[:1]),
        )
        .filter(last_seq__gt=F("signed_seq"))
        .order_by(F("signed_id").asc(nulls_first=True), "tenant_id")
        .values_list("tenant_id", flat=True)
    )


def checkpoints_issue_due(*, max_seconds: float | None = None) -> list[AuditCheckpoint]:
    """The beat job: one checkpoint per tenant with new records, each its own short transaction.

    It stops starting tenants after `max_seconds`; the rest wait for the next run, which
    starts with them (longest-waiting first).
    """
    started = time.monotonic()
    issued = []
    for tenant_id in checkpoint_due_tenant_ids():
        if max_seconds is not None and time.monotonic() - started >= max_seconds:
            break
        checkpoint = checkpoint_issue(tenant_id=tenant_id)
        if checkpoint is not None:
            issued.append(checkpoint)
    return issued
