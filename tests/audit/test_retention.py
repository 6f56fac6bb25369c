"""Retention policies: validation, precedence, every change audited, and the retention job."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command

from audit_app.models import AuditRecord, RetentionPolicy
from audit_app.policies import (
    retention_policy_create,
    retention_policy_delete,
    retention_policy_update,
)
from audit_app.retention import audit_records_prune, retention_days
from lockbox_site.errors import InvalidInput, NotAllowed, NotFound
from tests.audit.conftest import T0


def _policy(user, **data):
    return retention_policy_create(
        actor=user, data={"name": f"p{data['priority']}", "duration": "P1Y", **data}
    )


def test_precedence_priority_then_type_then_operation_then_default(world):
    policies = [
        _policy(world.admin, priority=5, operations=["OperatorAction"], duration="P90D"),
        _policy(
            world.admin, priority=10, record_types=["Windows365CustomerLockbox"], duration="P7Y"
        ),
        _policy(
            world.admin,
            priority=20,
            record_types=["CustomerLockboxSettings"],
            operations=["RetentionApplied"],
            duration="P3Y",
        ),
    ]
    assert retention_days(policies, "Windows365CustomerLockbox", "OperatorAction") == 90
    assert retention_days(policies, "Windows365CustomerLockbox", "RequestApproved") == 2557
    assert retention_days(policies, "CustomerLockboxSettings", "RetentionApplied") == 1095
    assert retention_days(policies, "CustomerLockboxSettings", "LockboxSettingChanged") == 180


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


def test_the_retention_job_deletes_expired_records_and_counts_them(
    world, write_record, days, capsys
):
    _policy(world.admin, priority=1, operations=["OperatorAction"], duration="P90D")
    write_record(world.contoso, at=days(0))  # OperatorAction, 90 days
    write_record(world.contoso, at=days(0), operation="RequestCreated")  # default 180 days
    write_record(world.contoso, at=days(100))  # OperatorAction, still kept
    write_record(world.northwind, at=days(0))  # default 180 days for Northwind
    policy_records = AuditRecord.objects.filter(operation="RetentionPolicyCreated").count()
    with time_machine.travel(days(95), tick=False):
        assert audit_records_prune() == {"contoso": 1, "northwind": 0}
    with time_machine.travel(days(181), tick=False):
        call_command("apply_retention")
    assert "contoso: deleted 1 record(s)" in capsys.readouterr().out
    remaining = AuditRecord.objects.filter(tenant=world.contoso).exclude(
        operation__in=["RetentionApplied", "RetentionPolicyCreated"]
    )
    assert remaining.count() == 1
    applied = AuditRecord.objects.filter(
        tenant=world.contoso, operation="RetentionApplied"
    ).order_by("seq")
    assert [r.details["deleted"] for r in applied] == [1, 1]
    assert (
        AuditRecord.objects.filter(tenant=world.northwind, operation="OperatorAction").count() == 0
    )
    assert policy_records == 1


def test_retention_works_in_bounded_batches(world, write_record, days):
    for n in range(7):
        write_record(world.contoso, at=days(n))
    with time_machine.travel(T0 + timedelta(days=400), tick=False):
        assert audit_records_prune(batch_size=2)["contoso"] == 7
