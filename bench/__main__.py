"""`make bench`: the hot paths against same-run baselines on PostgreSQL + Redis.

BENCH_SCALE=0.05 shrinks every data set for a quick run; 1 is the full size of issue 7.
"""

import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.setup import SCALE, configure, free_port, scaled

OUT = Path(__file__).resolve().parent / "results.json"


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in open("/proc/cpuinfo")
            if line.startswith("model name")
        ),
        "?",
    )
    mem_kb = next(
        int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgresql": _pg_version(),
    }


def _pg_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def _world():
    from requests_app import services
    from tenants_app.models import CloudPC, Tenant, User

    contoso = Tenant.objects.get(slug="contoso")
    engineer = User.objects.get(username="engineer@provider.example")
    manager = User.objects.get(username="manager@provider.example")
    approver = User.objects.get(username="approver@contoso.example")
    pc = CloudPC.objects.filter(tenant=contoso).order_by("pk").first()
    ticket = services.ticket_open(actor=engineer, tenant_slug="contoso", title="bench")
    grant = services.access_request_create(
        actor=engineer,
        ticket_id=ticket.pk,
        cloud_pc_ids=[pc.pk],
        reason="bench",
        duration_minutes=480,
    )
    services.access_request_internal_approve(actor=manager, access_request_id=grant.pk)
    services.access_request_approve(actor=approver, access_request_id=grant.pk)
    return {
        "tenant": contoso,
        "engineer": engineer,
        "approver": approver,
        "pc": pc,
        "ticket": ticket,
    }


def gunicorn(port: int, workers: int = 2, worker_class: str = "sync", threads: int = 1):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "lockbox_site.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            "--threads",
            str(threads),
            "--log-level",
            "warning",
            # As the Procfile serves: a line per request, here to stdout (discarded), so its
            # cost is measured too.
            "--access-logfile",
            "-",
        ],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import urllib.request

    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def _quiet_broker():
    """Drop the notifications the load test queued, so the expiry worker measures only expiry."""
    from django.utils import timezone

    from lockbox_site.celery import app
    from requests_app.models import OutboxMessage

    OutboxMessage.objects.filter(sent_at__isnull=True).update(sent_at=timezone.now())
    app.control.purge()  # this run's own queue, in the Redis db the run was given or claimed


def main():
    started = time.perf_counter()
    resources = configure()
    try:
        run(started)
    finally:
        resources.release()


# The fastest approvals a worker could do here; the pending pool covers every round at this rate.
MAX_RATE = int(os.environ.get("BENCH_MAX_RATE", "800"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))  # bench.workers: bench/workers.json
# BENCH_CASES=2,3 runs only those cases (the audit data is seeded only for the ones needing it).
CASES = set(os.environ.get("BENCH_CASES", "1,2,3,4,5,6,7,8,9").split(","))


def run(started):
    from bench import cases, data

    results = {
        "scale": SCALE,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
    }
    world = _world()
    tenants = []
    if CASES & {"1", "4"}:
        print(f"seeding {scaled(2_000_000)} audit records across 100 tenants …", flush=True)
        tenants = data.tenants(100)
        data.audit_records(tenants, scaled(2_000_000, 10_000))
    if "1" in CASES:
        results["1_audit_search"] = cases.audit_search(tenants)
        print("1 done", flush=True)
    if "2" in CASES:
        results["2_operator_actions"] = cases.operator_actions(world)
        print("2 done", flush=True)
    if "6" in CASES:
        pending = cases.make_pending(world, scaled(10_000, 1000))
        results["6_request_list"] = {
            **cases.request_list(world),
            "requests_in_tenant": len(pending) + 1,
        }
        print("6 done", flush=True)
    if "3" in CASES:
        seconds, rounds = (10 if SCALE >= 0.5 else 4), 3
        pool = cases.make_pending(world, MAX_RATE * seconds * rounds + MAX_RATE * 4)
        data.settle()  # autovacuum on the new pool would otherwise run during the rounds
        port = free_port()
        server = gunicorn(port, WORKERS)
        try:
            results["3_decisions_under_load"] = cases.decisions_under_load(
                world, f"http://127.0.0.1:{port}", server.pid, pool, seconds, rounds
            )
            results["3_decisions_under_load"]["workers"] = WORKERS
        finally:
            server.terminate()
            server.wait(timeout=30)
        print("3 done", flush=True)
    if "5" in CASES:
        _quiet_broker()
        spread = max(5.0, 60 * min(1.0, SCALE))
        world["grant_ids"] = cases.make_grants(world, scaled(1000, 100), spread)
        results["5_expiry_lag"] = cases.expiry_lag(world, len(world["grant_ids"]), spread)
        print("5 done", flush=True)
    if "4" in CASES:
        results["4_retention"] = cases.retention_purge(tenants[0])
        print("4 done", flush=True)
    if "7" in CASES:
        export_tenant = data.tenants(101)[-1]
        data.audit_records([export_tenant], scaled(1_000_000, 10_000), seed=9)
        results["7_export_memory"] = cases.export_memory(cases._admin_of(export_tenant).username)
    if "8" in CASES:
        results["8_retention_policies"] = cases.retention_policy_count(
            data.tenants(105)[-4:], scaled(200_000, 10_000)
        )
        print("8 done", flush=True)
    if "9" in CASES:
        results["9_offline_verify"] = cases.offline_verify(scaled(1_000_000, 10_000))
        print("9 done", flush=True)
    if "scaling" in CASES:
        results["scaling_tenants"] = cases.tenants_in_parallel(world)
        print("scaling done", flush=True)
    results["seconds"] = round(time.perf_counter() - started)
    OUT.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print_table(results)


def _row(make):
    """A table row, or None for a case this run did not measure."""
    try:
        return make()
    except (KeyError, TypeError):
        return None


def print_table(r):
    s = r.get("1_audit_search")
    o = r.get("2_operator_actions")
    d = r.get("3_decisions_under_load")

    def sp(x, unit=""):
        return f"{x['median']}{unit} [{x['min']}–{x['max']}]"

    rows = [
        lambda: (
            "1 audit search, filtered p95",
            f"{s['filtered']['api']['p95_ms']} ms, API SQL {s['filtered']['api_sql']['p95_ms']} ms",
            f"raw {s['filtered']['raw_sql']['p95_ms']} ms, /me/ {s['filtered']['me']['p95_ms']} ms",
            f"SQL {s['filtered']['api_sql_ratio_p95']}x raw, {s['filtered']['ratio_to_me_p95']}x /me/",
            "≤ 50 ms, SQL ≤ 1.5x raw, ≤ 2x /me/",
        ),
        lambda: (
            "1 audit search, free text p95",
            f"{s['free_text']['api']['p95_ms']} ms",
            f"raw {s['free_text']['raw_sql']['p95_ms']} ms",
            f"{s['free_text']['ratio_p95']}x raw",
            "≤ 3x raw",
        ),
        lambda: (
            "2 operator actions (fresh actor)",
            f"{sp(o['actions_per_s'], '/s')}, {o['action_cpu_ms']['median']} CPU-ms",
            f"raw {sp(o['raw_insert_per_s'], '/s')}, {o['raw_insert_cpu_ms']['median']} CPU-ms",
            f"{sp(o['ratio'])} of raw",
            "≥ 1000/s, ≥ 0.40",
        ),
        lambda: (
            f"3 approvals, 32 clients, {d['workers']} workers",
            f"{sp(d['decisions']['per_s'], '/s')} p95 {sp(d['decisions']['p95_ms'], ' ms')}, {d['decisions']['cpu_ms']['median']} CPU-ms",
            f"/me/ {sp(d['trivial_endpoint']['per_s'], '/s')}, {d['trivial_endpoint']['cpu_ms']['median']} CPU-ms",
            f"{sp(d['ratio'])} of /me/",
            "≥ 250/s, p95 ≤ 150 ms, ≥ 0.50",
        ),
        lambda: (
            "4 retention purge",
            f"{r['4_retention']['rows_per_s']} rows/s",
            f"writer p99 {r['4_retention']['writer']['p99_ms']} ms",
            f"{r['4_retention']['deleted']} deleted",
            "≥ 50,000/s, p99 ≤ 100 ms",
        ),
        lambda: (
            "5 expiry lag",
            f"p50 {r['5_expiry_lag']['lag']['p50_ms'] / 1000:.2f} s",
            f"p99 {r['5_expiry_lag']['lag']['p99_ms'] / 1000:.2f} s",
            f"{r['5_expiry_lag']['completed']}/{r['5_expiry_lag']['grants']}",
            "p99 ≤ 5 s",
        ),
        lambda: (
            "6 request list page",
            f"p95 {r['6_request_list']['page']['p95_ms']} ms",
            f"{r['6_request_list']['queries']} queries",
            f"{r['6_request_list']['ratio_p95']}x /login/",
            "≤ 100 ms, constant queries",
        ),
        lambda: (
            "7 CSV export peak RSS",
            f"{r['7_export_memory']['peak_mb']} MB",
            f"baseline {r['7_export_memory']['baseline_mb']} MB",
            f"{r['7_export_memory']['rows']} rows",
            "< 150 MB",
        ),
        lambda: (
            "8 retention, 50 vs 1 policy",
            f"{r['8_retention_policies']['50_policies']['seconds']} s",
            f"1 policy {r['8_retention_policies']['1_policy']['seconds']} s",
            f"{r['8_retention_policies']['ratio']}x",
            "about 1x",
        ),
        lambda: (
            f"9 lockbox-verify, {r['9_offline_verify']['records']:,} records",
            f"{r['9_offline_verify']['verify_seconds']} s (CPU {r['9_offline_verify']['verify_cpu_seconds']} s), peak {r['9_offline_verify']['peak_mb']} MB",
            f"parse {r['9_offline_verify']['json_parse_seconds']} s, sha256sum {r['9_offline_verify']['sha256sum_seconds']} s",
            f"{r['9_offline_verify']['ratio_to_parse']}x parse (CPU), {r['9_offline_verify']['peak_mb_at_tenth']} MB at 1/10",
            "< 30 s, flat memory",
        ),
    ]
    rows = [row for row in map(_row, rows) if row]
    if not rows:  # e.g. BENCH_CASES=scaling: its figures are in the JSON only
        print(f"\nscale {r['scale']}, {r['seconds']} s; written to {OUT}")
        return
    widths = [max(len(str(row[i])) for row in rows) for i in range(5)]
    for row in rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    print(f"\nscale {r['scale']}, {r['seconds']} s; written to {OUT}")


if __name__ == "__main__":
    main()
