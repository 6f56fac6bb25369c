"""SPEC 10 quorum and shorter windows: N distinct approvers, the last one approves, one denial
denies, the smallest window wins; each approval is signed and audited."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils.dateparse import parse_datetime

from audit_app.models import AuditRecord
from requests_app.models import AccessRequest
from tests.conftest import operations_of


def test_two_required_approvals_need_two_distinct_approvers(world, reaching_customer, act):
    pending = reaching_customer("tailspin", duration_minutes=120)
    assert pending["approvals_required"] == 2
    first = act(world.tailspin_approver, pending["id"], "approve", comment="Looks right")
    assert first["status"] == "pending_customer"
    assert [(a["by"], a["comment"]) for a in first["approvals"]] == [
        ("approver@tailspin.example", "Looks right")
    ]
    # The same person again is a 409, and leaves no record.
    again = act(world.tailspin_approver, pending["id"], "approve", expect=409)
    assert "already approved" in again["detail"]
    # ... and is no longer offered to them, while the other approver still has it.
    assert set(first["allowed_actions"]) == {"deny", "request_info"}

    final = act(world.tailspin_admin, pending["id"], "approve")
    assert final["status"] == "approved"
    assert [a["by"] for a in final["approvals"]] == [
        "approver@tailspin.example",
        "admin@tailspin.example",
    ]
    access_request = AccessRequest.objects.get(pk=pending["id"])
    assert operations_of(access_request)[-2:] == ["RequestApprovalAdded", "RequestApproved"]
    added = AuditRecord.objects.get(request_id=pending["id"], operation="RequestApprovalAdded")
    assert added.details["approval"] == "1 of 2"
    assert added.details["statement"]["decision"] == "approval_added"
    approved = AuditRecord.objects.get(request_id=pending["id"], operation="RequestApproved")
    assert approved.details["approval"] == "2 of 2"
    assert approved.details["approvers"] == ["approver@tailspin.example", "admin@tailspin.example"]
    assert approved.details["statement"]["decision"] == "approved"
    # Only the last approval opens the window, for the full duration asked.
    starts = parse_datetime(final["window_starts_at"])
    assert parse_datetime(final["window_ends_at"]) - starts == timedelta(minutes=120)
    # The signed statements check out.
    call_command("verify_audit", "--tenant", "tailspin", stdout=open("/dev/null", "w"))


def test_the_page_shows_how_many_approvals_and_who(world, reaching_customer, act, client):
    pending = reaching_customer("tailspin")
    act(world.tailspin_approver, pending["id"], "approve")
    client.force_login(world.tailspin_admin)
    page = client.get(f"/requests/{pending['id']}/").content.decode()
    assert "1 of 2 approvals" in page
    assert "approver@tailspin.example" in page


def test_one_denial_denies_even_after_an_approval(world, reaching_customer, act):
    pending = reaching_customer("tailspin")
    act(world.tailspin_approver, pending["id"], "approve")
    denied = act(world.tailspin_admin, pending["id"], "deny", comment="Not this week")
    assert denied["status"] == "denied"
    assert denied["window_starts_at"] is None


def test_an_approver_may_shorten_the_window_and_the_smallest_wins(world, reaching_customer, act):
    pending = reaching_customer("tailspin", duration_minutes=240)
    act(world.tailspin_approver, pending["id"], "approve", duration_minutes=60)
    final = act(world.tailspin_admin, pending["id"], "approve", duration_minutes=90)
    length = parse_datetime(final["window_ends_at"]) - parse_datetime(final["window_starts_at"])
    assert length == timedelta(minutes=60)
    assert [a["duration_minutes"] for a in final["approvals"]] == [60, 90]


def test_a_single_approver_tenant_can_shorten_too(world, reaching_customer, act):
    pending = reaching_customer(duration_minutes=120)
    approved = act(world.approver, pending["id"], "approve", duration_minutes=30)
    length = parse_datetime(approved["window_ends_at"]) - parse_datetime(
        approved["window_starts_at"]
    )
    assert length == timedelta(minutes=30)


@pytest.mark.parametrize("minutes", [121, 5, "soon"])
def test_a_window_longer_than_asked_or_out_of_bounds_is_a_400(
    world, reaching_customer, act, minutes
):
    pending = reaching_customer(duration_minutes=120)
    before = operations_of(AccessRequest.objects.get(pk=pending["id"]))
    error = act(world.approver, pending["id"], "approve", expect=400, duration_minutes=minutes)
    assert "duration_minutes" in error
    assert AccessRequest.objects.get(pk=pending["id"]).status == "pending_customer"
    assert operations_of(AccessRequest.objects.get(pk=pending["id"])) == before


def test_a_manager_cannot_shorten_at_the_internal_stage(world, create, act):
    created = create(duration_minutes=120)
    error = act(world.manager, created["id"], "approve", expect=400, duration_minutes=30)
    assert "customer" in error["detail"]


def test_the_quorum_is_the_policy_when_the_request_was_made(world, create, act, api):
    created = create("tailspin")
    # Raising the quorum later does not move the goalposts of a request already made.
    response = api(world.tailspin_admin).put(
        "/api/v1/settings/lockbox/", {"required_approvals": 3}, format="json"
    )
    assert response.status_code == 200, response.json()
    act(world.manager, created["id"], "approve")
    act(world.tailspin_approver, created["id"], "approve")
    assert act(world.tailspin_admin, created["id"], "approve")["status"] == "approved"
    later = create("tailspin")
    assert later["approvals_required"] == 3


def test_the_page_shows_the_quorum_only_where_it_applies_and_the_granted_time(
    world, create, act, client
):
    created = create("tailspin", duration_minutes=120)
    client.force_login(world.manager)
    internal = client.get(f"/requests/{created['id']}/").content.decode()
    assert "approvals</span>" not in internal  # the manager's approval is not one of them
    act(world.manager, created["id"], "approve")
    act(world.tailspin_approver, created["id"], "approve", duration_minutes=60)
    client.force_login(world.tailspin_admin)
    page = client.get(f"/requests/{created['id']}/").content.decode()
    assert "0 of 2" not in page and "1 of 2 approvals" in page
    assert "<strong>approval added</strong>" in page
    act(world.tailspin_admin, created["id"], "approve")
    page = client.get(f"/requests/{created['id']}/").content.decode()
    assert "120 minutes asked; 60 granted by the approvers" in page
