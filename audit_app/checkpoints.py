"""Signed checkpoints of a tenant's chain head (SPEC 11): the one writer of AuditCheckpoint."""

import hashlib

from django.db import transaction
from django.utils import timezone

from tenants_app.models import Tenant

from .models import AuditChainHead, AuditCheckpoint
from .signing import sign

CHECKPOINT_TYPE = "lockbox.checkpoint/v1"


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


@transaction.atomic
def checkpoint_issue(*, tenant_id: int, force: bool = False) -> AuditCheckpoint | None:
    """Sign the tenant's chain head if it moved since the last checkpoint (or if `force`).

    The chain head's row lock orders this against appends, so the signed (seq, hash) is a
    real record's; the previous checkpoint's digest links checkpoints into a chain of their own.
    """
    head = AuditChainHead.objects.select_for_update().filter(tenant_id=tenant_id).first()
    if head is None or head.last_seq == 0:
        return None
    last = AuditCheckpoint.objects.filter(tenant_id=tenant_id).order_by("-seq", "-id").first()
    if last is not None and last.seq == head.last_seq and not force:
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
    return checkpoint
