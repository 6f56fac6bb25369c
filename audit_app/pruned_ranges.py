"""Signed pruned ranges (SPEC 11): what retention states about the records it deleted.

A range lets verification step over deleted records; signed, nobody without the key can put
one in place of records they deleted themselves.
"""

from datetime import datetime

from tenants_app.models import Tenant

from .models import AuditPrunedRange
from .signing import sign

PRUNED_TYPE = "lockbox.pruned/v1"


def pruned_range_statement(pruned: AuditPrunedRange, tenant: Tenant) -> dict:
    return {
        "type": PRUNED_TYPE,
        "tenant": tenant.slug,
        "tenant_id": tenant.pk,
        "first_seq": pruned.first_seq,
        "last_seq": pruned.last_seq,
        "last_hash": pruned.last_hash,
        "pruned_at": pruned.created_at.isoformat(),
    }


def pruned_range_signed(
    *, tenant: Tenant, first_seq: int, last_seq: int, last_hash: str, pruned_at: datetime
) -> AuditPrunedRange:
    """An unsaved range with its signature: rows are never updated, so it is signed first."""
    pruned = AuditPrunedRange(
        tenant=tenant,
        first_seq=first_seq,
        last_seq=last_seq,
        last_hash=last_hash,
        created_at=pruned_at,
    )
    pruned.jws = sign(pruned_range_statement(pruned, tenant))
    return pruned
