"""Where an approval's CPU goes, part by part, against GET /api/v1/me/ (issue 17).

.venv/bin/python -m bench.approval_parts   (BENCH_DB / BENCH_BROKER as for `make bench`)

In-process through the test client (token sign-in, all middleware, DRF), in interleaved rounds
of approvals and /me/ calls. Each part of the approval is timed by wrapping the function
production calls, with this process's CPU clock only (reading the database backend's CPU per
part cost more than some parts); the backend's CPU is read per request, over a whole round.
A renamed or moved function fails the run here (AttributeError), never silently.
"""

import functools
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

from bench.__main__ import _world
from bench.setup import configure, cpu_ms, scaled

OUT = Path(__file__).resolve().parent / "approval_parts.json"
ROUNDS = 3
PER_ROUND = scaled(600, 200)
ACTION = "the view's action, all of it"  # AccessRequestViewSet.approve, around the parts inside


def _parts():
    """(owner, attribute, label): disjoint parts of one approval, in the order they run."""
    from django.db.backends.base.base import BaseDatabaseWrapper

    from lockbox_site import renderers
    from requests_app import apis
    from requests_app.services import common, outbox, transitions
    from tenants_app import authentication

    view = apis.AccessRequestViewSet
    return [
        (authentication.TokenAuthentication, "authenticate", "token sign-in (as for /me/)"),
        (transitions, "lock_access_request", "locked read of the request and its relations"),
        (common, "sign_decision", "Ed25519-signed decision statement"),
        (common, "insert", "decision insert + request update (one statement)"),
        (common, "audit_record", "audit chain append (one statement)"),
        (outbox, "insert", "outbox message insert"),
        (BaseDatabaseWrapper, "commit", "COMMIT"),
        (outbox, "outbox_dispatch", "publish to the broker (Celery send_task), after commit"),
        (view, "_respond", "response data (AccessRequestSerializer)"),
        (renderers.FastJSONRenderer, "render", "JSON rendering"),
    ]


def _wrapped(fn, totals, label):
    @functools.wraps(fn)
    def timed(*args, **kwargs):
        start = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[label] += time.process_time() - start

    return timed


def instrument(totals, set_attribute=setattr) -> None:
    """Wrap every part and the view's action so each adds its CPU seconds to totals[label]
    (a test passes monkeypatch.setattr, which undoes the wrapping afterwards)."""
    from requests_app import apis

    view = apis.AccessRequestViewSet
    for owner, name, label in [*_parts(), (view, "approve", ACTION)]:
        set_attribute(owner, name, _wrapped(getattr(owner, name), totals, label))


def main():
    resources = configure()
    try:
        measure()
    finally:
        resources.release()


def measure():
    from django.db import connection
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    from bench import cases

    world = _world()
    pool = iter(cases.make_pending(world, PER_ROUND * ROUNDS + 100))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(world['approver'])[1]}")

    def approve():
        response = client.post(f"/api/v1/requests/{next(pool)}/approve/", {}, format="json")
        assert response.status_code == 200, response.content

    def me():
        assert client.get("/api/v1/me/").status_code == 200

    for _ in range(50):  # warm-up: connections, prepared statements, the first publish
        approve()
        me()
    totals = defaultdict(float)
    instrument(totals)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = [cursor.fetchone()[0]]

    def one_round(fn):
        totals.clear()
        start, server = time.process_time(), cpu_ms(backend)
        for _ in range(PER_ROUND):
            fn()
        client_ms = (time.process_time() - start) * 1000 / PER_ROUND
        parts = {label: value * 1000 / PER_ROUND for label, value in totals.items()}
        return client_ms, (cpu_ms(backend) - server) / PER_ROUND, parts

    rounds = {"approve": [], "me": []}
    for r in range(ROUNDS):
        for name in ("approve", "me") if r % 2 == 0 else ("me", "approve"):
            rounds[name].append(one_round(approve if name == "approve" else me))
    result = summarise(rounds)
    print(json.dumps(result, indent=1))
    OUT.write_text(json.dumps(result, indent=1) + "\n")


def summarise(rounds) -> dict:
    def median(values):
        return round(statistics.median(values), 3)

    approvals, mes = rounds["approve"], rounds["me"]
    labels = [label for _, _, label in _parts()]
    parts = {label: median([r[2].get(label, 0.0) for r in approvals]) for label in labels}
    action = median([r[2][ACTION] for r in approvals])
    inside = labels[1:-1]  # all but the sign-in and the rendering run inside the action
    parts["the rest of the view's action (checks, transition table, notifications' payloads)"] = (
        round(action - sum(parts[p] for p in inside), 3)
    )
    return {
        "client_cpu_ms_per_approval": parts,
        "approval": {
            "client_cpu_ms": median([r[0] for r in approvals]),
            "server_cpu_ms": median([r[1] for r in approvals]),
        },
        "me": {
            "client_cpu_ms": median([r[0] for r in mes]),
            "server_cpu_ms": median([r[1] for r in mes]),
            "token_sign_in_client_cpu_ms": median([r[2].get(labels[0], 0.0) for r in mes]),
            "json_rendering_client_cpu_ms": median([r[2].get(labels[-1], 0.0) for r in mes]),
        },
        "per_round": PER_ROUND,
        "rounds": ROUNDS,
    }


if __name__ == "__main__":
    main()
