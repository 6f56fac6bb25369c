"""The bench's own bookkeeping (issue 17): unique names, free ports, CPU accounting, spread."""

import os
import socket

from bench.setup import cpu_delta, cpu_ms, free_port, run_name, spread


def test_each_run_gets_its_own_database_name_and_a_free_port():
    assert run_name().startswith("lockbox_bench_") and str(os.getpid()) in run_name()
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # nobody holds it


def test_cpu_accounting_counts_new_processes_whole_and_ignores_exited_ones():
    before = {1: 100.0, 2: 50.0}
    after = {1: 130.0, 3: 20.0}  # 2 exited, 3 started during the round
    assert cpu_delta(before, after) == 50.0


def test_cpu_ms_reads_this_process_and_grows_with_work():
    start = cpu_ms([os.getpid()])
    sum(i * i for i in range(2_000_000))
    assert cpu_ms([os.getpid()]) > start
    assert cpu_ms([2**22 + 12345]) == 0  # a process that is gone counts nothing


def test_spread_reports_median_and_range_of_rounds():
    assert spread([3, 1, 2]) == {"median": 2, "min": 1, "max": 3, "rounds": [3, 1, 2]}


def test_a_claimed_redis_db_is_given_back_empty_and_can_be_claimed_again():
    """The run's queued notifications and kombu's bindings used to stay behind, so after 15
    runs no db was empty and `make bench` refused to start."""
    import redis

    from bench.setup import CLAIM_KEY, claim_redis_db, release_redis_db
    from tests.conftest import require_service

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=2).ping()
    except redis.RedisError:
        require_service(False, "Redis")
    url = claim_redis_db("run-a")
    client = redis.Redis.from_url(url)
    client.rpush("celery", "a queued notification")
    client.set("_kombu.binding.celery", "x")
    release_redis_db(url, "run-b")  # not the owner: nothing is touched
    assert client.get(CLAIM_KEY) == b"run-a" and client.llen("celery") == 1
    release_redis_db(url, "run-a")
    assert client.dbsize() == 0
    again = claim_redis_db("run-c")
    try:
        assert again == url  # the first empty db is the same one again
    finally:
        release_redis_db(again, "run-c")
