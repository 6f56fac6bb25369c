"""The export that verifies (SPEC 11): GET /api/v1/audit/records/export/?format=jsonl.

Hashes are re-derived here from the published rule (docs: issue 12 formats) with hashlib and
json only - not with audit_app.chain - so these tests check the format a customer's verifier
relies on, not the server's own code.
"""

import hashlib
import json
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.http import StreamingHttpResponse

from audit_app.checkpoints import checkpoint_issue
from audit_app.models import AuditPrunedRange, AuditRecord
from audit_app.policies import retention_policy_create
from audit_app.signing import verify
from tests.audit.conftest import T0

URL = "/api/v1/audit/records/export/"
GENESIS = "0" * 64
HASHED = (
    "seq",
    "created_at",
    "record_type",
    "operation",
    "actor",
    "actor_type",
    "object_type",
    "object_id",
    "result",
    "client_ip",
    "details",
    "request_id",
)


def rehash(prev_hash: str, line: dict) -> str:
    """The documented rule: sha256_hex(prev_hash + json.dumps(content, sort_keys, compact,
    default=str)), content = the hashed fields plus tenant_id."""
    content = {name: line[name] for name in HASHED}
    content["tenant_id"] = line["tenant_id"]
    payload = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def check_run(lines: list[dict], *, from_genesis: bool) -> list[int]:
    """Walk records and pruned ranges as a verifier does; return the record seqs seen."""
    seen, expected_seq, expected_prev = [], None, None
    if from_genesis:
        expected_seq, expected_prev = 1, GENESIS
    for line in lines:
        if line["kind"] == "pruned":
            assert line["first_seq"] == expected_seq, line
            expected_seq, expected_prev = line["last_seq"] + 1, line["last_hash"]
            continue
        assert line["kind"] == "record", line
        if expected_seq is not None:
            assert line["seq"] == expected_seq, line
            assert line["prev_hash"] == expected_prev, line
        assert rehash(line["prev_hash"], line) == line["hash"], line
        seen.append(line["seq"])
        expected_seq, expected_prev = line["seq"] + 1, line["hash"]
    return seen


def export(client, **params) -> tuple[dict, list[dict], dict | None]:
    """(header, record and pruned lines, checkpoint line or None)."""
    response = client.get(URL, {"format": "jsonl", **params})
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode()
    assert text.endswith("\n")
    lines = [json.loads(line) for line in text.splitlines()]
    header, body = lines[0], lines[1:]
    assert header["kind"] == "header"
    checkpoint = body.pop() if body and body[-1]["kind"] == "checkpoint" else None
    assert all(line["kind"] in ("record", "pruned") for line in body)
    return header, body, checkpoint


@pytest.fixture
def chain(world, write_record, days):
    """Ten contoso records a day apart, varied fields, and one of northwind's in between."""
    written = []
    for n in range(10):
        written.append(
            write_record(
                world.contoso,
                at=days(n) + timedelta(microseconds=123456 * (n % 2)),  # isoformat with and without
                actor=world.admin if n % 3 == 0 else None,
                operation="OperatorAction" if n % 2 else "RequestCreated",
                object_type="CloudPC",
                object_id=f"pc-{n}",
                client_ip="203.0.113.7" if n % 2 else None,
                details={"n": n, "note": "Zoë → ünïcode", "nested": {"x": [1, 2.5, None]}},
            )
        )
        if n == 4:
            write_record(world.northwind, at=days(n), details={"secret": "northwind only"})
    return written


def test_every_record_re_derives_with_the_documented_rule(world, api, chain):
    header, body, _ = export(api(world.admin))
    assert check_run(body, from_genesis=True) == list(range(1, 11))
    stored = {r.seq: r for r in AuditRecord.objects.filter(tenant=world.contoso)}
    for line in body:
        record = stored[line["seq"]]
        assert line["hash"] == record.hash and line["prev_hash"] == record.prev_hash
        assert line["id"] == record.pk and line["tenant_id"] == world.contoso.pk
        assert line["created_at"] == record.created_at.isoformat()
        assert set(line) == {"kind", "id", "tenant_id", *HASHED, "prev_hash", "hash"}
    # The hashed string kept its form: no microseconds when they are 0, six digits otherwise.
    assert body[0]["created_at"] == "2026-01-01T00:00:00+00:00"
    assert body[1]["created_at"] == "2026-01-02T00:00:00.123456+00:00"
    assert body[1]["details"]["note"] == "Zoë → ünïcode" and body[1]["client_ip"] == "203.0.113.7"
    assert header == {
        "kind": "header",
        "format": "lockbox-audit/v1",
        "tenant": "contoso",
        "tenant_id": world.contoso.pk,
        "exported_at": header["exported_at"],
        "first_seq": 1,
        "last_seq": 10,
    }


def test_it_streams_json_lines_as_a_download(world, api, chain):
    response = api(world.auditor).get(URL, {"format": "jsonl"})
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-contoso-')
    assert response["Content-Disposition"].endswith('.jsonl"')


def test_the_latest_checkpoint_comes_last_and_verifies(world, api, chain, write_record, days):
    first = checkpoint_issue(tenant_id=world.contoso.pk)
    write_record(world.contoso, at=days(20))
    newest = checkpoint_issue(tenant_id=world.contoso.pk)
    write_record(world.contoso, at=days(21))  # after the newest checkpoint: exported too
    header, body, checkpoint = export(api(world.admin))
    assert check_run(body, from_genesis=True) == list(range(1, 13))
    assert checkpoint == {
        "kind": "checkpoint",
        "tenant": "contoso",
        "tenant_id": world.contoso.pk,
        "seq": 11,
        "hash": body[10]["hash"],
        "issued_at": newest.issued_at.isoformat(),
        "previous": hashlib.sha256(first.jws.encode()).hexdigest(),
        "jws": newest.jws,
    }
    signed = verify(checkpoint["jws"])
    assert (signed["type"], signed["seq"], signed["hash"]) == (
        "lockbox.checkpoint/v1",
        11,
        body[10]["hash"],
    )


def test_without_a_checkpoint_the_file_ends_with_the_newest_record(world, api, chain):
    _, body, checkpoint = export(api(world.admin))
    assert checkpoint is None and body[-1]["seq"] == 10


def test_start_and_end_give_a_contiguous_run(world, api, chain, days):
    header, body, _ = export(
        api(world.admin), start=days(3).isoformat(), end=(days(6) + timedelta(hours=1)).isoformat()
    )
    assert check_run(body, from_genesis=False) == [4, 5, 6, 7]
    assert (header["first_seq"], header["last_seq"]) == (4, 7)
    # The run starts from a record whose predecessor is not in the file: its link is the
    # stored chain's.
    assert body[0]["prev_hash"] == AuditRecord.objects.get(tenant=world.contoso, seq=3).hash
    _, only_start, _ = export(api(world.admin), start=days(8).isoformat())
    assert check_run(only_start, from_genesis=False) == [9, 10]
    _, only_end, _ = export(api(world.admin), end=days(1).isoformat())
    assert check_run(only_end, from_genesis=True) == [1]


def test_a_span_without_records_is_an_empty_run(world, api, chain, days):
    header, body, _ = export(api(world.admin), start=days(30).isoformat())
    assert body == [] and (header["first_seq"], header["last_seq"]) == (None, None)


@pytest.mark.parametrize(
    "params",
    [
        {"record_type": "Windows365CustomerLockbox"},
        {"operation": "RequestCreated"},
        {"actor": "System"},
        {"object_id": "pc-1"},
        {"request": "1"},
        {"q": "Zoë"},
        {"start": "2026-01-01T00:00:00Z", "q": ""},
    ],
)
def test_other_filters_are_a_400(world, api, chain, params):
    response = api(world.admin).get(URL, {"format": "jsonl", **params})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert "only start and end" in body["detail"]
    assert body["parameters"] == sorted(set(params) - {"start"})


def test_a_bad_start_or_an_unknown_format_is_a_400(world, api, chain):
    client = api(world.admin)
    bad_start = client.get(URL, {"format": "jsonl", "start": "yesterday"})
    assert bad_start.status_code == 400 and "start" in bad_start.json()
    for unknown in ("xml", "json", ""):
        response = client.get(URL, {"format": unknown})
        assert response.status_code == 400
        assert response.json() == {"format": ["One of: csv, jsonl, ocsf."]}
    # The CSV export still takes every filter, with or without format=csv.
    csv = client.get(URL, {"format": "csv", "operation": "RequestCreated"})
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert b"".join(csv.streaming_content).decode().count("\n") == 6  # header + 5 records


def test_another_tenants_records_never_appear(world, api, chain):
    _, body, _ = export(api(world.admin))
    assert {line["tenant_id"] for line in body} == {world.contoso.pk}
    assert all("northwind only" not in json.dumps(line) for line in body)
    header, theirs, _ = export(api(world.northwind_admin))
    assert header["tenant"] == "northwind" and check_run(theirs, from_genesis=True) == [1]
    assert theirs[0]["details"] == {"secret": "northwind only"}


def test_only_those_who_search_the_audit_log_export_it(world, api, chain):
    for user in (world.approver, world.engineer, world.manager):
        response = api(user).get(URL, {"format": "jsonl"})
        assert response.status_code == 403
        assert response.json()["detail"].startswith("Only a Global Administrator")
    assert api().get(URL, {"format": "jsonl"}).status_code == 401


@pytest.fixture
def pruned_chain(world, write_record):
    """Kept and expired records interleaved, then the retention job run as production runs it.

    seq 1 a kept creation, 2-3 expired operator actions, 4 kept, 5-6 expired, 7 kept, 8 the
    policy's own record, 9 the job's RetentionApplied record.
    """
    now = T0 + timedelta(days=400)
    for n, (age, operation) in enumerate(
        [
            (121, "RequestCreated"),
            (120, "OperatorAction"),
            (119, "OperatorAction"),
            (118, "RequestCreated"),
            (117, "OperatorAction"),
            (116, "OperatorAction"),
            (10, "RequestCreated"),
        ]
    ):
        write_record(
            world.contoso, at=now - timedelta(days=age), operation=operation, object_id=f"r{n}"
        )
    with time_machine.travel(now - timedelta(days=1), tick=False):
        retention_policy_create(
            actor=world.admin,
            data={
                "name": "short operator actions",
                "priority": 1,
                "duration": "P90D",
                "operations": ["OperatorAction"],
            },
        )
    with time_machine.travel(now, tick=False):
        call_command("apply_retention", stdout=open("/dev/null", "w"))
    assert AuditPrunedRange.objects.filter(tenant=world.contoso).count() == 2
    return now


def _shape(body):
    return [
        (line["kind"], line["seq"])
        if line["kind"] == "record"
        else (line["kind"], (line["first_seq"], line["last_seq"]))
        for line in body
    ]


def test_pruned_ranges_come_in_chain_order(world, api, pruned_chain):
    header, body, _ = export(api(world.admin))
    assert _shape(body) == [
        ("record", 1),
        ("pruned", (2, 3)),
        ("record", 4),
        ("pruned", (5, 6)),
        ("record", 7),
        ("record", 8),
        ("record", 9),
    ]
    assert check_run(body, from_genesis=True) == [1, 4, 7, 8, 9]
    pruned = [line for line in body if line["kind"] == "pruned"]
    stored = AuditPrunedRange.objects.filter(tenant=world.contoso).order_by("first_seq")
    assert pruned == [
        {
            "kind": "pruned",
            "first_seq": r.first_seq,
            "last_seq": r.last_seq,
            "last_hash": r.last_hash,
            "pruned_at": r.created_at.isoformat(),
            "jws": r.jws,
        }
        for r in stored
    ]
    assert body[-1]["operation"] == "RetentionApplied"
    assert (header["first_seq"], header["last_seq"]) == (1, 9)


def test_a_run_from_the_middle_holds_only_the_ranges_inside_it(world, api, pruned_chain):
    start = AuditRecord.objects.get(tenant=world.contoso, seq=4).created_at
    header, body, _ = export(api(world.admin), start=start.isoformat())
    assert _shape(body) == [
        ("record", 4),
        ("pruned", (5, 6)),
        ("record", 7),
        ("record", 8),
        ("record", 9),
    ]
    assert check_run(body, from_genesis=False) == [4, 7, 8, 9]
    assert (header["first_seq"], header["last_seq"]) == (4, 9)
    end = AuditRecord.objects.get(tenant=world.contoso, seq=7).created_at
    header, upto, _ = export(api(world.admin), end=end.isoformat())
    assert _shape(upto) == [
        ("record", 1),
        ("pruned", (2, 3)),
        ("record", 4),
        ("pruned", (5, 6)),
        ("record", 7),
    ]
    assert (header["first_seq"], header["last_seq"]) == (1, 7)


def test_pruned_ranges_before_the_first_record_lead_a_run_from_the_start(world, api, write_record):
    now = T0 + timedelta(days=400)
    for n in range(3):
        write_record(world.contoso, at=now - timedelta(days=300 - n), object_id=f"old-{n}")
    write_record(world.contoso, at=now - timedelta(days=5), object_id="kept")
    with time_machine.travel(now, tick=False):
        call_command("apply_retention", stdout=open("/dev/null", "w"))
    header, body, _ = export(api(world.admin))
    assert [line["kind"] for line in body] == ["pruned", "record", "record"]
    assert (body[0]["first_seq"], body[0]["last_seq"]) == (1, 3)
    assert check_run(body, from_genesis=True) == [4, 5]
    assert (header["first_seq"], header["last_seq"]) == (1, 5)
    # A start before every record that is left is still a run from the start.
    _, same, _ = export(api(world.admin), start=(now - timedelta(days=999)).isoformat())
    assert same == body


def test_with_end_the_checkpoint_is_the_newest_inside_the_run(world, api, write_record, days):
    for n in range(3):
        write_record(world.contoso, at=days(n))
    inside = checkpoint_issue(tenant_id=world.contoso.pk)
    for n in range(3, 6):
        write_record(world.contoso, at=days(n))
    checkpoint_issue(tenant_id=world.contoso.pk)  # past the run's end
    _, body, checkpoint = export(api(world.admin), end=(days(4) + timedelta(hours=1)).isoformat())
    assert check_run(body, from_genesis=True) == [1, 2, 3, 4, 5]
    assert (checkpoint["seq"], checkpoint["jws"]) == (inside.seq, inside.jws)
    _, early, none = export(api(world.admin), end=(days(1) + timedelta(hours=1)).isoformat())
    assert check_run(early, from_genesis=True) == [1, 2] and none is None
