"""SPEC 10 races, from threads on the same requests (SQLite and PostgreSQL): each ends in exactly
one consistent outcome, and no record tells of a change that did not happen."""

from collections import Counter
from functools import partial

import pytest

from audit_app.models import AuditRecord
from requests_app import services
from requests_app.models import AccessRequest, Decision
from tests.requests.test_races import _race

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]
ROUNDS = 6


def _operations(pk) -> list[str]:
    return list(
        AuditRecord.objects.filter(request_id=pk, result="success")
        .order_by("seq")
        .values_list("operation", flat=True)
    )


def test_the_last_two_approvals_of_a_quorum_at_once(world, make_request):
    for _ in range(ROUNDS):
        pk = make_request(world.tailspin, stage="pending_customer").pk
        outcomes, errors = _race(
            [
                partial(services.access_request_approve, actor=actor, access_request_id=pk)
                for actor in (world.tailspin_approver, world.tailspin_admin)
            ]
        )
        assert errors == []
        assert outcomes == Counter(won=2)  # both approvals count, in one order or the other
        access_request = AccessRequest.objects.get(pk=pk)
        assert access_request.status == "approved"
        assert _operations(pk)[-2:] == ["RequestApprovalAdded", "RequestApproved"]
        approvals = Decision.objects.filter(access_request_id=pk, stage="customer")
        assert approvals.count() == 2
        assert {d.actor_id for d in approvals} == {
            world.tailspin_approver.pk,
            world.tailspin_admin.pk,
        }


def test_the_same_approver_twice_at_once_counts_once(world, make_request):
    for _ in range(ROUNDS):
        pk = make_request(world.tailspin, stage="pending_customer").pk
        call = partial(
            services.access_request_approve, actor=world.tailspin_approver, access_request_id=pk
        )
        outcomes, errors = _race([call, call])
        assert errors == []
        assert outcomes == Counter({"won": 1, 409: 1})
        assert AccessRequest.objects.get(pk=pk).status == "pending_customer"
        assert _operations(pk).count("RequestApprovalAdded") == 1


def test_approve_racing_a_question(world, make_request):
    seen = Counter()
    for _ in range(ROUNDS):
        pk = make_request(stage="pending_customer").pk
        outcomes, errors = _race(
            [
                partial(
                    services.access_request_approve, actor=world.approver, access_request_id=pk
                ),
                partial(
                    services.access_request_request_info,
                    actor=world.admin,
                    access_request_id=pk,
                    question="Which user?",
                ),
            ]
        )
        assert errors == []
        assert outcomes == Counter({"won": 1, 409: 1})
        status = AccessRequest.objects.get(pk=pk).status
        seen[status] += 1
        # Whichever came first, the request and its log tell the same single story.
        winner = {"approved": "RequestApproved", "info_requested": "InformationRequested"}[status]
        loser = ({"RequestApproved", "InformationRequested"} - {winner}).pop()
        assert _operations(pk)[-1] == winner
        assert loser not in _operations(pk)
    assert sum(seen.values()) == ROUNDS


def _extend_or_lose(world, pk):
    services.access_request_extend(actor=world.engineer, access_request_id=pk, reason="More")


def test_an_extension_racing_a_revocation(world, make_request):
    for _ in range(ROUNDS):
        pk = make_request(stage="approved").pk
        outcomes, errors = _race(
            [
                partial(_extend_or_lose, world, pk),
                partial(services.access_request_revoke, actor=world.admin, access_request_id=pk),
            ]
        )
        assert errors == []
        assert AccessRequest.objects.get(pk=pk).status == "revoked"
        extensions = list(AccessRequest.objects.filter(extends_id=pk))
        if outcomes == Counter(won=2):
            # The extension came first: the revocation cancelled it in the same transaction.
            assert [e.status for e in extensions] == ["cancelled"]
        else:
            # The revocation came first: the extension saw a revoked request.
            assert outcomes == Counter({"won": 1, 409: 1})
            assert extensions == []
        # Never an extension left waiting on a revoked request.
        assert not AccessRequest.objects.filter(
            extends_id=pk, status__in=AccessRequest.OPEN
        ).exists()


def test_a_revocation_racing_itself_revokes_once(world, make_request):
    for _ in range(ROUNDS):
        pk = make_request(stage="approved").pk
        outcomes, errors = _race(
            [
                partial(services.access_request_revoke, actor=actor, access_request_id=pk)
                for actor in (world.admin, world.approver)
            ]
        )
        assert errors == []
        assert outcomes == Counter({"won": 1, 409: 1})
        assert _operations(pk).count("AccessRevoked") == 1
