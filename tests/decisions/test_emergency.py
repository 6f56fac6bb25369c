"""SPEC 10 emergency access: a Support Manager's break-glass where the tenant allows it, told to
the customer at once, reviewed within 72 hours or flagged overdue."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit_app.models import AuditRecord
from requests_app import services
from requests_app.models import AccessRequest, OutboxMessage, Webhook
from tests.conftest import operations_of

ALERT = {"reason_type": "response_to_production_alert", "duration_minutes": 60}


def test_a_manager_grants_emergency_access_and_everyone_is_told(world, create, act):
    Webhook.objects.create(tenant=world.tailspin, url="https://hooks.example/x", secret="s")
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        created = create("tailspin", **ALERT)
        granted = act(world.manager, created["id"], "emergency-approve", comment="P1 outage")
    assert granted["status"] == "approved"
    assert granted["emergency"] is True
    assert granted["review"] == {
        "status": "pending",
        "due_at": (start + timedelta(hours=72)).isoformat().replace("+00:00", "Z"),
        "by": None,
        "at": None,
        "comment": "",
    }
    assert parse_datetime(granted["window_starts_at"]) == start
    assert parse_datetime(granted["window_ends_at"]) == start + timedelta(minutes=60)
    record = AuditRecord.objects.get(request_id=created["id"], operation="EmergencyAccessGranted")
    assert record.details["statement"]["decision"] == "emergency_approved"
    assert record.details["comment"] == "P1 outage"
    emails = OutboxMessage.objects.filter(kind="email", payload__request_id=created["id"])
    approvers = [m for m in emails if "admin@tailspin.example" in m.payload["to"]]
    assert len(approvers) == 1
    assert approvers[0].payload["to"] == ["admin@tailspin.example", "approver@tailspin.example"]
    assert "Emergency access granted" in approvers[0].payload["subject"]
    hooks = OutboxMessage.objects.filter(kind="webhook", tenant=world.tailspin)
    assert [m.payload["event"] for m in hooks] == ["request.emergency_access"]


def test_the_customer_sees_an_emergency_access_at_once_though_it_never_passed_them(
    world, create, act, api
):
    created = create("tailspin", **ALERT)
    act(world.manager, created["id"], "emergency-approve", comment="P1")
    listed = api(world.tailspin_approver).get("/api/v1/requests/").json()["results"]
    assert [r["id"] for r in listed] == [created["id"]]
    assert listed[0]["allowed_actions"] == ["revoke", "review"]


@pytest.mark.parametrize(
    ("tenant", "fields", "reason"),
    [
        ("contoso", ALERT, "does not allow emergency access"),
        ("tailspin", {"duration_minutes": 60}, "response_to_production_alert"),
        ("tailspin", {**ALERT, "duration_minutes": 61}, "at most 60 minutes"),
    ],
)
def test_elsewhere_emergency_access_is_a_409(world, create, act, tenant, fields, reason):
    created = create(tenant, **fields)
    refused = act(world.manager, created["id"], "emergency-approve", expect=409, comment="P1")
    assert reason in refused["detail"]
    assert operations_of(AccessRequest.objects.get(pk=created["id"])) == ["RequestCreated"]


def test_only_a_manager_with_a_comment_may(world, create, act):
    created = create("tailspin", **ALERT)
    act(world.engineer, created["id"], "emergency-approve", expect=403, comment="P1")
    act(world.manager, created["id"], "emergency-approve", expect=400)
    act(world.manager, created["id"], "emergency-approve", expect=400, comment="  ")
    assert AccessRequest.objects.get(pk=created["id"]).status == "pending_internal"


def test_the_customer_reviews_it_and_may_revoke_it(world, create, act):
    created = create("tailspin", **ALERT)
    act(world.manager, created["id"], "emergency-approve", comment="P1")
    act(world.engineer, created["id"], "review", expect=403, outcome="accepted")
    act(world.tailspin_approver, created["id"], "review", expect=400, outcome="maybe")
    revoked = act(world.tailspin_admin, created["id"], "revoke", comment="Enough")
    assert revoked["status"] == "revoked"
    reviewed = act(
        world.tailspin_approver, created["id"], "review", outcome="disputed", comment="Too broad"
    )
    assert reviewed["review"]["status"] == "disputed"
    assert reviewed["review"]["by"] == "approver@tailspin.example"
    assert reviewed["review"]["comment"] == "Too broad"
    act(world.tailspin_admin, created["id"], "review", expect=409, outcome="accepted")
    record = AuditRecord.objects.get(
        request_id=created["id"], operation="EmergencyAccessReviewed", result="success"
    )
    assert record.details["review"] == "disputed"
    assert record.details["statement"]["decision"] == "review_disputed"


def test_a_dispute_needs_a_comment_where_the_policy_says_so(world, create, act, api):
    api(world.tailspin_admin).put(
        "/api/v1/settings/lockbox/", {"require_decision_comment": True}, format="json"
    )
    created = create("tailspin", **ALERT)
    act(world.manager, created["id"], "emergency-approve", comment="P1")
    error = act(world.tailspin_admin, created["id"], "review", expect=400, outcome="disputed")
    assert "comment" in error
    assert (
        act(world.tailspin_admin, created["id"], "review", outcome="accepted")["review"]["status"]
        == "accepted"
    )


def test_an_unreviewed_emergency_access_becomes_overdue_after_72_hours(world, create, act):
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        created = create("tailspin", **ALERT)
        act(world.manager, created["id"], "emergency-approve", comment="P1")
    OutboxMessage.objects.all().delete()
    with time_machine.travel(start + timedelta(hours=72) - timedelta(seconds=1), tick=False):
        assert services.sweep()["review_overdue"] == 0
    with time_machine.travel(start + timedelta(hours=72), tick=False):
        assert services.sweep()["review_overdue"] == 1
        assert services.sweep()["review_overdue"] == 0  # once
    access_request = AccessRequest.objects.get(pk=created["id"])
    assert access_request.review_status == "overdue"
    assert access_request.status == "completed"  # the hour ended long ago
    assert operations_of(access_request)[-1] == "EmergencyReviewOverdue"
    email = OutboxMessage.objects.get(kind="email")
    assert email.payload["to"] == ["admin@tailspin.example"]  # Global Administrators only
    assert "not been reviewed" in email.payload["subject"]
    # An overdue review can still be given.
    assert (
        act(world.tailspin_approver, created["id"], "review", outcome="accepted")["review"][
            "status"
        ]
        == "accepted"
    )


def test_an_extension_is_never_emergency_access(world, create, act):
    """Break-glass for a production alert, not a way to chain hour after hour without the
    customer: an extension goes through the customer's approval."""
    created = create("tailspin", **ALERT)
    act(world.manager, created["id"], "emergency-approve", comment="P1")
    extension = act(
        world.engineer,
        created["id"],
        "extend",
        expect=201,
        reason="Still down",
        duration_minutes=30,
    )
    assert extension["reason_type"] == "response_to_production_alert"
    refused = act(world.manager, extension["id"], "emergency-approve", expect=409, comment="P1")
    assert "extension" in refused["detail"]
    assert AccessRequest.objects.get(pk=extension["id"]).status == "pending_internal"


def test_a_scheduled_request_is_never_emergency_access(world, create, act):
    later = (timezone.now() + timedelta(days=3)).isoformat()
    created = create("tailspin", starts_at=later, **ALERT)
    refused = act(world.manager, created["id"], "emergency-approve", expect=409, comment="P1")
    assert "scheduled" in refused["detail"]


def test_the_approvers_home_lists_an_emergency_access_awaiting_review(world, create, act, client):
    created = create("tailspin", **ALERT)
    act(world.manager, created["id"], "emergency-approve", comment="P1")
    client.force_login(world.tailspin_approver)
    home = client.get("/").content.decode()
    assert f"Request {created['id']}</a>" in home
    assert "emergency access: review pending" in home
    act(world.tailspin_approver, created["id"], "review", outcome="accepted")
    assert "emergency access: review" not in client.get("/").content.decode()
