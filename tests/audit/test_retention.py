"""Retention policies: validation, at most 50 per tenant, every change audited.

What the policies make the retention job keep is tested on the job itself: test_retention_job.py.
"""

import threading

import pytest
from django.db import connection

from audit_app.models import AuditRecord, RetentionPolicy
from audit_app.policies import (
    retention_policy_create,
    retention_policy_delete,
    retention_policy_update,
)
from lockbox_site.errors import InvalidInput, NotAllowed, NotFound


def _policy(user, **data):
    return retention_policy_create(
        actor=user, data={"name": f"p{data['priority']}", "duration": "P1Y", **data}
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "duration": "P1Y", "priority": 1}, "name"),
        ({"name": "x", "duration": "P2Y", "priority": 1}, "duration"),
        ({"name": "x", "duration": "P1Y", "priority": 0}, "priority"),
        ({"name": "x", "duration": "P1Y", "priority": 10001}, "priority"),
        ({"name": "x", "duration": "P1Y", "priority": True}, "priority"),
        (
            {"name": "x", "duration": "P1Y", "priority": 1, "record_types": ["Exchange"]},
            "record_types",
        ),
        ({"name": "x", "duration": "P1Y", "priority": 1, "operations": ["Delete"]}, "operations"),
        (
            {"name": "x", "duration": "P1Y", "priority": 1, "operations": "RequestCreated"},
            "operations",
        ),
    ],
)
def test_invalid_policies_are_refused_by_field(world, data, field):
    with pytest.raises(InvalidInput) as caught:
        retention_policy_create(actor=world.admin, data=data)
    assert field in caught.value.extra
    assert not RetentionPolicy.objects.exists() and not AuditRecord.objects.exists()


def test_priority_and_name_are_unique_per_tenant(world):
    _policy(world.admin, priority=1)
    with pytest.raises(InvalidInput, match="not valid") as caught:
        _policy(world.admin, priority=1, name="other")
    assert "priority" in caught.value.extra
    _policy(world.northwind_admin, priority=1)  # another tenant may use the same priority


def test_every_policy_change_is_audited_and_scoped(world):
    policy = _policy(world.admin, priority=3)
    retention_policy_update(
        actor=world.admin, policy_id=policy.pk, data={"duration": "P5Y"}, partial=True
    )
    with pytest.raises(NotFound):
        retention_policy_update(
            actor=world.northwind_admin, policy_id=policy.pk, data={"duration": "P5Y"}, partial=True
        )
    with pytest.raises(NotAllowed):
        retention_policy_delete(actor=world.auditor, policy_id=policy.pk)
    retention_policy_delete(actor=world.admin, policy_id=policy.pk)
    ops = list(AuditRecord.objects.order_by("seq").values_list("operation", "result"))
    assert ops == [
        ("RetentionPolicyCreated", "success"),
        ("RetentionPolicyUpdated", "success"),
        ("RetentionPolicyDeleted", "failure"),  # the Audit Reader's refused attempt
        ("RetentionPolicyDeleted", "success"),
    ]
    updated = AuditRecord.objects.get(operation="RetentionPolicyUpdated")
    assert (updated.details["old_value"]["duration"], updated.details["new_value"]["duration"]) == (
        "P1Y",
        "P5Y",
    )


POLICIES_URL = "/api/v1/audit/retention-policies/"


def _fill(user, count):
    for priority in range(1, count + 1):
        _policy(user, priority=priority)


def test_the_51st_retention_policy_is_refused_over_the_api(world, api):
    _fill(world.admin, 50)
    records = AuditRecord.objects.count()
    response = api(world.admin).post(
        POLICIES_URL, {"name": "one too many", "duration": "P1Y", "priority": 51}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "A tenant can have at most 50 retention policies."
    assert RetentionPolicy.objects.filter(tenant=world.contoso).count() == 50
    assert AuditRecord.objects.count() == records  # nothing half-written
    # Another tenant's policies do not count, and deleting one makes room again.
    other = api(world.northwind_admin).post(
        POLICIES_URL, {"name": "first", "duration": "P1Y", "priority": 51}, format="json"
    )
    assert other.status_code == 201
    first = RetentionPolicy.objects.get(tenant=world.contoso, priority=1)
    assert api(world.admin).delete(f"{POLICIES_URL}{first.pk}/").status_code == 204
    again = api(world.admin).post(
        POLICIES_URL, {"name": "one too many", "duration": "P1Y", "priority": 51}, format="json"
    )
    assert again.status_code == 201


def test_the_51st_retention_policy_is_refused_on_the_web_form(world, client):
    _fill(world.admin, 50)
    client.force_login(world.admin)
    response = client.post(
        "/audit/retention-policies/new/",
        {"name": "one too many", "duration": "P1Y", "priority": 51},
    )
    assert response.status_code == 400
    assert "A tenant can have at most 50 retention policies." in response.content.decode()
    assert RetentionPolicy.objects.filter(tenant=world.contoso).count() == 50


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_cannot_make_51_policies(world, api):
    _fill(world.admin, 48)
    barrier = threading.Barrier(4)
    statuses = []

    def create(n):
        try:
            barrier.wait()
            response = api(world.admin).post(
                POLICIES_URL,
                {"name": f"racer {n}", "duration": "P1Y", "priority": 100 + n},
                format="json",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 201, 400, 400]
    assert RetentionPolicy.objects.filter(tenant=world.contoso).count() == 50
    created = AuditRecord.objects.filter(operation="RetentionPolicyCreated", tenant=world.contoso)
    assert created.count() == 50
