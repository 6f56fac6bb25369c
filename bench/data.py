"""Seeded, repeatable bulk data written with COPY (the benchmarks measure reads, not seeding)."""

import json
import random
from datetime import UTC, datetime, timedelta

from django.db import connection

from audit_app.chain import GENESIS, record_hash
from audit_app.models import AuditChainHead
from tenants_app.models import Tenant

# No customer decision among them: those carry a signed statement (SPEC 11) that generated
# data cannot have, and verify_audit must pass after a bench.
OPERATIONS = [
    "RequestCreated",
    "RequestInternallyApproved",
    "RequestExpired",
    "OperatorAction",
    "AccessExpired",
]
WORDS = [
    "printer",
    "vpn",
    "outlook",
    "teams",
    "disk",
    "profile",
    "crash",
    "slow",
    "login",
    "update",
]
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def tenants(count: int) -> list[Tenant]:
    existing = list(Tenant.objects.filter(slug__startswith="bench-").order_by("pk"))
    new = [
        Tenant(slug=f"bench-{i:03d}", name=f"Bench {i}", plan="E5")
        for i in range(len(existing), count)
    ]
    Tenant.objects.bulk_create(new)
    return list(Tenant.objects.filter(slug__startswith="bench-").order_by("pk"))[:count]


def audit_records(tenant_list, total: int, *, days: int = 365, seed: int = 1) -> None:
    """`total` records spread over the tenants and the last `days` days, via COPY."""
    rng = random.Random(seed)
    per_tenant = total // len(tenant_list)
    columns = (
        "created_at",
        "tenant_id",
        "seq",
        "record_type",
        "operation",
        "actor",
        "actor_type",
        "object_type",
        "object_id",
        "result",
        "details",
        "request_id",
        "prev_hash",
        "hash",
    )
    # Chain positions are read before COPY starts: the connection serves nothing else during it.
    heads = {
        t.pk: AuditChainHead.objects.filter(tenant=t).values_list("last_seq", "last_hash").first()
        or (0, GENESIS)
        for t in tenant_list
    }
    starts = {pk: head[0] for pk, head in heads.items()}
    last_hash = {pk: head[1] for pk, head in heads.items()}
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY audit_app_auditrecord ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for tenant in tenant_list:
            start = starts[tenant.pk]
            for n in range(per_tenant):
                at = NOW - timedelta(seconds=int(days * 86400 * (per_tenant - n) / per_tenant))
                operation = rng.choice(OPERATIONS)
                request_id = rng.randrange(1, 100000)
                details = {
                    "request_id": request_id,
                    "action": "view",
                    "note": f"{rng.choice(WORDS)} {rng.choice(WORDS)}",
                }
                values = {
                    "seq": start + n + 1,
                    "created_at": at,
                    "record_type": "CustomerLockboxSettings"
                    if operation == "AccessExpired" and n % 7 == 0
                    else "Windows365CustomerLockbox",
                    "operation": operation,
                    "actor": "engineer@provider.example",
                    "actor_type": "provider",
                    "object_type": "CloudPC",
                    "object_id": str(rng.randrange(1, 5000)),
                    "result": "success",
                    "client_ip": None,
                    "details": details,
                    "request_id": request_id,
                }
                # Chained like the real writer's, so verify_audit passes after a bench.
                prev, digest = (
                    last_hash[tenant.pk],
                    record_hash(last_hash[tenant.pk], tenant.pk, values),
                )
                last_hash[tenant.pk] = digest
                copy.write_row(
                    (
                        at,
                        tenant.pk,
                        values["seq"],
                        values["record_type"],
                        operation,
                        values["actor"],
                        "provider",
                        "CloudPC",
                        values["object_id"],
                        "success",
                        json.dumps(details),
                        request_id,
                        prev,
                        digest,
                    )
                )
    for tenant in tenant_list:
        AuditChainHead.objects.update_or_create(
            tenant=tenant,
            defaults={
                "last_seq": starts[tenant.pk] + per_tenant,
                "last_hash": last_hash[tenant.pk],
            },
        )
    settle()


def settle() -> None:
    """Finish pending maintenance before anything is measured: PostgreSQL vacuums a table after
    many inserts or deletes (autovacuum's thresholds) and the first reads set every page's hint
    bits, and either would otherwise run on these 2 cores during the next measurement. The
    other tables are analysed too, as autovacuum does once they have changed enough: without
    statistics the planner takes a seeded table of a few rows for one of hundreds (a hash join
    for a user's groups, where an index lookup does)."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) audit_app_auditrecord")
        cursor.execute("ANALYZE")
        cursor.execute("CHECKPOINT")
