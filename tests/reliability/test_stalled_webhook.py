"""One tenant's webhook endpoint stalls for a minute; every other tenant keeps working.

Real processes: gunicorn (2 workers) serves the other tenant's API calls, a real Celery worker
with beat delivers the outbox, and the endpoint is a thread here that accepts, reads the request
and then answers one byte every 3 s for 60 s. It runs on whatever database the suite runs on
(SQLite by default, PostgreSQL with DATABASE_URL).
"""

import os
import time

import pytest
from knox.models import AuthToken

from requests_app import services
from requests_app.models import OutboxMessage
from tenants_app.services import lockbox_setting_change
from tests.reliability.procs import app_env, call, gunicorn, log_of, start_worker, stop, wait_for
from tests.requests.endpoints import StallingEndpoint

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]
STALL_SECONDS = 60
# The delivery's total deadline: shorter than the stall, so the delivery is cut off by it, and
# long enough that the other tenant's calls run the whole time it is in flight.
DEADLINE_SECONDS = 50


def test_a_stalled_webhook_never_blocks_other_tenants(world, make_request, tmp_path):
    broker = os.environ.get("CELERY_BROKER_URL", "")
    env = app_env(
        tmp_path,
        # A Redis database of its own, as the other worker tests have: the suite's broker holds
        # every task the other tests published, which a worker would work through first.
        CELERY_BROKER_URL=broker.rsplit("/", 1)[0] + "/12"
        if broker.startswith("redis://")
        else "filesystem://",
        LOCKBOX_WEBHOOK_ALLOW_PRIVATE="true",
        LOCKBOX_WEBHOOK_TIMEOUT_SECONDS=str(DEADLINE_SECONDS),
    )
    lockbox_setting_change(actor=world.northwind_admin, enabled=True)
    with StallingEndpoint(interval=3, stall=STALL_SECONDS) as endpoint, gunicorn(env) as base:
        # As test_faults.py: the test database's users carry the tests' fast password hashes.
        engineer, manager, northwind = (
            AuthToken.objects.create(user)[1]
            for user in (world.engineer, world.manager, world.northwind_admin)
        )
        services.webhook_create(actor=world.admin, url=endpoint.url)
        make_request(stage="pending_customer")  # Contoso's event goes to the stalled endpoint
        hook = OutboxMessage.objects.filter(kind="webhook")
        worker = start_worker(env, tmp_path)
        latencies: list[tuple[float, str, int]] = []

        def timed(what, *args, **kwargs):
            started = time.monotonic()
            status, body = call(base, *args, **kwargs)
            latencies.append((time.monotonic() - started, what, status))
            return body

        try:
            wait_for(
                lambda: endpoint.accepted,
                30,
                "the delivery to reach the endpoint",
                detail=lambda: log_of(worker)[-3000:],
            )
            accepted = endpoint.accepted[0]
            rounds = 0
            while not hook.exclude(last_error="").exists():
                if time.monotonic() - accepted > STALL_SECONDS + 15:
                    break  # the assertions below say what went wrong
                for enabled in (False, True):
                    timed(
                        "setting",
                        "PUT",
                        "/api/v1/settings/lockbox/",
                        northwind,
                        {"enabled": enabled},
                    )
                ticket = timed(
                    "ticket",
                    "POST",
                    "/api/v1/tickets/",
                    engineer,
                    {"tenant": "northwind", "title": "Meanwhile"},
                )
                created = timed(
                    "request",
                    "POST",
                    "/api/v1/requests/",
                    engineer,
                    {
                        "ticket": ticket["id"],
                        "cloud_pcs": [world.northwind_pcs[0].pk],
                        "reason": "Investigate",
                        "duration_minutes": 30,
                    },
                )
                for token in (manager, northwind):
                    timed(
                        "decision", "POST", f"/api/v1/requests/{created['id']}/approve/", token, {}
                    )
                rounds += 1
            delivery_seconds = time.monotonic() - accepted
        finally:
            output = stop(worker)
    message = hook.get()
    statuses = {status for _, _, status in latencies}
    slowest = max(latencies)
    assert statuses <= {200, 201}, (sorted(statuses), output[-3000:])
    assert slowest[0] < 1.0, slowest
    assert (message.attempts, message.sent_at) == (1, None)
    assert "deadline" in message.last_error, message.last_error
    assert DEADLINE_SECONDS - 1 < delivery_seconds < DEADLINE_SECONDS + 5, delivery_seconds
    print(
        f"\nwebhook stalled {STALL_SECONDS} s, cut off by its {DEADLINE_SECONDS} s deadline after "
        f"{delivery_seconds:.1f} s; meanwhile {len(latencies)} calls of another tenant "
        f"({rounds} rounds of 2 setting changes, ticket, request, 2 approvals), all 2xx; "
        f"slowest {slowest[0]:.2f} s ({slowest[1]}), median "
        f"{sorted(latencies)[len(latencies) // 2][0]:.3f} s"
    )
