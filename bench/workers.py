"""Which gunicorn worker count and class serve this machine best (issue 17).

.venv/bin/python -m bench.workers   (BENCH_DB / BENCH_BROKER as for `make bench`)

Each configuration serves approvals and GET /api/v1/me/ to 32 clients (wrk) in rounds, the
configurations themselves interleaved over two passes so that the machine's noise hits all.
"""

import json
import os
from pathlib import Path

from bench.__main__ import _world, gunicorn
from bench.setup import configure, free_port, spread

OUT = Path(__file__).resolve().parent / "workers.json"
CONFIGS = [(2, "sync", 1), (3, "sync", 1), (4, "sync", 1), (2, "gthread", 4)]
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
MAX_RATE = int(os.environ.get("BENCH_MAX_RATE", "500"))


def main():
    resources = configure()
    try:
        from bench import cases

        world = _world()
        passes = 2
        pool = cases.make_pending(world, MAX_RATE * (SECONDS + 2) * 2 * len(CONFIGS) * passes)
        found = {f"{w} {k} x{t}": [] for w, k, t in CONFIGS}
        for p in range(passes):
            for workers, kind, threads in CONFIGS if p == 0 else reversed(CONFIGS):
                port = free_port()
                server = gunicorn(port, workers, kind, threads)
                try:
                    result = cases.decisions_under_load(
                        world, f"http://127.0.0.1:{port}", server.pid, pool, SECONDS, rounds=2
                    )
                finally:
                    server.terminate()
                    server.wait(timeout=30)
                found[f"{workers} {kind} x{threads}"].append(result)
        summary = {
            name: {
                "approvals_per_s": spread([r["decisions"]["per_s"]["median"] for r in runs]),
                "approvals_p95_ms": spread([r["decisions"]["p95_ms"]["median"] for r in runs]),
                "approval_cpu_ms": spread([r["decisions"]["cpu_ms"]["median"] for r in runs]),
                "me_per_s": spread([r["trivial_endpoint"]["per_s"]["median"] for r in runs]),
                "me_p95_ms": spread([r["trivial_endpoint"]["p95_ms"]["median"] for r in runs]),
            }
            for name, runs in found.items()
        }
        print(json.dumps(summary, indent=1))
        OUT.write_text(json.dumps(summary, indent=1) + "\n")
    finally:
        resources.release()


if __name__ == "__main__":
    main()
