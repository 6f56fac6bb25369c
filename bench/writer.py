"""Writes audit records as fast as it can until stopped; prints its per-insert latencies (ms)."""

import json
import signal
import sys
import time

import django

django.setup()

from django.db import transaction  # noqa: E402

from audit_app.services import audit_record  # noqa: E402

stop = False


def _stop(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, _stop)
tenant_id = int(sys.argv[1])
latencies = []
while not stop:
    start = time.perf_counter()
    with transaction.atomic():
        audit_record(
            tenant_id=tenant_id,
            actor=None,
            record_type="Windows365CustomerLockbox",
            operation="OperatorAction",
            object_type="CloudPC",
            object_id="1",
            details={"action": "view", "bench": True},
        )
    latencies.append((time.perf_counter() - start) * 1000)
    time.sleep(0.002)
print(json.dumps(latencies))
