"""SPEC 9: the tenant's Lockbox policy, enforced by the request transitions themselves."""

from datetime import timedelta

import pytest
from django.utils.dateparse import parse_datetime

from requests_app.models import AccessRequest, OutboxMessage


@pytest.fixture
def policy(world, api):
    def _set(tenant_admin=None, **changes):
        response = api(tenant_admin or world.admin).put(
            "/api/v1/settings/lockbox/", changes, format="json"
        )
        assert response.status_code == 200, response.json()

    return _set


def test_the_time_to_decide_is_the_tenants(world, create, policy):
    policy(pending_ttl_hours=3)
    created = create()
    elapsed = parse_datetime(created["expires_at"]) - parse_datetime(created["created_at"])
    assert elapsed == timedelta(hours=3)


def test_the_longest_access_is_the_tenants(world, create, policy):
    policy(max_access_minutes=60)
    error = create(expect=400, duration_minutes=61)
    assert "at most 60 minutes" in error["detail"]
    assert create(duration_minutes=60)["duration_minutes"] == 60
    # Without a duration, the default is cut to the tenant's longest access.
    assert create()["duration_minutes"] == 60
    assert AccessRequest.objects.count() == 2


@pytest.mark.parametrize("action", ["deny", "revoke"])
def test_a_decision_comment_is_required_where_the_policy_says(
    world, reaching_customer, act, policy, action
):
    policy(require_decision_comment=True)
    pending = reaching_customer()
    if action == "revoke":
        act(world.approver, pending["id"], "approve")  # approving needs no comment
    error = act(world.admin, pending["id"], action, expect=400)
    assert "requires a comment" in error["comment"][0]
    done = act(world.admin, pending["id"], action, comment="Not needed")
    assert done["status"] == {"deny": "denied", "revoke": "revoked"}[action]


def test_the_extra_addresses_hear_of_every_pending_request(world, reaching_customer, policy):
    policy(notification_emails=["soc@contoso.example", "APPROVER@contoso.example"])
    pending = reaching_customer()
    told = OutboxMessage.objects.get(kind="email", payload__request_id=pending["id"])
    assert told.payload["to"] == [
        "admin@contoso.example",
        "approver2@contoso.example",
        "approver@contoso.example",
        "soc@contoso.example",
    ]
