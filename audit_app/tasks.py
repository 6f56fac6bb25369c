"""Audit's Celery tasks: retention (the daily beat task starts one task per tenant) and the
signed checkpoints (SPEC 11).

A tenant with many records or policies then delays only retention of itself, and a run that
fails or is killed for one tenant leaves the others' runs alone.
"""

from celery import shared_task

from .checkpoints import checkpoints_issue_due
from .retention import retention_tenant_ids, tenant_retention_apply

# A tenant's run deletes in short batches (about 60,000 rows/s on PostgreSQL: docs/PERFORMANCE.md),
# so an hour covers a log of a few hundred million expired records. The run stops on its own
# (between batches, with its RetentionApplied record) a few minutes before the soft limit;
# whatever is left is deleted by the next day's run. The hard limit is the last resort: a
# batch is one transaction, so killing the process loses nothing but that batch.
TENANT_SOFT_LIMIT = 55 * 60
TENANT_HARD_LIMIT = 60 * 60
TENANT_BUDGET = TENANT_SOFT_LIMIT - 5 * 60
# A run queued behind a stopped worker for most of a day is superseded by the next day's.
TENANT_EXPIRES = 20 * 60 * 60


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=60, time_limit=120)
def apply_retention() -> list[int]:
    """The beat task: one apply_retention_tenant task per tenant that has an audit log."""
    tenant_ids = retention_tenant_ids()
    for tenant_id in tenant_ids:
        apply_retention_tenant.apply_async(args=[tenant_id], expires=TENANT_EXPIRES)
    return tenant_ids


@shared_task(
    acks_late=True,
    ignore_result=True,
    soft_time_limit=TENANT_SOFT_LIMIT,
    time_limit=TENANT_HARD_LIMIT,
)
def apply_retention_tenant(tenant_id: int) -> int:
    return tenant_retention_apply(tenant_id=tenant_id, max_seconds=TENANT_BUDGET)


# Signing a tenant's head is one short transaction (a lookup, an Ed25519 signature, a few
# inserts): thousands fit in the budget. Tenants left over when it runs out are the first of the
# next run, LOCKBOX_CHECKPOINT_SECONDS later.
CHECKPOINT_SOFT_LIMIT = 120
CHECKPOINT_HARD_LIMIT = 150
CHECKPOINT_BUDGET = 90


@shared_task(
    acks_late=True,
    ignore_result=True,
    soft_time_limit=CHECKPOINT_SOFT_LIMIT,
    time_limit=CHECKPOINT_HARD_LIMIT,
)
def issue_checkpoints() -> int:
    """The beat task: a signed checkpoint for each tenant whose chain head moved."""
    return len(checkpoints_issue_due(max_seconds=CHECKPOINT_BUDGET))
