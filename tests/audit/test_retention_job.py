"""The retention job, end to end: what each kind of policy keeps, as the job really runs it.

Every case writes records of known ages, runs the job the way production does (the management
command, or the Celery beat task that fans out one task per tenant) and checks which records
are left (SPEC section 4: the highest-priority matching policy decides; unmatched records get
AUDIT_DEFAULT_RETENTION_DAYS).
"""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from audit_app import tasks
from audit_app.models import AuditPrunedRange, AuditRecord
from audit_app.policies import retention_policy_create
from lockbox_site.celery import app as celery_app
from tests.audit.conftest import T0

LOCKBOX = "Windows365CustomerLockbox"
SETTINGS = "CustomerLockboxSettings"
NOW = T0  # the moment the job runs; records are written `age` days before it


def _run_command():
    call_command("apply_retention", stdout=open("/dev/null", "w"))


def _run_beat_task():
    tasks.apply_retention.apply().get()


@pytest.fixture(params=["command", "celery"])
def run_job(request, monkeypatch):
    """Run the job as of NOW, through the management command or the Celery beat task."""
    if request.param == "celery":
        # The beat task only enqueues per-tenant tasks; eager mode runs them right here.
        monkeypatch.setattr(celery_app.conf, "task_always_eager", True)
        monkeypatch.setattr(celery_app.conf, "task_eager_propagates", True)
    run = _run_command if request.param == "command" else _run_beat_task

    def _run(at=NOW):
        with time_machine.travel(at, tick=False):
            run()

    return _run


@pytest.fixture
def policy(world):
    counter = iter(range(1, 10_000))

    def _create(priority, duration, record_types=(), operations=(), actor=None):
        with time_machine.travel(NOW - timedelta(days=1), tick=False):
            return retention_policy_create(
                actor=actor or world.admin,
                data={
                    "name": f"policy {next(counter)}",
                    "priority": priority,
                    "duration": duration,
                    "record_types": list(record_types),
                    "operations": list(operations),
                },
            )

    return _create


@pytest.fixture
def aged(world, write_record):
    """Write a record `age` days before NOW; its object_id names it for the assertions."""

    def _write(name, age, record_type=LOCKBOX, operation="OperatorAction", tenant=None):
        write_record(
            tenant or world.contoso,
            at=NOW - timedelta(days=age),
            record_type=record_type,
            operation=operation,
            object_type="Test",
            object_id=name,
        )

    return _write


def _left(tenant=None) -> set[str]:
    records = AuditRecord.objects.filter(object_type="Test")
    if tenant is not None:
        records = records.filter(tenant=tenant)
    return set(records.values_list("object_id", flat=True))


def test_a_catch_all_policy_keeps_every_record_for_its_duration(world, policy, aged, run_job):
    policy(1, "P10Y")  # no record types, no operations: every record
    aged("operator-200d", 200)
    aged("created-400d", 400, operation="RequestCreated")
    aged("setting-3000d", 3000, record_type=SETTINGS, operation="LockboxSettingChanged")
    aged("operator-3700d", 3700)
    run_job()
    assert _left(world.contoso) == {"operator-200d", "created-400d", "setting-3000d"}


def test_a_lower_priority_catch_all_keeps_what_the_narrow_policy_does_not_match(
    world, policy, aged, run_job
):
    policy(1, "P90D", operations=["OperatorAction"])
    policy(2, "P3Y")
    aged("operator-100d", 100)  # the narrow policy: 90 days
    aged("created-200d", 200, operation="RequestCreated")  # the catch-all: 3 years
    aged("created-1100d", 1100, operation="RequestCreated")
    run_job()
    assert _left(world.contoso) == {"created-200d"}


def test_a_record_type_policy_covers_every_operation_of_that_type(world, policy, aged, run_job):
    policy(1, "P1Y", record_types=[SETTINGS])
    aged("setting-300d", 300, record_type=SETTINGS, operation="LockboxSettingChanged")
    aged("policy-300d", 300, record_type=SETTINGS, operation="RetentionPolicyCreated")
    aged("setting-400d", 400, record_type=SETTINGS, operation="LockboxSettingChanged")
    aged("lockbox-170d", 170)  # another type: the 180-day default
    aged("lockbox-200d", 200)
    run_job()
    assert _left(world.contoso) == {"setting-300d", "policy-300d", "lockbox-170d"}


def test_an_operation_policy_covers_that_operation_in_every_type(world, policy, aged, run_job):
    policy(1, "P7Y", operations=["RequestApproved", "RequestDenied"])
    aged("approved-2000d", 2000, operation="RequestApproved")
    aged("denied-2500d", 2500, record_type=SETTINGS, operation="RequestDenied")
    aged("denied-2600d", 2600, operation="RequestDenied")
    aged("operator-200d", 200)  # another operation: the 180-day default
    run_job()
    assert _left(world.contoso) == {"approved-2000d", "denied-2500d"}


def test_a_higher_priority_shorter_policy_beats_a_longer_one(world, policy, aged, run_job):
    policy(10, "P5Y", record_types=[LOCKBOX])
    policy(3, "P90D", record_types=[LOCKBOX], operations=["OperatorAction"])
    aged("operator-100d", 100)  # priority 3 wins: 90 days
    aged("operator-80d", 80)
    aged("created-1000d", 1000, operation="RequestCreated")  # only priority 10 matches
    run_job()
    assert _left(world.contoso) == {"operator-80d", "created-1000d"}


def test_a_higher_priority_longer_policy_beats_a_shorter_one(world, policy, aged, run_job):
    policy(1, "P10Y", operations=["OperatorAction"])
    policy(2, "P90D", record_types=[LOCKBOX])
    aged("operator-3000d", 3000)  # priority 1 wins: 10 years
    aged("created-100d", 100, operation="RequestCreated")  # priority 2: 90 days
    aged("created-80d", 80, operation="RequestCreated")
    run_job()
    assert _left(world.contoso) == {"operator-3000d", "created-80d"}


def test_unmatched_records_keep_the_default(world, policy, aged, run_job, settings):
    policy(1, "P10Y", record_types=[SETTINGS])
    aged("lockbox-179d", 179)
    aged("lockbox-181d", 181)
    run_job()
    assert _left(world.contoso) == {"lockbox-179d"}
    settings.AUDIT_DEFAULT_RETENTION_DAYS = 365
    aged("lockbox-300d", 300)
    aged("lockbox-370d", 370)
    run_job()
    assert _left(world.contoso) == {"lockbox-179d", "lockbox-300d"}


def test_each_tenant_follows_its_own_policies(world, policy, aged, run_job):
    policy(1, "P10Y", actor=world.northwind_admin)
    aged("contoso-200d", 200)
    aged("northwind-200d", 200, tenant=world.northwind)
    run_job()
    assert _left() == {"northwind-200d"}


def test_each_run_writes_one_retention_applied_record_per_tenant_with_its_count(
    world, policy, aged, run_job
):
    policy(1, "P90D", operations=["OperatorAction"])
    for n in range(3):
        aged(f"contoso-{n}", 100)
    aged("northwind-old", 200, tenant=world.northwind)
    aged("northwind-new", 10, tenant=world.northwind)
    run_job()
    run_job(NOW + timedelta(days=1))

    def applied(tenant):
        records = AuditRecord.objects.filter(tenant=tenant, operation="RetentionApplied")
        return [
            (r.record_type, r.actor, r.details["deleted"], r.details["run_at"])
            for r in records.order_by("seq")
        ]

    first, second = NOW.isoformat(), (NOW + timedelta(days=1)).isoformat()
    assert applied(world.contoso) == [
        (SETTINGS, "System", 3, first),
        (SETTINGS, "System", 0, second),
    ]
    assert applied(world.northwind) == [
        (SETTINGS, "System", 1, first),
        (SETTINGS, "System", 0, second),
    ]
    assert _left() == {"northwind-new"}
    # The deleted runs of the chain are recorded, so verification can step over them.
    assert AuditPrunedRange.objects.filter(tenant=world.contoso).count() >= 1


def test_the_beat_task_runs_one_task_per_tenant(world, aged, monkeypatch):
    aged("contoso-200d", 200)
    aged("northwind-200d", 200, tenant=world.northwind)
    sent = []
    monkeypatch.setattr(
        tasks.apply_retention_tenant,
        "apply_async",
        lambda args, **options: sent.append(args[0]),
    )
    with time_machine.travel(NOW, tick=False):
        tasks.apply_retention.apply().get()
    assert sorted(sent) == sorted([world.contoso.pk, world.northwind.pk])
    assert _left() == {"contoso-200d", "northwind-200d"}  # nothing deleted by the fan-out itself
    with time_machine.travel(NOW, tick=False):
        assert tasks.apply_retention_tenant.apply(args=[world.contoso.pk]).get() == 1
    assert _left() == {"northwind-200d"}
    applied = AuditRecord.objects.filter(operation="RetentionApplied")
    assert [(r.tenant_id, r.details["deleted"]) for r in applied] == [(world.contoso.pk, 1)]


def test_per_tenant_retention_tasks_have_time_limits():
    task = tasks.apply_retention_tenant
    assert 0 < task.soft_time_limit < task.time_limit
    assert 0 < tasks.apply_retention.soft_time_limit < tasks.apply_retention.time_limit


def test_the_job_issues_the_same_queries_for_50_policies_as_for_one(world, policy, aged):
    """Run time grows with records and batches, not with the number of policies."""

    def queries_of_a_run():
        statements = []

        def count(execute, sql, params, many, context):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count), time_machine.travel(NOW, tick=False):
            _run_command()
        return statements

    policy(1, "P90D", operations=["OperatorAction"])
    # A first run issues the tenant's first checkpoint; from then on each run's checkpoint
    # also checks that the chain still holds the one before (a query more): measure those.
    queries_of_a_run()
    aged("old", 400)
    with_one = queries_of_a_run()
    for n in range(2, 51):
        policy(n, "P1Y", record_types=[LOCKBOX], operations=["RequestCreated"])
    aged("old-2", 400)
    with_fifty = queries_of_a_run()
    assert len(with_fifty) == len(with_one)
    # and the delete statement does not grow with the policies either
    delete_one = max(len(sql) for sql in with_one if sql.startswith("DELETE"))
    delete_fifty = max(len(sql) for sql in with_fifty if sql.startswith("DELETE"))
    assert delete_fifty < delete_one * 3


def test_the_job_deletes_in_bounded_batches_and_reports_per_tenant(world, aged, settings):
    settings.AUDIT_RETENTION_BATCH = 2
    for n in range(7):
        aged(f"old-{n}", 200 + n)
    deletes = []

    def count(execute, sql, params, many, context):
        if sql.startswith("DELETE"):
            deletes.append(sql)
        return execute(sql, params, many, context)

    out = io.StringIO()
    with connection.execute_wrapper(count), time_machine.travel(NOW, tick=False):
        call_command("apply_retention", stdout=out)
    assert _left() == set()
    assert len(deletes) == 5  # four batches of at most two, then one that finds nothing
    assert "contoso: deleted 7 record(s)" in out.getvalue()
    applied = AuditRecord.objects.get(tenant=world.contoso, operation="RetentionApplied")
    assert applied.details["deleted"] == 7


def test_a_tenant_run_out_of_time_stops_between_batches_and_the_next_run_goes_on(
    world, aged, settings, monkeypatch
):
    settings.AUDIT_RETENTION_BATCH = 2
    for n in range(5):
        aged(f"old-{n}", 200)
    monkeypatch.setattr(tasks, "TENANT_BUDGET", 0)  # spent as soon as one batch is done
    with time_machine.travel(NOW, tick=False):
        assert tasks.apply_retention_tenant.apply(args=[world.contoso.pk]).get() == 2
    applied = AuditRecord.objects.get(operation="RetentionApplied")
    assert (applied.details["deleted"], applied.details["finished"]) == (2, False)
    assert len(_left()) == 3
    monkeypatch.setattr(tasks, "TENANT_BUDGET", 3600)
    with time_machine.travel(NOW, tick=False):
        assert tasks.apply_retention_tenant.apply(args=[world.contoso.pk]).get() == 3
    assert _left() == set()
    last = AuditRecord.objects.filter(operation="RetentionApplied").order_by("seq").last()
    assert last.details == {"deleted": 3, "run_at": NOW.isoformat()}
