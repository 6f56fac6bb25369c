"""Exactly-once transitions: threads race approve/deny/cancel/revoke/expire on the same requests."""

import threading
from collections import Counter
from datetime import timedelta
from functools import partial

import pytest
from django.db import connection

from audit_app.models import AuditRecord
from lockbox_site.errors import ApplicationError, InvalidState
from requests_app import services
from requests_app.models import AccessRequest

TERMINAL = {
    "approved": "RequestApproved",
    "denied": "RequestDenied",
    "cancelled": "RequestCancelled",
    "expired": "RequestExpired",
}


def _expire_or_lose(pk, now):
    if not services.access_request_expire(access_request_id=pk, now=now):
        raise InvalidState("someone else decided first")


def _race(calls):
    """Run every call at once from its own thread; count outcomes and unexpected errors."""
    barrier = threading.Barrier(len(calls))
    outcomes: Counter = Counter()
    errors: list = []

    def run(fn):
        try:
            barrier.wait()
            fn()
            outcomes["won"] += 1
        except ApplicationError as exc:
            outcomes[exc.status_code] += 1
        except Exception as exc:  # a deadlock, "database is locked", anything unplanned
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes, errors


@pytest.mark.reliability
@pytest.mark.django_db(transaction=True)
def test_concurrent_decisions_have_exactly_one_outcome(world, make_request):
    access_requests = [make_request(stage="pending_customer") for _ in range(8)]
    total = Counter()
    for access_request in access_requests:
        pk = access_request.pk
        later = access_request.expires_at + timedelta(seconds=1)
        calls = [
            partial(services.access_request_approve, actor=world.approver, access_request_id=pk),
            partial(services.access_request_approve, actor=world.admin, access_request_id=pk),
            partial(services.access_request_deny, actor=world.approver, access_request_id=pk),
            partial(services.access_request_deny, actor=world.admin, access_request_id=pk),
            partial(services.access_request_cancel, actor=world.engineer, access_request_id=pk),
            partial(_expire_or_lose, pk, later),
        ]
        outcomes, errors = _race(calls)
        assert errors == []
        assert outcomes["won"] == 1, outcomes
        total.update(outcomes)
        status = AccessRequest.objects.get(pk=pk).status
        ops = list(
            AuditRecord.objects.filter(request_id=pk)
            .exclude(operation__in=["RequestCreated", "RequestInternallyApproved"])
            .values_list("operation", flat=True)
        )
        assert ops == [TERMINAL[status]], (status, ops)
    assert total["won"] == len(access_requests)


@pytest.mark.reliability
@pytest.mark.django_db(transaction=True)
def test_revoke_races_with_operator_actions(world, make_request):
    access_request = make_request(stage="approved")
    pc = world.contoso_pcs[0]
    calls = [
        lambda: services.access_request_revoke(
            actor=world.approver, access_request_id=access_request.pk
        ),
        lambda: services.access_request_revoke(
            actor=world.admin, access_request_id=access_request.pk
        ),
    ] + [
        lambda: services.cloud_pc_operate(actor=world.engineer, cloud_pc_id=pc.pk, action="restart")
        for _ in range(4)
    ]
    outcomes, errors = _race(calls)
    assert errors == []
    assert AuditRecord.objects.filter(operation="AccessRevoked").count() == 1
    revoked_at = AccessRequest.objects.get(pk=access_request.pk).window_ends_at
    # Every successful action happened before the revocation took effect.
    for record in AuditRecord.objects.filter(operation="OperatorAction", result="success"):
        assert record.created_at <= revoked_at


# The Python path everywhere; on PostgreSQL also the one-statement function (migration 0011).
IN_DATABASE = [False, True] if connection.vendor == "postgresql" else [False]


@pytest.mark.reliability
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("in_database", IN_DATABASE)
def test_actions_that_lock_the_chain_head_with_their_grant_race_revokes_and_approvals(
    world, make_request, monkeypatch, in_database
):
    """A view locks its grant and then the chain head (in one statement: object, then head, the
    order of every transition), while a revoke of that grant and approvals of other requests of
    the same tenant lock their request, then the head. None deadlocks, every action before the
    revocation is recorded, and the tenant's chain verifies."""
    from audit_app.integrity import verify_tenant
    from requests_app.services import operate_in_database

    monkeypatch.setattr(operate_in_database, "available", lambda: in_database)

    pc, other_pc = world.contoso_pcs[:2]
    grant = make_request(stage="approved", pcs=[pc])
    # On another Cloud PC, so the actions have no second grant to act under once approved.
    pending = [make_request(stage="pending_customer", pcs=[other_pc]) for _ in range(3)]
    calls = [
        lambda: services.access_request_revoke(actor=world.approver, access_request_id=grant.pk)
    ]
    calls += [
        partial(services.access_request_approve, actor=world.admin, access_request_id=p.pk)
        for p in pending
    ]
    calls += [
        partial(services.cloud_pc_operate, actor=world.engineer, cloud_pc_id=pc.pk, action="view")
        for _ in range(6)
    ]
    outcomes, errors = _race(calls)
    assert errors == []
    assert outcomes["won"] >= 1 + len(pending)  # the revoke and the approvals always win
    revoked_at = AccessRequest.objects.get(pk=grant.pk).window_ends_at
    done = AuditRecord.objects.filter(operation="OperatorAction", result="success")
    assert done.count() == outcomes["won"] - 1 - len(pending)
    assert all(record.created_at <= revoked_at for record in done)
    assert verify_tenant(world.contoso)[1] is None


LIFECYCLE = {
    "approved": ["RequestApproved"],
    "revoked": ["RequestApproved", "AccessRevoked"],
    "denied": ["RequestDenied"],
    "cancelled": ["RequestCancelled"],
    "expired": ["RequestExpired"],
}


@pytest.mark.reliability
@pytest.mark.django_db(transaction=True)
def test_fifty_threads_against_a_hundred_requests(world, make_request):
    """approve / deny / cancel / revoke / expire, shuffled over a pool of 50 threads."""
    import random
    from concurrent.futures import ThreadPoolExecutor

    access_requests = [make_request(stage="pending_customer") for _ in range(100)]
    calls = []
    for access_request in access_requests:
        pk, later = access_request.pk, access_request.expires_at + timedelta(seconds=1)
        calls += [
            partial(services.access_request_approve, actor=world.approver, access_request_id=pk),
            partial(services.access_request_deny, actor=world.admin, access_request_id=pk),
            partial(services.access_request_cancel, actor=world.engineer, access_request_id=pk),
            partial(services.access_request_revoke, actor=world.admin, access_request_id=pk),
            partial(_expire_or_lose, pk, later),
        ]
    random.Random(7).shuffle(calls)
    outcomes: Counter = Counter()
    errors: list = []

    def run(fn):
        try:
            fn()
            outcomes["won"] += 1
        except ApplicationError as exc:
            outcomes[exc.status_code] += 1
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=50) as pool:
        list(pool.map(run, calls))
    assert errors == []
    statuses = Counter()
    for access_request in access_requests:
        status = AccessRequest.objects.get(pk=access_request.pk).status
        statuses[status] += 1
        ops = list(
            AuditRecord.objects.filter(request_id=access_request.pk)
            .exclude(operation__in=["RequestCreated", "RequestInternallyApproved"])
            .order_by("seq")
            .values_list("operation", flat=True)
        )
        assert ops == LIFECYCLE[status], (status, ops)
    assert sum(statuses.values()) == 100
    print(
        f"\n50 threads x 100 requests: {dict(statuses)}; calls {dict(outcomes)}; errors {len(errors)}"
    )
