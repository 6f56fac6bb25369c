"""Signed checkpoints as production issues them: the beat job, the command, after retention,
and to the tenant's webhooks as `audit.checkpoint` (SPEC 11)."""

import hashlib
import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command

from audit_app import signing, tasks
from audit_app.checkpoints import checkpoint_as_json
from audit_app.models import AuditChainHead, AuditCheckpoint, AuditPrunedRange, AuditRecord
from audit_app.policies import retention_policy_create
from lockbox_site.celery import app as celery_app
from requests_app import services
from requests_app.models import OutboxMessage
from tests.audit.conftest import T0
from tests.requests.receiving import receive
from tests.requests.test_webhooks import receiver  # noqa: F401 (a fixture)


def _checkpoints_by_tenant() -> dict[int, list[int]]:
    result: dict[int, list[int]] = {}
    for tenant_id, seq in AuditCheckpoint.objects.order_by("id").values_list("tenant_id", "seq"):
        result.setdefault(tenant_id, []).append(seq)
    return result


def _heads() -> dict[int, int]:
    return dict(AuditChainHead.objects.filter(last_seq__gt=0).values_list("tenant_id", "last_seq"))


@pytest.fixture
def eager(monkeypatch):
    monkeypatch.setattr(celery_app.conf, "task_always_eager", True)
    monkeypatch.setattr(celery_app.conf, "task_eager_propagates", True)


def test_the_beat_task_signs_only_the_tenants_whose_chain_moved(world, write_record):
    write_record(world.contoso)
    write_record(world.northwind)
    heads = _heads()
    assert {world.contoso.pk, world.northwind.pk} <= set(heads)

    tasks.issue_checkpoints.apply().get()
    assert _checkpoints_by_tenant() == {tenant_id: [seq] for tenant_id, seq in heads.items()}

    write_record(world.contoso, at=T0 + timedelta(minutes=5))
    tasks.issue_checkpoints.apply().get()
    expected = {tenant_id: [seq] for tenant_id, seq in heads.items()}
    expected[world.contoso.pk].append(heads[world.contoso.pk] + 1)
    assert _checkpoints_by_tenant() == expected

    tasks.issue_checkpoints.apply().get()  # nothing moved: nothing signed
    assert _checkpoints_by_tenant() == expected
    newest = AuditCheckpoint.objects.filter(tenant=world.contoso).order_by("-id").first()
    assert newest.hash == AuditRecord.objects.get(tenant=world.contoso, seq=newest.seq).hash
    first = AuditCheckpoint.objects.filter(tenant=world.contoso).order_by("id").first()
    assert signing.verify(newest.jws)["previous"] == hashlib.sha256(first.jws.encode()).hexdigest()


def test_the_command_runs_the_job_once(world, write_record):
    write_record(world.contoso)
    out = io.StringIO()
    call_command("issue_checkpoints", stdout=out)
    head = AuditChainHead.objects.get(tenant=world.contoso)
    assert list(
        AuditCheckpoint.objects.filter(tenant=world.contoso).values_list("seq", "hash")
    ) == [(head.last_seq, head.last_hash)]
    assert f"contoso: checkpoint at seq {head.last_seq}" in out.getvalue()


@pytest.mark.parametrize("how", ["command", "celery"])
def test_retention_signs_its_ranges_and_ends_with_a_checkpoint(world, write_record, how, request):
    base = AuditChainHead.objects.filter(tenant=world.contoso).values_list("last_seq", flat=True)
    base = base.first() or 0  # what seed_demo wrote
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        retention_policy_create(
            actor=world.admin,
            data={
                "name": "short",
                "priority": 1,
                "duration": "P90D",
                "operations": ["OperatorAction"],
            },
        )
    write_record(world.contoso, at=T0)
    write_record(world.contoso, at=T0)
    write_record(world.contoso, at=T0, operation="RequestCreated")  # kept
    write_record(world.contoso, at=T0)
    run_at = T0 + timedelta(days=100)
    with time_machine.travel(run_at, tick=False):
        if how == "command":
            call_command("apply_retention", stdout=io.StringIO())
        else:
            request.getfixturevalue("eager")
            tasks.apply_retention.apply().get()

    applied = AuditRecord.objects.get(tenant=world.contoso, operation="RetentionApplied")
    [checkpoint] = AuditCheckpoint.objects.filter(tenant=world.contoso)
    assert (checkpoint.seq, checkpoint.hash) == (applied.seq, applied.hash)
    assert signing.verify(checkpoint.jws)["seq"] == applied.seq

    ranges = list(AuditPrunedRange.objects.filter(tenant=world.contoso).order_by("first_seq"))
    # base + 1 is the policy's record; base + 4 the RequestCreated record that is kept.
    assert [(r.first_seq - base, r.last_seq - base) for r in ranges] == [(2, 3), (5, 5)]
    for pruned in ranges:
        assert signing.verify(pruned.jws) == {
            "type": "lockbox.pruned/v1",
            "tenant": "contoso",
            "tenant_id": world.contoso.pk,
            "first_seq": pruned.first_seq,
            "last_seq": pruned.last_seq,
            "last_hash": pruned.last_hash,
            "pruned_at": run_at.isoformat(),
        }
        assert pruned.created_at == run_at
    call_command("verify_audit", "--tenant", "contoso", stdout=io.StringIO())


def test_each_checkpoint_goes_to_the_tenants_webhooks(world, write_record, receiver):  # noqa: F811
    webhook = services.webhook_create(actor=world.admin, url=receiver["url"])
    services.webhook_create(actor=world.northwind_admin, url=receiver["url"] + "/northwind")
    OutboxMessage.objects.all().delete()
    write_record(world.contoso)

    tasks.issue_checkpoints.apply().get()

    checkpoint = AuditCheckpoint.objects.get(tenant=world.contoso)
    [message] = OutboxMessage.objects.filter(tenant_id=world.contoso.pk)
    assert (message.kind, message.webhook_id) == ("webhook", webhook.pk)
    # Northwind's own checkpoint goes to Northwind's endpoint only.
    [other] = OutboxMessage.objects.filter(tenant_id=world.northwind.pk)
    assert other.webhook.tenant_id == world.northwind.pk
    assert other.payload["checkpoint"]["tenant"] == "northwind"

    assert services.outbox_deliver(message_id=message.pk)
    [(headers, raw)] = receiver["received"]
    event = receive(webhook.secret, headers, raw)
    assert event.get_type() == "com.lockbox.audit.checkpoint"
    assert event.get_id() == str(message.pk) == headers["webhook-id"]
    assert event.get_subject() is None  # about the tenant, not one request
    body = event.get_data()
    assert set(body) == {"checkpoint"}
    assert body["checkpoint"] == checkpoint_as_json(checkpoint, world.contoso)
    assert signing.verify(body["checkpoint"]["jws"])["hash"] == checkpoint.hash
