"""Retention: the one precedence rule (SPEC section 4) and the job that deletes by it.

The job never builds its filter from the policies directly. It asks `retention_days` - the one
rule - for each (record type, operation) pair the tenant's expirable records actually hold,
groups the pairs by the cutoff they get, and deletes with one filter per cutoff. The filter's
size depends on the pairs present (a few dozen at most), never on the number of policies.
"""

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from tenants_app.models import Tenant

from .checkpoints import checkpoint_issue
from .models import (
    AuditChainHead,
    AuditPrunedRange,
    AuditRecord,
    Operation,
    RecordType,
    RetentionPolicy,
)
from .pruned_ranges import pruned_range_signed
from .services import audit_record


def retention_days(policies: Iterable[RetentionPolicy], record_type: str, operation: str) -> int:
    """How long a record of this type and operation is kept (SPEC section 4).

    The highest-priority (lowest number) policy that matches decides; a policy with no record
    types matches every type and one with no operations matches every operation. A record no
    policy matches is kept for AUDIT_DEFAULT_RETENTION_DAYS.
    """
    for policy in sorted(policies, key=lambda p: p.priority):
        if policy.record_types and record_type not in policy.record_types:
            continue
        if policy.operations and operation not in policy.operations:
            continue
        return policy.days
    return settings.AUDIT_DEFAULT_RETENTION_DAYS


def _expired_filter(tenant: Tenant, policies: list[RetentionPolicy], now) -> Q | None:
    """A filter true for exactly the tenant's records whose retention has passed, or None."""
    shortest = min([settings.AUDIT_DEFAULT_RETENTION_DAYS, *(p.days for p in policies)])
    # Only records older than the shortest duration can have expired; their pairs are few.
    candidates = (
        AuditRecord.objects.filter(tenant=tenant, created_at__lt=now - timedelta(days=shortest))
        .order_by()
        .values_list("record_type", "operation")
        .distinct()
    )
    by_days: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for record_type, operation in candidates:
        by_days[retention_days(policies, record_type, operation)][record_type].append(operation)
    # Built from non-empty terms only: Django drops an empty Q() from an OR, which is how the
    # old filter lost its catch-all policies.
    terms = [
        Q(created_at__lt=now - timedelta(days=days))
        & reduce(
            or_,
            (
                Q(record_type=record_type, operation__in=sorted(operations))
                for record_type, operations in sorted(operations_by_type.items())
            ),
        )
        for days, operations_by_type in sorted(by_days.items())
    ]
    return reduce(or_, terms) if terms else None


def _contiguous_runs(rows: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """(seq, id, hash) rows sorted by seq -> (first_seq, last_seq, last_hash) runs."""
    runs: list[list] = []
    for seq, _pk, digest in rows:
        if runs and runs[-1][1] == seq - 1:
            runs[-1][1], runs[-1][2] = seq, digest
        else:
            runs.append([seq, seq, digest])
    return [tuple(run) for run in runs]


def _allow_delete() -> None:
    # The PostgreSQL trigger (migration 0002) refuses DELETE unless this flag is set in the
    # deleting transaction; SET LOCAL ends with the transaction.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lockbox.audit_retention = 'on'")


@dataclass(frozen=True)
class PruneResult:
    deleted: int
    finished: bool  # False when the time budget ran out first; the next run goes on


def tenant_prune(
    *, tenant: Tenant, now, batch_size: int, max_seconds: float | None = None
) -> PruneResult:
    """Delete a tenant's expired records in short batches, each its own transaction."""
    policies = list(RetentionPolicy.objects.filter(tenant=tenant))
    expired = _expired_filter(tenant, policies, now)
    if expired is None:
        return PruneResult(0, True)
    batch = (
        AuditRecord.objects.filter(tenant=tenant)
        .filter(expired)
        .order_by("seq")
        .values("pk")[:batch_size]
    )
    ids_sql, ids_params = batch.query.sql_with_params()
    started = time.monotonic()
    deleted = 0
    while True:
        if max_seconds is not None and deleted and time.monotonic() - started >= max_seconds:
            return PruneResult(deleted, False)
        # One statement per batch, each batch its own short transaction: writers wait at most
        # one batch. RETURNING gives the chain positions the pruned ranges need.
        with transaction.atomic():
            _allow_delete()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM {AuditRecord._meta.db_table} WHERE id IN ({ids_sql}) RETURNING seq, id, hash",
                    ids_params,
                )
                rows = sorted(cursor.fetchall())
            if not rows:
                return PruneResult(deleted, True)
            # Each range signed (SPEC 11), so a range nobody signed shows a deletion that
            # was not retention's. Ranges of successive batches stay separate rows.
            pruned_at = timezone.now()
            AuditPrunedRange.objects.bulk_create(
                pruned_range_signed(
                    tenant=tenant, first_seq=a, last_seq=b, last_hash=h, pruned_at=pruned_at
                )
                for a, b, h in _contiguous_runs(rows)
            )
            deleted += len(rows)


def tenant_retention_apply(
    *, tenant_id: int, now=None, batch_size: int | None = None, max_seconds: float | None = None
) -> int:
    """One tenant's retention run: delete what has expired, then one RetentionApplied record
    and a checkpoint that signs it (SPEC 11), in one transaction: the checkpoint's seq is the
    RetentionApplied record's."""
    now = now or timezone.now()
    tenant = Tenant.objects.get(pk=tenant_id)
    result = tenant_prune(
        tenant=tenant,
        now=now,
        batch_size=batch_size or settings.AUDIT_RETENTION_BATCH,
        max_seconds=max_seconds,
    )
    details = {"deleted": result.deleted, "run_at": now.isoformat()}
    if not result.finished:
        details["finished"] = False
    with transaction.atomic():
        audit_record(
            tenant_id=tenant.pk,
            actor=None,
            record_type=RecordType.SETTINGS,
            operation=Operation.RETENTION_APPLIED,
            object_type="AuditLog",
            object_id=tenant.slug,
            details=details,
        )
        checkpoint_issue(tenant_id=tenant.pk)
    return result.deleted


def retention_tenant_ids() -> list[int]:
    """The tenants that have an audit log (a chain head): one retention run each."""
    # One row per tenant, where DISTINCT over the records would read the whole log.
    return list(AuditChainHead.objects.order_by("tenant_id").values_list("tenant_id", flat=True))


def audit_records_prune(*, now=None) -> dict[str, int]:
    """Every tenant's retention run, one after another (manage.py apply_retention)."""
    now = now or timezone.now()
    counts = {}
    for tenant in Tenant.objects.filter(pk__in=retention_tenant_ids()).order_by("pk"):
        counts[tenant.slug] = tenant_retention_apply(tenant_id=tenant.pk, now=now)
    return counts
