"""The measurements of issues 7 and 12; each returns its figures and its same-run baseline."""

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.utils import timezone

from bench import data
from bench.setup import scaled, summary, timed
from lockbox_site.querycount import count_queries

ROOT = Path(__file__).resolve().parents[1]


def _admin_of(tenant):
    from tenants_app.models import User

    user, _ = User.objects.get_or_create(
        username=f"admin@{tenant.slug}.example",
        defaults={"tenant": tenant, "email": f"admin@{tenant.slug}.example"},
    )
    user.groups.add(Group.objects.get(name="Global Administrator"))
    return user


def _raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def audit_search(tenants):
    """1. First page of the audit API at 2M records vs the same query as raw SQL."""
    tenant = tenants[len(tenants) // 2]
    client = Client()
    client.force_login(_admin_of(tenant))
    end = data.NOW
    start = end - timedelta(days=7)
    results = {}
    cases = {
        "filtered": (
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "record_type": "Windows365CustomerLockbox",
            },
            "tenant_id = %s AND created_at >= %s AND created_at <= %s AND record_type = ANY(%s)",
            [tenant.pk, start, end, ["Windows365CustomerLockbox"]],
        ),
        "free_text": (
            {"q": "printer vpn"},
            "tenant_id = %s AND (UPPER(details::text) LIKE UPPER(%s) OR UPPER(actor::text) LIKE UPPER(%s))",
            [tenant.pk, "%printer vpn%", "%printer vpn%"],
        ),
    }
    for name, (query, where, params) in cases.items():

        def api(query=query):
            response = client.get("/api/v1/audit/records/", query)
            assert response.status_code == 200
            return len(response.json()["results"])

        sql = f"SELECT * FROM audit_app_auditrecord WHERE {where} ORDER BY created_at DESC, id DESC LIMIT 51"
        raw = timed(lambda sql=sql, params=params: _raw(sql, params), 200)
        api_samples = timed(api, 200)
        results[name] = {
            "api": summary(api_samples),
            "raw_sql": summary(raw),
            "ratio_p95": round(
                summary(api_samples)["p95_ms"] / max(summary(raw)["p95_ms"], 0.001), 2
            ),
        }
    return results


def operator_actions(world):
    """2. Operator actions per second (grant check + audit record) vs a raw INSERT of the row."""
    from requests_app import services

    engineer, pc = world["engineer"], world["pc"]
    n = scaled(3000, 200)
    start = time.perf_counter()
    for _ in range(n):
        services.cloud_pc_operate(actor=engineer, cloud_pc_id=pc.pk, action="view")
    actions_per_s = n / (time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(n):
        with connection.cursor() as cursor:  # autocommit: one transaction per row, like an action
            cursor.execute(
                "INSERT INTO audit_app_auditrecord (created_at, tenant_id, seq, record_type, operation, actor, actor_type,"
                " object_type, object_id, result, details, request_id, prev_hash, hash) VALUES"
                " (now(), %s, %s, 'Windows365CustomerLockbox', 'OperatorAction', 'e', 'provider', 'CloudPC', '1',"
                " 'success', '{\"action\": \"view\"}', 1, %s, %s)",
                [pc.tenant_id, 10_000_000 + i, "0" * 64, "0" * 64],
            )
    raw_per_s = n / (time.perf_counter() - start)
    return {
        "actions_per_s": round(actions_per_s),
        "raw_insert_per_s": round(raw_per_s),
        "ratio": round(actions_per_s / raw_per_s, 2),
        "n": n,
    }


WRK_SCRIPT = """
local counter = 0
function setup(thread)
  thread:set("offset", OFFSET)
  OFFSET = OFFSET + 1
end
function init(args)
  step = tonumber(args[1])
end
function request()
  local id = FIRST + offset + counter * step
  counter = counter + 1
  return wrk.format(METHOD, PATH:gsub("{id}", tostring(id)), HEADERS, BODY)
end
function done(summary, latency, requests)
  io.write(string.format("JSON{\\"requests\\": %d, \\"seconds\\": %f, \\"non2xx\\": %d, \\"p50_ms\\": %f, \\"p95_ms\\": %f, \\"p99_ms\\": %f}\\n",
    summary.requests, summary.duration / 1e6, summary.errors.status, latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def _wrk(base, method, path, token, first, seconds, connections=32, threads=2):
    header = f'{{["Authorization"] = "Token {token}", ["Content-Type"] = "application/json"}}'
    prelude = f'OFFSET = 0\nFIRST = {first}\nMETHOD = "{method}"\nPATH = "{path}"\nHEADERS = {header}\nBODY = "{{}}"\n'
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(prelude + WRK_SCRIPT)
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "-s",
            handle.name,
            base,
            "--",
            str(threads),
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("JSON"))
    result = json.loads(line[4:])
    result["per_s"] = round(result["requests"] / result["seconds"], 1)
    return result


def decisions_under_load(world, base, first_id, seconds):
    """3. Customer approvals through gunicorn with 32 concurrent clients vs a trivial DRF GET."""
    from knox.models import AuthToken

    token = AuthToken.objects.create(world["approver"])[1]
    trivial = _wrk(base, "GET", "/api/v1/me/", token, 0, seconds)
    decisions = _wrk(base, "POST", "/api/v1/requests/{id}/approve/", token, first_id, seconds)
    return {
        "decisions": decisions,
        "trivial_endpoint": trivial,
        "ratio": round(decisions["per_s"] / trivial["per_s"], 2),
    }


def request_list(world):
    """6. The requests list with 10,000 requests in a tenant: queries and render time."""
    client = Client()
    client.force_login(world["approver"])
    with count_queries() as queries:
        assert client.get("/support/lockbox-requests/").status_code == 200
    page = timed(lambda: client.get("/support/lockbox-requests/"), 60)
    anonymous = Client()
    trivial = timed(lambda: anonymous.get("/login/"), 60)
    return {
        "queries": len(queries),
        "page": summary(page),
        "trivial_page": summary(trivial),
        "ratio_p95": round(summary(page)["p95_ms"] / summary(trivial)["p95_ms"], 2),
    }


EXPORT_SCRIPT = """
import os, sys
import django
django.setup()
from django.test import Client
from tenants_app.models import User
client = Client()
client.force_login(User.objects.get(username=sys.argv[1]))
client.get("/api/v1/me/")
def hwm_kb():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec.
    return int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")))
baseline = hwm_kb()
rows = 0
for chunk in client.get("/api/v1/audit/records/export/").streaming_content:
    rows += chunk.count(b"\\n")
peak = hwm_kb()
print(f"JSON{{\\"rows\\": {rows - 1}, \\"baseline_mb\\": {baseline / 1024:.1f}, \\"peak_mb\\": {peak / 1024:.1f}}}")
"""


def export_memory(username):
    """7. Peak RSS of a process that streams a 1,000,000-row CSV export."""
    out = subprocess.run(
        [sys.executable, "-c", EXPORT_SCRIPT, username],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("JSON"))
    return json.loads(line[4:])


def retention_purge(writer_tenant):
    """4. Purge the expired half of the log while another process keeps writing audit records."""
    from audit_app.models import AuditRecord
    from audit_app.retention import audit_records_prune

    before = AuditRecord.objects.count()
    writer = subprocess.Popen(
        [sys.executable, "-m", "bench.writer", str(writer_tenant.pk)],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(1)  # let the writer reach its steady state before the purge starts
    start = time.perf_counter()
    counts = audit_records_prune(now=data.NOW)
    seconds = time.perf_counter() - start
    writer.terminate()
    latencies = json.loads(writer.communicate(timeout=30)[0].strip().splitlines()[-1])
    deleted = sum(counts.values())
    return {
        "records_before": before,
        "deleted": deleted,
        "seconds": round(seconds, 1),
        "rows_per_s": round(deleted / seconds),
        "writer": summary(latencies),
    }


def expiry_lag(world, count, spread_seconds):
    """5. Grants whose windows end within the same minute; a real worker on Redis completes them."""
    from audit_app.models import AuditRecord
    from requests_app.models import AccessRequest

    ids = world["grant_ids"]
    env = {**os.environ, "LOCKBOX_VAR_DIR": tempfile.mkdtemp()}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "lockbox_site",
            "worker",
            "--beat",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--schedule",
            env["LOCKBOX_VAR_DIR"] + "/beat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + spread_seconds + 120
    try:
        while time.monotonic() < deadline:
            if not AccessRequest.objects.filter(pk__in=ids, status="approved").exists():
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    ends = dict(AccessRequest.objects.filter(pk__in=ids).values_list("pk", "window_ends_at"))
    # Scoped to the grants' own records: the synthetic audit data reuses the same request ids.
    done = AuditRecord.objects.filter(
        tenant=world["tenant"],
        object_type="AccessRequest",
        request_id__in=ids,
        operation="AccessExpired",
    ).values_list("request_id", "created_at")
    lags = [(at - ends[pk]).total_seconds() * 1000 for pk, at in done]
    return {
        "grants": count,
        "completed": len(lags),
        "lag": summary(lags),
        "sweep_interval_s": int(os.environ.get("LOCKBOX_SWEEP_SECONDS", "2")),
    }


def make_grants(world, count, spread_seconds, lead_seconds=15):
    """Approved requests whose windows end between lead and lead+spread seconds from now."""
    from requests_app.models import AccessRequest

    now = timezone.now()
    rng = random.Random(5)
    rows = []
    for _ in range(count):
        end = now + timedelta(seconds=lead_seconds + rng.uniform(0, spread_seconds))
        rows.append(
            AccessRequest(
                ticket=world["ticket"],
                tenant=world["tenant"],
                requester=world["engineer"],
                reason="bench",
                duration_minutes=15,
                status="approved",
                created_at=end - timedelta(minutes=16),
                expires_at=end + timedelta(hours=11),
                window_starts_at=end - timedelta(minutes=15),
                window_ends_at=end,
            )
        )
    return [r.pk for r in AccessRequest.objects.bulk_create(rows)]


def make_pending(world, count):
    from requests_app.models import AccessRequest

    now = timezone.now()
    rows = [
        AccessRequest(
            ticket=world["ticket"],
            tenant=world["tenant"],
            requester=world["engineer"],
            reason="bench",
            duration_minutes=60,
            status="pending_customer",
            created_at=now,
            expires_at=now + timedelta(hours=12),
        )
        for _ in range(count)
    ]
    created = AccessRequest.objects.bulk_create(rows)
    through = AccessRequest.cloud_pcs.through
    through.objects.bulk_create(
        [through(accessrequest_id=r.pk, cloudpc_id=world["pc"].pk) for r in created]
    )
    return [r.pk for r in created]


def retention_policy_count(pair, records_each):
    """8. One tenant's retention run with 50 policies against the same run with 1 policy.

    Both tenants hold the same generated log and end up with the same cutoffs: a catch-all
    180-day policy, and for the second tenant 49 more, higher-priority policies for operations
    the log does not hold. The ratio shows whether the run grows with the number of policies.
    """
    from audit_app.models import Operation, RecordType, RetentionPolicy
    from audit_app.retention import tenant_retention_apply

    one, fifty = pair
    data.audit_records([one], records_each, seed=11)
    data.audit_records([fifty], records_each, seed=11)
    absent = [op for op in Operation.values if op not in data.OPERATIONS]
    narrow = [(RecordType.values[n % 3], absent[n % len(absent)]) for n in range(49)]
    RetentionPolicy.objects.bulk_create(
        [
            RetentionPolicy(
                tenant=fifty,
                name=f"narrow {n}",
                record_types=[record_type],
                operations=[operation],
                duration=RetentionPolicy.Duration.values[n % 7],
                priority=n + 1,
            )
            for n, (record_type, operation) in enumerate(narrow)
        ]
        + [
            RetentionPolicy(tenant=tenant, name="all", duration="P180D", priority=100)
            for tenant in (one, fifty)
        ]
    )
    results = {}
    for label, tenant in (("1_policy", one), ("50_policies", fifty)):
        start = time.perf_counter()
        deleted = tenant_retention_apply(tenant_id=tenant.pk, now=data.NOW)
        results[label] = {
            "policies": RetentionPolicy.objects.filter(tenant=tenant).count(),
            "deleted": deleted,
            "seconds": round(time.perf_counter() - start, 2),
        }
    results["ratio"] = round(results["50_policies"]["seconds"] / results["1_policy"]["seconds"], 2)
    return results


def offline_verify(records):
    """9. `lockbox-verify` on a generated export of `records` records (bench/verify_export.py):
    wall and CPU time, peak RSS at full and a tenth of the size, against sha256sum and a plain
    JSON Lines parse of the same file."""
    from bench.verify_export import offline_verify as measure

    return measure(records)
