"""Retention: which policy keeps a record, and the job that deletes expired records."""

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from tenants_app.models import Tenant

from .models import (
    AuditPrunedRange,
    AuditRecord,
    Operation,
    RecordType,
    RetentionPolicy,
)
from .services import audit_record


def policy_for(policies: list[RetentionPolicy], record_type: str, operation: str):
    """The highest-priority (lowest number) policy that matches, or None for the default."""
    for policy in sorted(policies, key=lambda p: p.priority):
        if policy.record_types and record_type not in policy.record_types:
            continue
        if policy.operations and operation not in policy.operations:
            continue
        return policy
    return None


def retention_days(policies, record_type: str, operation: str) -> int:
    policy = policy_for(policies, record_type, operation)
    return policy.days if policy else settings.AUDIT_DEFAULT_RETENTION_DAYS


def _expired_filter(policies: list[RetentionPolicy], now) -> Q:
    """One Q that is true for exactly the records whose applicable retention has passed.

    Policies are walked by priority; each one claims the records it matches that no
    higher-priority policy claimed, so every (type, operation) pair gets one cutoff.
    """
    expired = Q(pk__in=[])
    claimed = Q(pk__in=[])
    for policy in sorted(policies, key=lambda p: p.priority):
        match = Q()
        if policy.record_types:
            match &= Q(record_type__in=policy.record_types)
        if policy.operations:
            match &= Q(operation__in=policy.operations)
        cutoff = now - timedelta(days=policy.days)
        expired |= match & ~claimed & Q(created_at__lt=cutoff)
        claimed |= match
    default_cutoff = now - timedelta(days=settings.AUDIT_DEFAULT_RETENTION_DAYS)
    return expired | (~claimed & Q(created_at__lt=default_cutoff))


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


def tenant_prune(*, tenant: Tenant, now=None, batch_size: int | None = None) -> int:
    """Delete a tenant's expired records in short batches; returns how many were deleted."""
    now = now or timezone.now()
    batch_size = batch_size or settings.AUDIT_RETENTION_BATCH
    policies = list(RetentionPolicy.objects.filter(tenant=tenant))
    expired = AuditRecord.objects.filter(tenant=tenant).filter(_expired_filter(policies, now))
    deleted = 0
    ids_sql, ids_params = expired.order_by("seq").values("pk")[:batch_size].query.sql_with_params()
    while True:
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
                break
            AuditPrunedRange.objects.bulk_create(
                AuditPrunedRange(tenant=tenant, first_seq=a, last_seq=b, last_hash=h)
                for a, b, h in _contiguous_runs(rows)
            )
            deleted += len(rows)
    return deleted


def audit_records_prune(*, now=None, batch_size: int | None = None) -> dict[str, int]:
    """Apply retention to every tenant that has records; one RetentionApplied record each."""
    now = now or timezone.now()
    counts = {}
    tenant_ids = AuditRecord.objects.values_list("tenant_id", flat=True).distinct()
    for tenant in Tenant.objects.filter(pk__in=list(tenant_ids)).order_by("pk"):
        deleted = tenant_prune(tenant=tenant, now=now, batch_size=batch_size)
        with transaction.atomic():
            audit_record(
                tenant_id=tenant.pk,
                actor=None,
                record_type=RecordType.SETTINGS,
                operation=Operation.RETENTION_APPLIED,
                object_type="AuditLog",
                object_id=tenant.slug,
                details={"deleted": deleted, "run_at": now.isoformat()},
            )
        counts[tenant.slug] = deleted
    return counts


__all__ = ["audit_records_prune", "policy_for", "retention_days", "tenant_prune"]
