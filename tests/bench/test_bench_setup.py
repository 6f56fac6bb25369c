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
