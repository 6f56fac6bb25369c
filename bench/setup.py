"""A throwaway PostgreSQL database, Redis db and ports for one bench run; Django configured.

Two runs on one machine must not destroy each other, so every resource is either given by the
environment (BENCH_DB, BENCH_BROKER) or made unique to this run, and the run only ever drops or
empties what it created itself.
"""

import os
import socket
import statistics
import time

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
# A Redis db is claimed with this key (SET NX), so two runs never pick the same one.
CLAIM_KEY = "lockbox-bench:claimed-by"


def run_name() -> str:
    """Unique on this machine: the time and the process id."""
    return f"lockbox_bench_{time.strftime('%Y%m%d%H%M%S')}_{os.getpid()}"


def free_port() -> int:
    """A port nobody listens on now (the kernel picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_database(name: str) -> None:
    """CREATE, never DROP first: a name already taken is another run's (or someone's) database."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def claim_redis_db(owner: str, base: str = "redis://127.0.0.1:6379") -> str:
    """An empty Redis db (1..15), claimed for this run; BENCH_BROKER overrides the search."""
    import redis

    for number in range(1, 16):
        client = redis.Redis.from_url(f"{base}/{number}")
        if client.dbsize() == 0 and client.set(CLAIM_KEY, owner, nx=True):
            return f"{base}/{number}"
    raise RuntimeError("No empty Redis db to claim; set BENCH_BROKER.")


def release_redis_db(url: str, owner: str) -> None:
    """Give the claimed db back empty. It was empty when claimed and nobody else uses a db
    that is not empty, so all it holds is this run's: the notifications its approvals queued
    and kombu's bindings (left there, they kept the db from ever being claimed again)."""
    import redis

    client = redis.Redis.from_url(url)
    if client.get(CLAIM_KEY) == owner.encode():
        client.flushdb()


class Resources:
    """What this run uses, and whether it created it (and so may remove it)."""

    def __init__(self):
        self.name = run_name()
        self.db = os.environ.get("BENCH_DB") or self.name
        self.broker = os.environ.get("BENCH_BROKER") or claim_redis_db(self.name)
        self.claimed_broker = "BENCH_BROKER" not in os.environ
        self.keep = os.environ.get("BENCH_KEEP") == "1"

    def release(self) -> None:
        if not self.keep:
            drop_database(self.db)
        if self.claimed_broker:
            release_redis_db(self.broker, self.name)


def configure() -> Resources:
    resources = Resources()
    create_database(resources.db)
    os.environ.update(
        DATABASE_URL=f"{PG}/{resources.db}",
        DJANGO_SETTINGS_MODULE="lockbox_site.settings",
        SECRET_KEY=os.environ.get("SECRET_KEY", "benchmarks-only"),
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        STATIC_MANIFEST="false",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        CELERY_BROKER_URL=resources.broker,
        LOCKBOX_TOKEN_THROTTLE="100000/min",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))
    return resources


def scaled(n: int, minimum: int = 1) -> int:
    return max(minimum, int(n * SCALE))


def percentile(values, p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def timed(fn, repeat: int) -> list[float]:
    """Milliseconds per call, after one warm-up call."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(samples) -> dict:
    return {
        "p50_ms": round(percentile(samples, 50), 2),
        "p95_ms": round(percentile(samples, 95), 2),
        "p99_ms": round(percentile(samples, 99), 2),
        "mean_ms": round(statistics.fmean(samples), 2),
        "n": len(samples),
    }


def spread(values) -> dict:
    """The median of repeated rounds and how far they moved (min, max), for the report."""
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
        "rounds": [round(v, 2) for v in values],
    }


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ms(pids) -> float:
    """User + system CPU of these processes so far, in ms (from /proc/<pid>/stat; a process
    that has gone is counted as 0, so measure processes that outlive the measurement)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total * 1000 / TICKS


def cpu_snapshot(pids) -> dict[int, float]:
    return {pid: cpu_ms([pid]) for pid in pids}


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU-ms spent between two snapshots: a process only in `after` started in between (all
    its CPU counts); one only in `before` exited (its last share is lost, a small undercount)."""
    return sum(ms - before.get(pid, 0.0) for pid, ms in after.items())


def pg_backends() -> list[int]:
    """The PostgreSQL backends connected to this run's database (the server side's CPU)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend'"
        )
        return [row[0] for row in cursor.fetchall()]
