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
from bench.setup import cpu_delta, cpu_ms, cpu_snapshot, pg_backends, scaled, spread, summary, timed
from lockbox_site.querycount import count_queries

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


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


def _plan(sql, params) -> list[str]:
    """The plan's node types, to show two queries run the same plan."""
    rows = _raw("EXPLAIN (FORMAT JSON) " + sql, params)
    nodes, stack = [], [rows[0][0][0]["Plan"]]
    while stack:
        node = stack.pop()
        nodes.append(f"{node['Node Type']} {node.get('Index Name', '')}".strip())
        stack.extend(node.get("Plans", []))
    return nodes


def _api_sql(client, query):
    """The SQL the endpoint runs for the records (the one statement reading the audit table;
    the sign-in's user-and-tenant statement can be longer), with its params."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/v1/audit/records/", query).status_code == 200
    searches = [q["sql"] for q in captured.captured_queries if "audit_app_auditrecord" in q["sql"]]
    assert len(searches) == 1, searches
    return searches[0]


def _timed_rounds(named, calls, rounds=ROUNDS):
    """Interleaved rounds of `calls` calls each; all samples in ms, and CPU-ms per call."""
    pids = [os.getpid(), *pg_backends()]
    samples = {name: [] for name in named}
    cpu = {name: [] for name in named}
    p95s = {name: [] for name in named}
    for name in named:
        named[name]()  # warm-up
    for r in range(rounds):
        for name in named if r % 2 == 0 else reversed(list(named)):
            before = cpu_ms(pids)
            got = timed(named[name], calls)
            cpu[name].append((cpu_ms(pids) - before) / (calls + 1))
            p95s[name].append(summary(got)["p95_ms"])
            samples[name] += got
    return {
        name: {
            **summary(samples[name]),
            "p95_rounds": spread(p95s[name]),
            "cpu_ms": spread(cpu[name]),
        }
        for name in named
    }


def audit_search(tenants):
    """1. First page of the audit API at 2M records against: the raw query written by hand, the
    SQL the API itself sends (run raw, to show the ORM adds nothing to the query), and GET
    /api/v1/me/ through the same client (what a request costs whatever it does)."""
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
            # One record type is one equality, as the API sends it: `record_type = ANY(array)`
            # keeps PostgreSQL from reading the (tenant, type, time) index in the page's order,
            # so the hand-written query sorted its rows and never had the API's plan.
            "tenant_id = %s AND created_at >= %s AND created_at <= %s AND record_type = %s",
            [tenant.pk, start, end, "Windows365CustomerLockbox"],
        ),
        "free_text": (
            {"q": "printer vpn"},
            "tenant_id = %s AND (UPPER(details::text) LIKE UPPER(%s) OR UPPER(actor::text) LIKE UPPER(%s))",
            [tenant.pk, "%printer vpn%", "%printer vpn%"],
        ),
    }
    for name, (query, where, params) in cases.items():

        def api(query=query):
            # The status only, as for /me/: parsing the page's JSON (about 0.1 ms for 50
            # records) is the client's work, not the endpoint's; the page is checked once below.
            assert client.get("/api/v1/audit/records/", query).status_code == 200

        def me():
            assert client.get("/api/v1/me/").status_code == 200

        sql = f"SELECT * FROM audit_app_auditrecord WHERE {where} ORDER BY created_at DESC, id DESC LIMIT 51"
        api_sql = _api_sql(client, query)
        page = client.get("/api/v1/audit/records/", query).json()["results"]
        assert all(record["tenant"] == tenant.slug for record in page)
        runs = _timed_rounds(
            {
                "raw_sql": lambda sql=sql, params=params: _raw(sql, params),
                "api_sql": lambda api_sql=api_sql: _raw(api_sql, None),
                "api": api,
                "me": me,
            },
            40,
        )
        results[name] = {
            **runs,
            "page_records": len(page),
            "distinct": "DISTINCT" in api_sql.upper(),
            "same_plan": _plan(sql, params) == _plan(api_sql, None),
            "api_sql_ratio_p95": round(
                runs["api_sql"]["p95_ms"] / max(runs["raw_sql"]["p95_ms"], 0.001), 2
            ),
            "ratio_p95": round(runs["api"]["p95_ms"] / max(runs["raw_sql"]["p95_ms"], 0.001), 2),
            "ratio_to_me_p95": round(runs["api"]["p95_ms"] / max(runs["me"]["p95_ms"], 0.001), 2),
        }
    return results


RAW_TABLE = "bench_raw_auditrecord"


def _raw_table():
    """The raw INSERT baseline's own table, shaped like the audit table (columns, defaults,
    indexes), so the baseline never writes into a tenant's chain and verify_audit still passes."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {RAW_TABLE} (LIKE audit_app_auditrecord INCLUDING ALL)"
        )


def _raw_insert(tenant_id, i):
    with connection.cursor() as cursor:  # autocommit: one transaction per row, like an action
        cursor.execute(
            f"INSERT INTO {RAW_TABLE} (created_at, tenant_id, seq, record_type, operation, actor,"
            " actor_type, object_type, object_id, result, details, request_id, prev_hash, hash)"
            " VALUES (now(), %s, %s, 'Windows365CustomerLockbox', 'OperatorAction', 'e',"
            " 'provider', 'CloudPC', '1', 'success', '{\"action\": \"view\"}', 1, %s, %s)",
            [tenant_id, i, "0" * 64, "0" * 64],
        )


def _measure(fn, n, pids):
    """Run fn(i) n times; wall-clock rate and CPU-ms per call of this process + its backend."""
    cpu = cpu_ms(pids)
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    seconds = time.perf_counter() - start
    return n / seconds, (cpu_ms(pids) - cpu) / n


def interleaved(named, n, rounds=ROUNDS):
    """Each named fn(i) runs n times per round, the rounds interleaved (the order alternating),
    so the machine's noise hits all of them alike. Returns rates and CPU-ms per call."""
    pids = [os.getpid(), *pg_backends()]
    out = {name: {"per_s": [], "cpu_ms": []} for name in named}
    names = list(named)
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            rate, cpu = _measure(named[name], n, pids)
            out[name]["per_s"].append(rate)
            out[name]["cpu_ms"].append(cpu)
    return out


def operator_actions(world):
    """2. Operator actions per second, each with a fresh actor (a request loads the user, tenant
    and groups), against a raw INSERT of the same row into a table of its own."""
    from django.conf import settings
    from django.contrib.auth import load_backend

    from requests_app import services

    # The backend the session middleware asks for the signed-in user on every request.
    backend = load_backend(settings.AUTHENTICATION_BACKENDS[-1])
    engineer_id, pc = world["engineer"].pk, world["pc"]
    n = scaled(3000, 200) // ROUNDS
    _raw_table()
    counter = iter(range(10**9))

    def action(i):
        actor = backend.get_user(engineer_id)  # what the session middleware calls per request
        services.cloud_pc_operate(actor=actor, cloud_pc_id=pc.pk, action="view")

    def raw(i):
        _raw_insert(pc.tenant_id, next(counter))

    for i in range(50):  # warm-up: connections, prepared caches, imports
        action(i)
        raw(i)
    runs = interleaved({"action": action, "raw_insert": raw}, n)
    ratios = [
        a / b for a, b in zip(runs["action"]["per_s"], runs["raw_insert"]["per_s"], strict=True)
    ]
    return {
        "actions_per_s": spread(runs["action"]["per_s"]),
        "action_cpu_ms": spread(runs["action"]["cpu_ms"]),
        "raw_insert_per_s": spread(runs["raw_insert"]["per_s"]),
        "raw_insert_cpu_ms": spread(runs["raw_insert"]["cpu_ms"]),
        "ratio": spread(ratios),
        "n_per_round": n,
        "rounds": ROUNDS,
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


def children(pid) -> list[int]:
    """A process's direct children (gunicorn's workers)."""
    with open(f"/proc/{pid}/task/{pid}/children") as handle:
        return [int(x) for x in handle.read().split()]


def _pending_ids_from(first):
    from requests_app.models import AccessRequest

    return AccessRequest.objects.filter(pk__gte=first, status="pending_customer")


def _wrk_round(base, method, path, token, first, seconds, server_pid):
    """One wrk run; CPU-ms per request of the gunicorn workers and the database's backends,
    enumerated before and after (a worker's connection may be replaced mid-round)."""

    def pids():
        return [*children(server_pid), *pg_backends()]

    before = cpu_snapshot(pids())
    result = _wrk(base, method, path, token, first, seconds)
    cpu = cpu_delta(before, cpu_snapshot(pids()))
    result["cpu_ms_per_request"] = cpu / max(result["requests"], 1)
    return result


def decisions_under_load(world, base, server_pid, pool, seconds, rounds=3):
    """3. Customer approvals through gunicorn, 32 concurrent clients, against GET /api/v1/me/
    under the same load, in interleaved rounds after a warm-up. Only approvals the database
    shows done count (a 404 from a spent pool is not throughput)."""
    from knox.models import AuthToken

    from requests_app.models import AccessRequest

    token = AuthToken.objects.create(world["approver"])[1]
    approve = "/api/v1/requests/{id}/approve/"

    def next_first():
        time.sleep(0.5)  # in-flight requests finish
        done = AccessRequest.objects.filter(pk__in=pool).exclude(status="pending_customer")
        last = done.order_by("-pk").values_list("pk", flat=True).first()
        return pool[0] if last is None else last + 1

    # Warm-up: every worker's first Celery publish and connection, before anything counts.
    _wrk(base, "GET", "/api/v1/me/", token, 0, 2)
    _wrk(base, "POST", approve, token, next_first(), 2)
    rows = {"me": [], "approve": []}
    for r in range(rounds):
        order = ("me", "approve") if r % 2 == 0 else ("approve", "me")
        for name in order:
            if name == "me":
                rows["me"].append(
                    _wrk_round(base, "GET", "/api/v1/me/", token, 0, seconds, server_pid)
                )
                continue
            first = next_first()
            result = _wrk_round(base, "POST", approve, token, first, seconds, server_pid)
            end = next_first()
            approved = AccessRequest.objects.filter(
                pk__gte=first, pk__lt=end, status="approved"
            ).count()
            result["approved"] = approved
            if not approved:
                raise RuntimeError(f"No approval succeeded: {result}")
            result["approved_per_s"] = round(approved / result["seconds"], 1)
            result["pool_left"] = _pending_ids_from(end).count()
            rows["approve"].append(result)
    if rows["approve"][-1]["pool_left"] == 0:
        raise RuntimeError("The pending pool ran out; raise BENCH_MAX_RATE.")
    ratios = [
        a["approved_per_s"] / m["per_s"] for a, m in zip(rows["approve"], rows["me"], strict=True)
    ]
    return {
        "decisions": {
            "per_s": spread([x["approved_per_s"] for x in rows["approve"]]),
            "p95_ms": spread([x["p95_ms"] for x in rows["approve"]]),
            "cpu_ms": spread([x["cpu_ms_per_request"] for x in rows["approve"]]),
            "non2xx": sum(x["non2xx"] for x in rows["approve"]),
        },
        "trivial_endpoint": {
            "per_s": spread([x["per_s"] for x in rows["me"]]),
            "p95_ms": spread([x["p95_ms"] for x in rows["me"]]),
            "cpu_ms": spread([x["cpu_ms_per_request"] for x in rows["me"]]),
        },
        "ratio": spread(ratios),
        "seconds_per_round": seconds,
        "rounds": rounds,
        "raw": rows,
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
            # The customer sees a request only once it reached them (SPEC 8).
            reached_customer_at=now,
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


def retention_policy_count(tenants, records_each):
    """8. One tenant's retention run with 50 policies against the same run with 1 policy.

    Every tenant holds the same generated log and ends up with the same cutoffs: a catch-all
    180-day policy, and for the 50-policy tenants 49 more, higher-priority policies for
    operations the log does not hold. The ratio shows whether the run grows with the number of
    policies. A run deletes what it measures, so there are two tenants of each kind, run in the
    order 1, 50, 50, 1: on a settled table the second of two runs took 2.5 times the first,
    whichever kind it was, and this order cancels that.
    """
    from audit_app.models import Operation, RecordType, RetentionPolicy
    from audit_app.retention import tenant_retention_apply

    one_a, fifty_a, fifty_b, one_b = tenants
    for tenant in tenants:
        data.audit_records([tenant], records_each, seed=11)
    absent = [op for op in Operation.values if op not in data.OPERATIONS]
    narrow = [(RecordType.values[n % 3], absent[n % len(absent)]) for n in range(49)]
    RetentionPolicy.objects.bulk_create(
        [
            RetentionPolicy(
                tenant=tenant,
                name=f"narrow {n}",
                record_types=[record_type],
                operations=[operation],
                duration=RetentionPolicy.Duration.values[n % 7],
                priority=n + 1,
            )
            for tenant in (fifty_a, fifty_b)
            for n, (record_type, operation) in enumerate(narrow)
        ]
        + [
            RetentionPolicy(tenant=tenant, name="all", duration="P180D", priority=100)
            for tenant in tenants
        ]
    )
    runs = {"1_policy": [], "50_policies": []}
    for label, tenant in (
        ("1_policy", one_a),
        ("50_policies", fifty_a),
        ("50_policies", fifty_b),
        ("1_policy", one_b),
    ):
        data.settle()  # an earlier run's deletions are not vacuumed during this one
        start = time.perf_counter()
        deleted = tenant_retention_apply(tenant_id=tenant.pk, now=data.NOW)
        runs[label].append({"deleted": deleted, "seconds": round(time.perf_counter() - start, 2)})
    results = {
        label: {
            "policies": RetentionPolicy.objects.filter(
                tenant=tenants[0 if label == "1_policy" else 1]
            ).count(),
            "deleted": runs[label][0]["deleted"],
            "seconds": round(sum(run["seconds"] for run in runs[label]) / 2, 2),
            "runs": runs[label],
        }
        for label in runs
    }
    results["ratio"] = round(results["50_policies"]["seconds"] / results["1_policy"]["seconds"], 2)
    return results


def offline_verify(records):
    """9. `lockbox-verify` on a generated export of `records` records (bench/verify_export.py):
    wall and CPU time, peak RSS at full and a tenth of the size, against sha256sum and a plain
    JSON Lines parse of the same file."""
    from bench.verify_export import offline_verify as measure

    return measure(records)


def _open_grant(world, tenant, name):
    """A Cloud PC in `tenant` and an approved grant on it for the engineer, open for hours."""
    from requests_app.models import AccessRequest, Ticket
    from tenants_app.models import CloudPC

    pc, _ = CloudPC.objects.get_or_create(
        tenant=tenant, name=name, defaults={"region": "westeurope"}
    )
    now = timezone.now()
    ticket = Ticket.objects.create(tenant=tenant, title="bench", created_by=world["engineer"])
    grant = AccessRequest.objects.create(
        ticket=ticket,
        tenant=tenant,
        requester=world["engineer"],
        reason="bench",
        duration_minutes=480,
        status="approved",
        created_at=now,
        expires_at=now + timedelta(hours=12),
        window_starts_at=now - timedelta(minutes=1),
        window_ends_at=now + timedelta(hours=8),
    )
    grant.cloud_pcs.add(pc)
    return pc.pk


def _operate_until(engineer_id, pc_id, start_at, seconds, queue):
    from django.conf import settings
    from django.contrib.auth import load_backend
    from django.db import connections

    from requests_app import services

    backend = load_backend(settings.AUTHENTICATION_BACKENDS[-1])  # as in operator_actions
    time.sleep(max(0.0, start_at - time.time()))
    cpu = time.process_time()
    done, end = 0, time.time() + seconds
    while time.time() < end:
        actor = backend.get_user(engineer_id)
        services.cloud_pc_operate(actor=actor, cloud_pc_id=pc_id, action="view")
        done += 1
    queue.put((done, (time.process_time() - cpu) * 1000))
    connections.close_all()


def _parallel(engineer_id, pc_ids, seconds):
    import multiprocessing

    from django.db import connections

    connections.close_all()  # each forked process opens its own connection
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    start_at = time.time() + 1
    procs = [
        context.Process(target=_operate_until, args=(engineer_id, pc, start_at, seconds, queue))
        for pc in pc_ids
    ]
    for proc in procs:
        proc.start()
    got = [queue.get(timeout=seconds + 60) for _ in procs]
    for proc in procs:
        proc.join()
    actions = sum(n for n, _ in got)
    return {"per_s": actions / seconds, "client_cpu_ms": sum(c for _, c in got) / actions}


def tenants_in_parallel(world, clients=8, seconds=5, rounds=3):
    """SCALING.md: operator actions from 8 concurrent clients, each on its own Cloud PC and
    grant, all in one tenant (one chain head, so appends queue) against one tenant each."""
    one = [_open_grant(world, world["tenant"], f"bench-par-{n}") for n in range(clients)]
    spread_tenants = data.tenants(100 + clients)[-clients:]
    many = [_open_grant(world, t, f"bench-par-{n}") for n, t in enumerate(spread_tenants)]
    runs = {"one_tenant": [], "eight_tenants": []}
    for r in range(rounds):
        for name in (
            ("one_tenant", "eight_tenants") if r % 2 == 0 else ("eight_tenants", "one_tenant")
        ):
            runs[name].append(
                _parallel(world["engineer"].pk, one if name == "one_tenant" else many, seconds)
            )
    return {
        name: {
            "per_s": spread([x["per_s"] for x in rows]),
            "client_cpu_ms": spread([x["client_cpu_ms"] for x in rows]),
        }
        for name, rows in runs.items()
    } | {"clients": clients, "seconds": seconds, "rounds": rounds}
