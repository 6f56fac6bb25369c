"""The evidence bundle (SPEC 11): GET /api/v1/requests/{id}/evidence/ and `Download evidence`."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction
from django.http import StreamingHttpResponse

from audit_app.models import AuditCheckpoint, AuditPrunedRange, AuditRecord
from audit_app.policies import retention_policy_create
from audit_app.services import audit_record
from audit_app.signing import jwks, verify
from requests_app import services
from tenants_app.models import User
from tests.audit.conftest import T0
from tests.audit.test_export_jsonl import check_run

URL = "/api/v1/requests/{}/evidence/"


def fetch(client, pk) -> dict:
    response = client.get(URL.format(pk))
    assert response.status_code == 200, getattr(response, "content", b"")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "application/json"
    return json.loads(b"".join(response.streaming_content))


def _seqs(access_request) -> list[int]:
    return list(
        AuditRecord.objects.filter(request_id=access_request.pk)
        .order_by("seq")
        .values_list("seq", flat=True)
    )


@pytest.fixture
def interleaved(world, make_request):
    """A request approved by the customer, with another request's records in between."""
    mine = make_request(stage="pending_internal")
    other = make_request(stage="pending_internal")
    services.access_request_internal_approve(actor=world.manager, access_request_id=mine.pk)
    services.access_request_internal_approve(actor=world.manager, access_request_id=other.pk)
    services.access_request_approve(
        actor=world.approver, access_request_id=mine.pk, comment="ok for today"
    )
    mine.refresh_from_db()
    return mine, other


def test_the_bundle_holds_the_request_its_chain_run_a_checkpoint_and_the_keys(
    world, api, interleaved
):
    mine, other = interleaved
    assert not AuditCheckpoint.objects.exists()
    doc = fetch(api(world.admin), mine.pk)
    assert set(doc) == {"format", "request", "decisions", "records", "pruned", "checkpoint", "keys"}
    assert doc["format"] == "lockbox-evidence/v1"
    assert doc["request"] == api(world.admin).get(f"/api/v1/requests/{mine.pk}/").json()
    # The run from the request's first record to its last, the other request's between.
    mine_seqs = _seqs(mine)
    assert check_run(doc["records"], from_genesis=False) == list(
        range(mine_seqs[0], mine_seqs[-1] + 1)
    )
    assert {r["request_id"] for r in doc["records"]} == {mine.pk, other.pk}
    assert doc["records"][0]["request_id"] == doc["records"][-1]["request_id"] == mine.pk
    assert {r["tenant_id"] for r in doc["records"]} == {world.contoso.pk}
    stored = AuditRecord.objects.get(tenant=world.contoso, seq=mine_seqs[0])
    assert doc["records"][0]["prev_hash"] == stored.prev_hash
    assert doc["records"][0]["created_at"] == stored.created_at.isoformat()
    assert doc["pruned"] == []
    # A checkpoint was issued for the occasion: signed, covering the run's last record.
    checkpoint = doc["checkpoint"]
    assert AuditCheckpoint.objects.count() == 1
    signed = verify(checkpoint["jws"])
    assert signed["type"] == "lockbox.checkpoint/v1" and signed["tenant"] == "contoso"
    assert signed["seq"] == checkpoint["seq"] >= doc["records"][-1]["seq"]
    assert signed["hash"] == AuditRecord.objects.get(tenant=world.contoso, seq=signed["seq"]).hash
    assert doc["keys"] == jwks()


def test_a_covering_checkpoint_is_reused_and_a_stale_one_is_not(world, api, interleaved):
    mine, _ = interleaved
    client = api(world.admin)
    first = fetch(client, mine.pk)["checkpoint"]
    assert fetch(client, mine.pk)["checkpoint"] == first  # still covers: nothing new issued
    assert AuditCheckpoint.objects.count() == 1
    services.access_request_revoke(actor=world.approver, access_request_id=mine.pk)
    doc = fetch(client, mine.pk)
    assert AuditCheckpoint.objects.count() == 2
    assert doc["checkpoint"]["seq"] == doc["records"][-1]["seq"] == _seqs(mine)[-1]
    assert doc["checkpoint"]["seq"] > first["seq"]


def test_the_customer_decisions_come_signed(world, api, interleaved):
    mine, _ = interleaved
    services.access_request_revoke(actor=world.approver, access_request_id=mine.pk)
    decisions = fetch(api(world.admin), mine.pk)["decisions"]
    assert [verify(d["jws"])["decision"] for d in decisions] == ["approved", "revoked"]
    assert [d["statement"] for d in decisions] == [verify(d["jws"]) for d in decisions]
    assert decisions[0]["statement"]["request"] == mine.pk


def test_those_who_see_the_request_get_its_evidence(world, api, interleaved, make_request):
    mine, _ = interleaved
    for user in (world.admin, world.approver):
        assert fetch(api(user), mine.pk)["request"]["id"] == mine.pk
    # Provider staff see the request, but the bundle holds the customer's audit log.
    for user in (world.engineer, world.manager):
        response = api(user).get(URL.format(mine.pk))
        assert response.status_code == 403
        assert "customer's" in response.json()["detail"]
    # Not another tenant's, not a customer's before the provider approved it internally, not
    # another engineer's, not a reader of the audit log who cannot see requests.
    hidden = make_request(stage="pending_internal")
    colleague = User.objects.create_user(
        username="second@provider.example", password="x", tenant=world.provider
    )
    colleague.groups.add(Group.objects.get(name="Support Engineer"))
    for user, pk in (
        (world.northwind_admin, mine.pk),
        (world.admin, hidden.pk),
        (world.approver, hidden.pk),
        (colleague, mine.pk),
        (world.auditor, mine.pk),
    ):
        response = api(user).get(URL.format(pk))
        assert response.status_code == 404, (user, pk)
        assert response.json() == {"detail": "Not found."}
    assert api(world.admin).get(URL.format(999999)).status_code == 404
    assert api().get(URL.format(mine.pk)).status_code == 401
    assert AuditCheckpoint.objects.count() == 1  # only the first fetch issued one


def test_pruned_ranges_inside_the_run_come_with_it(world, api, make_request):
    """Records of the tenant's chain between the request's own that retention deleted."""
    now = T0 + timedelta(days=400)
    with time_machine.travel(now - timedelta(days=100), tick=False):
        access_request = make_request(stage="pending_internal")
    for n in range(2):  # other actions in the tenant while the request waits: expire at 90 days
        at = now - timedelta(days=100) + timedelta(minutes=n + 1)
        with time_machine.travel(at, tick=False), transaction.atomic():
            audit_record(
                tenant_id=world.contoso.pk,
                actor=None,
                record_type="Windows365CustomerLockbox",
                operation="OperatorAction",
            )
    with time_machine.travel(now - timedelta(days=100) + timedelta(hours=1), tick=False):
        services.access_request_internal_approve(
            actor=world.manager, access_request_id=access_request.pk
        )
        services.access_request_approve(actor=world.approver, access_request_id=access_request.pk)
    with time_machine.travel(now - timedelta(days=1), tick=False):
        retention_policy_create(
            actor=world.admin,
            data={"name": "p", "priority": 1, "duration": "P90D", "operations": ["OperatorAction"]},
        )
    with time_machine.travel(now, tick=False):
        call_command("apply_retention", stdout=open("/dev/null", "w"))
        doc = fetch(api(world.admin), access_request.pk)
    seqs = _seqs(access_request)
    inside = AuditPrunedRange.objects.get(
        tenant=world.contoso, first_seq__gt=seqs[0], last_seq__lt=seqs[-1]
    )
    assert doc["pruned"] == [
        {
            "kind": "pruned",
            "first_seq": inside.first_seq,
            "last_seq": inside.last_seq,
            "last_hash": inside.last_hash,
            "pruned_at": inside.created_at.isoformat(),
            "jws": inside.jws,
        }
    ]
    assert inside.last_seq - inside.first_seq == 1
    # Walked in chain order, the records link across the pruned range.
    lines = sorted(doc["pruned"] + doc["records"], key=lambda x: x.get("seq") or x["first_seq"])
    # ... and run on to the checkpoint's record (here past the request's own last one), so that
    # the signed checkpoint vouches for every line.
    assert doc["checkpoint"]["seq"] > seqs[-1]
    assert check_run(lines, from_genesis=False) == [
        s
        for s in range(seqs[0], doc["checkpoint"]["seq"] + 1)
        if not inside.first_seq <= s <= inside.last_seq
    ]


def test_download_evidence_on_the_request_page(world, api, client, interleaved, make_request):
    mine, _ = interleaved
    client.force_login(world.admin)
    page = client.get(f"/requests/{mine.pk}/").content.decode()
    assert f'href="/requests/{mine.pk}/evidence/" download>Download evidence</a>' in page
    from_api = fetch(api(world.admin), mine.pk)
    response = client.get(f"/requests/{mine.pk}/evidence/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert (
        response["Content-Disposition"] == f'attachment; filename="evidence-request-{mine.pk}.json"'
    )
    assert json.loads(b"".join(response.streaming_content)) == from_api
    hidden = make_request(stage="pending_internal")
    assert client.get(f"/requests/{hidden.pk}/evidence/").status_code == 404
    client.force_login(world.northwind_admin)
    assert client.get(f"/requests/{mine.pk}/evidence/").status_code == 404
    client.logout()
    assert client.get(f"/requests/{mine.pk}/evidence/").status_code == 302  # to sign-in
