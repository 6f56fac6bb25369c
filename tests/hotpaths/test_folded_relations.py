"""Issue 17: a transition's locking read carries the request's decisions and Cloud PCs as JSON
columns (lockbox_site.folded). What it builds from them is what the ORM's own reads build, and
what a transaction that held the lock meanwhile changed is never read from the older snapshot
PostgreSQL gives a statement's subqueries."""

import threading
import time
from datetime import UTC, datetime

import psycopg
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lockbox_site.errors import ApplicationError
from requests_app import services
from requests_app.models import AccessRequest, Decision, RequestMessage
from requests_app.services.common import lock_access_request
from tenants_app.models import CloudPC


def _fields(instance) -> list:
    return [
        (f.attname, getattr(instance, f.attname), type(getattr(instance, f.attname)))
        for f in instance._meta.concrete_fields
    ]


@pytest.mark.django_db
def test_the_folded_relations_are_the_orms_reads(world, make_request):
    pcs = world.contoso_pcs[:2]
    CloudPC.objects.filter(pk=pcs[1].pk).update(
        diagnostics={"cpu": 93.5, "note": "lent \u00e9t\u00e9 \U0001f600", "ok": False},
        last_restarted_at=datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC),
    )
    access_request = make_request(stage="approved", pcs=pcs)
    # A system decision (no actor) with a statement holding what JSON must carry exactly.
    Decision.objects.create(
        access_request=access_request,
        stage=Decision.Stage.REVOCATION,
        outcome=Decision.Outcome.REVOKED,
        actor=None,
        automatic=True,
        comment='quote " backslash \\ tab \t \u00e9',
        created_at=timezone.now().replace(microsecond=0),
        statement={"b": [1, 2.5, None, True], "a": {"z": "\u00fc"}},
    )
    with transaction.atomic():
        locked = lock_access_request(access_request.pk)
        assert locked.fresh
        with CaptureQueriesContext(connection) as captured:
            folded_decisions = list(locked.decisions.all())
            folded_pcs = list(locked.cloud_pcs.all())
            actors = [d.actor for d in folded_decisions]
    assert captured.captured_queries == []  # kept on the request, as prefetch_related keeps
    decisions = list(
        Decision.objects.filter(access_request=access_request)
        .select_related("actor")
        .order_by("created_at", "id")
    )
    assert len(decisions) == 3 and [_fields(d) for d in folded_decisions] == [
        _fields(d) for d in decisions
    ]
    assert [a and _fields(a) for a in actors] == [d.actor and _fields(d.actor) for d in decisions]
    assert None in actors
    assert [_fields(pc) for pc in folded_pcs] == [
        _fields(pc) for pc in CloudPC.objects.filter(access_requests=access_request)
    ]


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _holding_the_request(access_request, statements):
    """Another session that locked the request, changed it as a transition would, and has not
    committed yet."""
    settings = connection.settings_dict
    blocker = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        autocommit=False,
    )
    table = AccessRequest._meta.db_table
    blocker.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [access_request.pk])
    blocker.execute(f"UPDATE {table} SET status = status WHERE id = %s", [access_request.pk])
    for sql, params in statements:
        blocker.execute(sql, params)
    return blocker


def _behind(blocker, fn):
    """Run fn in a thread that queues behind the blocker's lock; commit the blocker; the result."""
    outcome = {}

    def run():
        try:
            outcome["value"] = fn()
        except ApplicationError as exc:
            outcome["refused"] = exc.status_code
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    try:
        thread.start()
        deadline = time.monotonic() + 20
        while _waiting_on_locks() < 1:
            assert time.monotonic() < deadline, "the transition never reached the lock"
            time.sleep(0.01)  # polling another process's state, not waiting for time to pass
        blocker.commit()
    finally:
        blocker.close()
    thread.join(30)
    return outcome


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks: SQLite locks the whole database"
)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_decision_committed_while_waiting_for_the_lock_counts(world, make_request):
    """The approver's own approval, committed by a transaction that held the lock while this
    approval waited for it: the second one is refused (409), never taken for the first."""
    pending = make_request(stage="pending_customer")
    blocker = _holding_the_request(
        pending,
        [
            (
                f"INSERT INTO {Decision._meta.db_table} (access_request_id, stage, outcome,"
                " actor_id, automatic, comment, created_at, statement, jws)"
                " VALUES (%s, 'customer', 'approved', %s, false, '', now(), '{}', '')",
                [pending.pk, world.approver.pk],
            )
        ],
    )
    outcome = _behind(
        blocker,
        lambda: services.access_request_approve(actor=world.approver, access_request_id=pending.pk),
    )
    assert outcome == {"refused": 409}
    assert Decision.objects.filter(access_request=pending, stage="customer").count() == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_message_committed_while_waiting_for_the_lock_is_shown(world, make_request):
    """An answer committed while the approval waited for the lock: the approval's request (the
    API's response) shows the thread, where the locking read's older snapshot said none."""
    pending = make_request(stage="pending_customer")
    blocker = _holding_the_request(
        pending,
        [
            (
                f"INSERT INTO {RequestMessage._meta.db_table} (access_request_id, author_id,"
                " kind, text, created_at) VALUES (%s, %s, 'answer', 'Event logs.', now())",
                [pending.pk, world.engineer.pk],
            )
        ],
    )
    outcome = _behind(
        blocker,
        lambda: [
            m.text
            for m in services.access_request_approve(
                actor=world.approver, access_request_id=pending.pk
            ).messages.all()
        ],
    )
    assert outcome == {"value": ["Event logs."]}
