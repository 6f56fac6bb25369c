"""Refused attempts on a tenant's objects are audited, once per quiet period, never a flood."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from audit_app.models import AuditRecord


def refusals(tenant, operation):
    return list(
        AuditRecord.objects.filter(tenant=tenant, operation=operation, result="failure").order_by(
            "seq"
        )
    )


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "operation"),
    [
        (
            "approver",
            "put",
            "/api/v1/settings/lockbox/",
            {"enabled": False},
            "LockboxSettingChanged",
        ),
        (
            "auditor",
            "post",
            "/api/v1/audit/retention-policies/",
            {"name": "keep", "duration": "P1Y", "priority": 5},
            "RetentionPolicyCreated",
        ),
        ("approver", "put", "/api/v1/users/{admin}/roles/", {"roles": []}, "RoleAssigned"),
        ("auditor", "post", "/api/v1/users/{approver}/unlock/", {}, "SignInUnlocked"),
        (
            "approver",
            "post",
            "/api/v1/webhooks/",
            {"url": "https://hooks.example.com/in"},
            "WebhookRegistered",
        ),
    ],
)
def test_a_refused_settings_change_is_audited_once_per_quiet_period(
    world, api, who, method, path, body, operation
):
    client = api(getattr(world, who))
    path = path.format(admin=world.admin.pk, approver=world.approver.pk)
    for _ in range(20):
        assert getattr(client, method)(path, body, format="json").status_code == 403
    [record] = refusals(world.contoso, operation)
    assert record.actor == getattr(world, who).username
    assert record.details["reason"]
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert getattr(client, method)(path, body, format="json").status_code == 403
    assert len(refusals(world.contoso, operation)) == 2


def test_a_refused_revoke_is_audited_in_the_requests_tenant(world, api, make_request):
    access_request = make_request(stage="approved")
    client = api(world.engineer)  # its own request: visible, but it may not revoke
    for _ in range(5):
        response = client.post(f"/api/v1/requests/{access_request.pk}/revoke/", {})
        assert response.status_code == 403
    [record] = refusals(world.contoso, "AccessRevoked")
    assert record.actor == world.engineer.username and record.actor_type == "provider"
    assert record.request_id == access_request.pk
    assert access_request.__class__.objects.get(pk=access_request.pk).status == "approved"


def test_refused_operator_actions_do_not_flood_the_log(world, api):
    pc = world.contoso_pcs[0]
    client = api(world.engineer)
    for _ in range(30):
        assert client.post(f"/api/v1/cloud-pcs/{pc.pk}/restart/").status_code == 403
    assert len(refusals(world.contoso, "OperatorAction")) == 1


def test_refused_changes_to_a_real_policy_are_audited_but_made_up_ids_are_not(world, api):
    from audit_app.models import RetentionPolicy

    policy = RetentionPolicy.objects.create(
        tenant=world.contoso, name="keep", duration="P1Y", priority=5
    )
    client = api(world.auditor)
    assert client.delete(f"/api/v1/audit/retention-policies/{policy.pk}/").status_code == 403
    for made_up in range(policy.pk + 1, policy.pk + 30):
        assert client.delete(f"/api/v1/audit/retention-policies/{made_up}/").status_code == 404
    for _ in range(5):  # the real one again: one record per quiet period
        assert client.delete(f"/api/v1/audit/retention-policies/{policy.pk}/").status_code == 403
    [record] = refusals(world.contoso, "RetentionPolicyDeleted")
    assert record.object_id == str(policy.pk)
    assert RetentionPolicy.objects.filter(pk=policy.pk).exists()
