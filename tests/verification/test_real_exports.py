"""Issue 12's "Must show": the offline verifier against exports the app really made.

One tenant log is built once for the module through the real API, services and jobs: requests
through internal and customer approval (signed decisions, one with a non-ASCII comment), a
denial, a revocation, Cloud PC actions, a retention run that prunes a range in the middle of
the chain, and checkpoints from the job. The customer then fetches what a customer fetches:
the public keys, its latest checkpoint (saved before any attack), the JSON Lines export and an
evidence bundle, and runs `lockbox-verify` on them as a separate process.

Then every attack of the issue, twice over: on the exported FILE (each must exit 1 naming the
first bad seq), and made directly in the database as a superuser would (triggers off), after
which the export is fetched again through the API and both the verifier (with the checkpoint
saved before) and `manage.py verify_audit` must report it.

Layout of Contoso's chain as built (asserted in test_the_log_is_what_the_scenario_wrote):
  1-3   R1 created, internally approved, approved by the customer (signed)
  4-6   R1's three Cloud PC actions             -> pruned by retention (one signed range)
  7     R1 revoked (signed)                     <- checkpoint
  8-10  R2 created, internally approved, denied (signed)
  11-14 R3 created, internally approved, approved (signed), one Cloud PC action
                                                <- checkpoint at 14
  15    retention policy created
  16    RetentionApplied                        <- checkpoint (issued by the retention run)
  17-18 R4 created, internally approved         <- checkpoint 18: the customer saves this one
"""

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import transaction
from joserfc import jws
from joserfc.jwk import OKPKey
from rest_framework.test import APIClient

from audit_app import signing
from audit_app.chain import GENESIS, HASHED_FIELDS
from audit_app.models import AuditChainHead, AuditCheckpoint, AuditPrunedRange, AuditRecord
from requests_app import services
from tenants_app.models import CloudPC, Tenant, User
from tests.audit.test_checkpoint_tamper import superuser
from tests.audit.test_decision_signatures import _rewrite

from .conftest import Verdict, lockbox_verify, read_jsonl, write_json, write_jsonl

END = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)  # the retention run
OLD = END - timedelta(days=120)  # R1: its Cloud PC actions are past a 90-day policy
RECENT = END - timedelta(days=10)  # R2, R3: kept
EXPORT = "/api/v1/audit/records/export/?format=jsonl"
COMMENT = "Zoë: nur heute, bitte ✓ 東京"  # non-ASCII: hashed escaped, signed as UTF-8

# Every test in a transaction of its own (a savepoint inside the module's, see `log`); it also
# tells pytest-django to set the test database up when only file tests are selected.
pytestmark = pytest.mark.django_db


def _travel(moment):
    return time_machine.travel(moment, tick=False)


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _ok(response, status=200):
    assert response.status_code == status, getattr(response, "content", response)
    return response


def _body(response) -> bytes:
    _ok(response)
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


@dataclass
class Log:
    """What the scenario built, and the customer's files (fetched before any attack)."""

    dir: Path
    contoso: Tenant
    northwind: Tenant
    users: dict
    requests: dict  # name -> AccessRequest id
    seq: dict  # name -> seq in Contoso's chain
    pruned: tuple[int, int]
    head: int
    keys: Path  # /.well-known/lockbox-keys.json
    saved: Path  # the customer's /api/v1/audit/checkpoints/latest/
    saved_seq: int
    all_checkpoints: Path  # every checkpoint, as a customer's webhook receiver keeps them
    export: Path  # the untouched format=jsonl export
    northwind_checkpoint: Path
    northwind_checkpoint_seq: int
    evidence: dict  # request name -> evidence bundle path

    def lines(self) -> list[dict]:
        return read_jsonl(self.export)


def _new_request(engineer, manager, tenant, pcs, reason, *, duration=60) -> int:
    ticket = _ok(
        engineer.post("/api/v1/tickets/", {"tenant": tenant.slug, "title": reason}, format="json"),
        201,
    ).json()
    created = _ok(
        engineer.post(
            "/api/v1/requests/",
            {
                "ticket": ticket["id"],
                "cloud_pcs": [pc.pk for pc in pcs],
                "reason": reason,
                "duration_minutes": duration,
            },
            format="json",
        ),
        201,
    ).json()
    _ok(manager.post(f"/api/v1/requests/{created['id']}/approve/", {}, format="json"))
    return created["id"]


def _build(directory: Path) -> Log:
    with _travel(OLD - timedelta(days=1)):
        call_command("seed_demo", stdout=io.StringIO())
    users = {u.username.split(".")[0]: u for u in User.objects.all()}
    contoso, northwind = Tenant.objects.get(slug="contoso"), Tenant.objects.get(slug="northwind")
    engineer = _client(users["engineer@provider"])
    manager = _client(users["manager@provider"])
    approver = _client(users["approver@contoso"])
    admin = _client(users["admin@contoso"])
    pcs = list(CloudPC.objects.filter(tenant=contoso).order_by("pk"))
    requests = {}

    with _travel(OLD):
        requests["R1"] = _new_request(engineer, manager, contoso, pcs[:2], "Slow sign-in")
    with _travel(OLD + timedelta(minutes=10)):
        _ok(approver.post(f"/api/v1/requests/{requests['R1']}/approve/", {"comment": COMMENT}))
    with _travel(OLD + timedelta(minutes=15)):
        pc = pcs[0].pk
        _ok(engineer.get(f"/api/v1/cloud-pcs/{pc}/"))
        _ok(engineer.get(f"/api/v1/cloud-pcs/{pc}/diagnostics/"))
        _ok(engineer.post(f"/api/v1/cloud-pcs/{pc}/restart/"))
    with _travel(OLD + timedelta(minutes=30)):
        _ok(approver.post(f"/api/v1/requests/{requests['R1']}/revoke/", {"comment": "done"}))
    with _travel(OLD + timedelta(minutes=40)):  # Northwind: Lockbox off, approved automatically
        nw_pcs = list(CloudPC.objects.filter(tenant=northwind).order_by("pk"))
        requests["NW"] = _new_request(engineer, manager, northwind, nw_pcs[:1], "Disk full")
    with _travel(OLD + timedelta(hours=2)):
        call_command("issue_checkpoints", stdout=io.StringIO())

    with _travel(RECENT):
        requests["R2"] = _new_request(engineer, manager, contoso, pcs[2:3], "Printer mapping")
        _ok(approver.post(f"/api/v1/requests/{requests['R2']}/deny/", {"comment": "not today"}))
    with _travel(RECENT + timedelta(minutes=5)):
        requests["R3"] = _new_request(engineer, manager, contoso, pcs[1:2], "Teams crash")
        _ok(admin.post(f"/api/v1/requests/{requests['R3']}/approve/", {}))
        _ok(engineer.get(f"/api/v1/cloud-pcs/{pcs[1].pk}/diagnostics/"))
    with _travel(RECENT + timedelta(hours=1)):
        call_command("issue_checkpoints", stdout=io.StringIO())

    with _travel(END - timedelta(days=1)):
        _ok(
            admin.post(
                "/api/v1/audit/retention-policies/",
                {
                    "name": "Operator actions 90 days",
                    "priority": 1,
                    "duration": "P90D",
                    "operations": ["OperatorAction"],
                },
                format="json",
            ),
            201,
        )
    with _travel(END):
        call_command("apply_retention", stdout=io.StringIO())
    with _travel(END + timedelta(hours=1)):
        requests["R4"] = _new_request(engineer, manager, contoso, pcs[3:4], "VPN drops")
    with _travel(END + timedelta(hours=2)):
        call_command("issue_checkpoints", stdout=io.StringIO())

    def seq_of(request, operation):
        return AuditRecord.objects.get(
            tenant=contoso, request_id=requests[request], operation=operation
        ).seq

    seq = {
        "R1 approved": seq_of("R1", "RequestApproved"),
        "R1 revoked": seq_of("R1", "AccessRevoked"),
        "R2 created": seq_of("R2", "RequestCreated"),
        "R2 denied": seq_of("R2", "RequestDenied"),
        "R3 created": seq_of("R3", "RequestCreated"),
        "R3 approved": seq_of("R3", "RequestApproved"),
    }
    (pruned,) = AuditPrunedRange.objects.filter(tenant=contoso)

    # What the customer fetches and keeps, before anything happens to the database.
    with _travel(END + timedelta(hours=3)):
        keys = write_json(
            directory / "keys.json",
            json.loads(_body(APIClient().get("/.well-known/lockbox-keys.json"))),
        )
        saved_json = admin.get("/api/v1/audit/checkpoints/latest/").json()
        saved = write_json(directory / "checkpoint-saved.json", saved_json)
        listed = admin.get("/api/v1/audit/checkpoints/").json()["results"]
        all_checkpoints = write_json(directory / "checkpoints-all.json", listed)
        export = directory / "audit.jsonl"
        export.write_bytes(_body(_client(users["auditor@contoso"]).get(EXPORT)))
        northwind_json = (
            _client(users["admin@northwind"]).get("/api/v1/audit/checkpoints/latest/").json()
        )
        northwind_checkpoint = write_json(directory / "northwind-checkpoint.json", northwind_json)
        evidence = {}
        for name in ("R1", "R2"):
            path = directory / f"evidence-request-{requests[name]}.json"
            path.write_bytes(_body(admin.get(f"/api/v1/requests/{requests[name]}/evidence/")))
            evidence[name] = path

    return Log(
        dir=directory,
        contoso=contoso,
        northwind=northwind,
        users=users,
        requests=requests,
        seq=seq,
        pruned=(pruned.first_seq, pruned.last_seq),
        head=AuditChainHead.objects.get(tenant=contoso).last_seq,
        keys=keys,
        saved=saved,
        saved_seq=saved_json["seq"],
        all_checkpoints=all_checkpoints,
        export=export,
        northwind_checkpoint=northwind_checkpoint,
        northwind_checkpoint_seq=northwind_json["seq"],
        evidence=evidence,
    )


@pytest.fixture(scope="module")
def log(django_db_setup, django_db_blocker, tmp_path_factory):
    """The log, built once for the module inside a transaction that is rolled back at its end;
    each test runs in a savepoint of it (the `db` fixture), so the database attacks are undone
    after each test. The customer's files are fetched once, before any attack."""
    with django_db_blocker.unblock(), transaction.atomic():
        built = _build(tmp_path_factory.mktemp("customer"))
        yield built
        transaction.set_rollback(True)


def verify(log, path, *checkpoints) -> Verdict:
    """As the README has it: `lockbox-verify FILE --keys keys.json --checkpoint cp-*.json`."""
    args = [path, "--keys", log.keys]
    if checkpoints:
        args += ["--checkpoint", *checkpoints]
    return lockbox_verify(*args)


def assert_fails_at(verdict: Verdict, seq: int, what: str) -> None:
    assert verdict.code == 1, verdict
    assert verdict.out.startswith(f"FAIL: seq {seq}: "), verdict
    assert what in verdict.out, verdict
    assert verdict.err == ""


# --- The untouched files ---------------------------------------------------------------------


def test_the_log_is_what_the_scenario_wrote(log, db):
    """The layout the module's docstring describes (so the seqs below mean what they say)."""
    assert log.seq == {
        "R1 approved": 3,
        "R1 revoked": 7,
        "R2 created": 8,
        "R2 denied": 10,
        "R3 created": 11,
        "R3 approved": 13,
    }
    assert log.pruned == (4, 6)
    assert log.head == log.saved_seq == 18
    signed = [c.seq for c in AuditCheckpoint.objects.filter(tenant=log.contoso).order_by("seq")]
    assert signed == [7, 14, 16, 18]
    assert AuditRecord.objects.get(tenant=log.contoso, seq=16).operation == "RetentionApplied"
    decision = AuditRecord.objects.get(tenant=log.contoso, seq=3)
    assert decision.client_ip == "127.0.0.1" and decision.details["comment"] == COMMENT


def test_the_untouched_export_verifies(log):
    verdict = verify(log, log.export, log.saved)
    assert verdict == Verdict(
        0,
        "OK: tenant contoso, records 1-18 (15 present, 3 pruned in 1 signed range), "
        "4 signed decisions, 1 checkpoint verified",
        "",
    )


def test_the_untouched_export_verifies_against_every_checkpoint_kept(log):
    verdict = verify(log, log.export, log.all_checkpoints, log.saved)
    assert verdict == Verdict(
        0,
        "OK: tenant contoso, records 1-18 (15 present, 3 pruned in 1 signed range), "
        "4 signed decisions, 4 checkpoints verified",
        "",
    )


def test_the_untouched_evidence_bundles_verify(log):
    """Downloaded by the customer's Global Administrator. R1's run holds the pruned range."""
    r1, r2 = log.requests["R1"], log.requests["R2"]
    assert verify(log, log.evidence["R1"], log.saved) == Verdict(
        0,
        f"OK: tenant contoso, request {r1}, records 1-18 (15 present, 3 pruned in 1 signed "
        "range), 4 signed decisions, 1 checkpoint verified",
        "",
    )
    assert verify(log, log.evidence["R2"]) == Verdict(
        0,
        f"OK: tenant contoso, request {r2}, records 8-18 (11 present, none pruned), "
        "2 signed decisions, 1 checkpoint verified",
        "",
    )


def test_the_untouched_database_is_intact_for_verify_audit(log, db):
    out = io.StringIO()
    call_command("verify_audit", "--tenant", "contoso", stdout=out)
    assert (
        "contoso: intact (15 records; 4 checkpoints, 1 signed pruned range verified)"
        in out.getvalue()
    )


def test_exports_narrowed_by_time_verify_as_documented(log, tmp_path):
    """start= gives a run that begins after seq 1 (verified with --partial); end= stops
    before the head and ends with the newest checkpoint inside the run."""
    auditor = _client(log.users["auditor@contoso"])
    since = tmp_path / "since.jsonl"
    since.write_bytes(
        _body(auditor.get(EXPORT.split("?")[0], {"format": "jsonl", "start": RECENT.isoformat()}))
    )
    summary = (
        "OK: tenant contoso, records 8-18 (11 present, none pruned), 2 signed decisions, "
        "1 checkpoint verified"
    )
    assert verify(log, since, log.saved).code == 1  # without --partial: records 1-7 missing
    assert lockbox_verify(since, "--keys", log.keys, "--partial") == Verdict(0, summary, "")
    until = tmp_path / "until.jsonl"
    end = RECENT + timedelta(minutes=1)
    until.write_bytes(
        _body(auditor.get(EXPORT.split("?")[0], {"format": "jsonl", "end": end.isoformat()}))
    )
    assert read_jsonl(until)[-1]["seq"] == 7
    assert verify(log, until) == Verdict(
        0,
        "OK: tenant contoso, records 1-10 (7 present, 3 pruned in 1 signed range), "
        "3 signed decisions, 1 checkpoint verified",
        "",
    )


# --- Attacks on the exported file ------------------------------------------------------------


def record_hash(prev_hash: str, line: dict) -> str:
    """The documented hash rule (what an attacker who read the README can compute)."""
    content = {name: line[name] for name in (*HASHED_FIELDS, "tenant_id")}
    payload = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def rechain(lines: list[dict], from_seq: int) -> list[dict]:
    """Recompute prev_hash and hash from `from_seq` on, so every link checks out again."""
    prev = GENESIS
    for line in lines:
        if line["kind"] == "pruned":
            prev = line["last_hash"]
        elif line["kind"] == "record":
            if line["seq"] >= from_seq:
                line["prev_hash"], line["hash"] = prev, record_hash(prev, line)
            prev = line["hash"]
    return lines


def by_seq(lines: list[dict], seq: int) -> dict:
    return next(line for line in lines if line["kind"] == "record" and line["seq"] == seq)


def without_checkpoint_line(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["kind"] != "checkpoint"]


def foreign_jws(payload: dict, kid: str | None = None) -> str:
    """Signed with an Ed25519 key that is not Lockbox's (claiming `kid` if given)."""
    key = OKPKey.generate_key("Ed25519")
    header = {"alg": "EdDSA", "kid": kid or key.thumbprint(), "typ": "JWT"}
    return jws.serialize_compact(header, signing.canonical(payload), key, algorithms=["EdDSA"])


def flip(value):
    """One changed byte: the last character's lowest bit (an int: its lowest bit)."""
    if isinstance(value, int):
        return value ^ 1
    return value[:-1] + chr(ord(value[-1]) ^ 1)


FIELDS = (*HASHED_FIELDS, "tenant_id")


@pytest.mark.parametrize("field", FIELDS)
def test_a_changed_byte_in_any_field_of_a_record(log, tmp_path, field):
    lines = log.lines()
    seq = log.seq["R2 denied"]
    record = by_seq(lines, seq)
    if field == "details":
        record["details"]["comment"] = flip(record["details"]["comment"])
    else:
        assert record[field] not in (None, "", {}), field  # a field that holds something
        record[field] = flip(record[field])
    verdict = verify(log, write_jsonl(tmp_path / "audit.jsonl", lines), log.saved)
    what = {
        "seq": f"records {seq}-{seq} missing or moved",
        "tenant_id": f"a record of tenant id {log.contoso.pk ^ 1}",
    }.get(field, "content altered")
    assert_fails_at(verdict, seq, what)


def test_a_record_removed_from_the_middle(log, tmp_path):
    seq = log.seq["R2 denied"]
    lines = [line for line in log.lines() if line.get("seq") != seq]
    verdict = verify(log, write_jsonl(tmp_path / "audit.jsonl", lines), log.saved)
    assert_fails_at(verdict, seq, f"records {seq}-{seq} missing or moved")


def test_a_record_inserted(log, tmp_path):
    """A well-formed record that links to its predecessor, put in before the real one."""
    lines = log.lines()
    seq = log.seq["R2 denied"]
    real = by_seq(lines, seq)
    # Not a decision: an unsigned one is caught on its own (tests/audit/test_trust_review_findings.py).
    forged = {**real, "operation": "OperatorAction", "details": {"request_id": real["request_id"]}}
    forged["hash"] = record_hash(forged["prev_hash"], forged)
    lines.insert(lines.index(real), forged)
    verdict = verify(log, write_jsonl(tmp_path / "audit.jsonl", lines), log.saved)
    assert_fails_at(verdict, seq, f"out of order: the file has seq {seq} where seq {seq + 1}")


def test_a_record_inserted_and_the_chain_renumbered_and_rehashed(log, tmp_path):
    """A consistent rewrite: every hash and link is right again, only the checkpoint saved
    before knows the chain was different."""
    lines = log.lines()
    seq = log.seq["R2 denied"]
    real = by_seq(lines, seq)
    # Not a decision: an unsigned one is caught on its own (tests/audit/test_trust_review_findings.py).
    forged = {**real, "operation": "OperatorAction", "details": {"request_id": real["request_id"]}}
    lines.insert(lines.index(real), forged)
    for line in lines[lines.index(real) :]:
        if line["kind"] == "record":
            line["seq"] += 1
    rechain(lines, seq)
    lines = without_checkpoint_line(lines)
    lines[0]["last_seq"] += 1
    path = write_jsonl(tmp_path / "audit.jsonl", lines)
    assert verify(log, path).code == 0  # without a checkpoint, nothing shows it
    assert_fails_at(
        verify(log, path, log.saved),
        log.saved_seq,
        f"does not match the checkpoint of seq {log.saved_seq}",
    )


def test_two_records_swapped(log, tmp_path):
    lines = log.lines()
    seq = log.seq["R2 denied"]
    a, b = lines.index(by_seq(lines, seq)), lines.index(by_seq(lines, seq + 1))
    lines[a], lines[b] = lines[b], lines[a]
    verdict = verify(log, write_jsonl(tmp_path / "audit.jsonl", lines), log.saved)
    assert_fails_at(verdict, seq, f"records {seq}-{seq} missing or moved")


@pytest.mark.parametrize("checkpoint_line", ["removed", "an older genuine one"])
def test_the_newest_records_deleted_and_the_head_rolled_back(log, tmp_path, checkpoint_line):
    """The file cut after R3's creation, its header's last_seq rewritten to match, and the
    checkpoint line (which names seq 18) removed or replaced by the genuine one of seq 7."""
    keep = log.seq["R3 created"]
    lines = [line for line in log.lines() if line.get("seq", 0) <= keep]
    lines = without_checkpoint_line(lines)
    lines[0]["last_seq"] = keep
    if checkpoint_line != "removed":
        older = next(c for c in json.loads(log.all_checkpoints.read_text()) if c["seq"] == 7)
        lines.append(older)
    path = write_jsonl(tmp_path / "audit.jsonl", lines)
    assert verify(log, path).code == 0  # what the file says about itself holds together
    assert_fails_at(
        verify(log, path, log.saved),
        keep + 1,
        "records missing at the end, the chain head rolled back: the checkpoint of seq 18",
    )


def _pruned_statement(log, lines, first, last, pruned_at):
    return {
        "type": "lockbox.pruned/v1",
        "tenant": "contoso",
        "tenant_id": log.contoso.pk,
        "first_seq": first,
        "last_seq": last,
        "last_hash": by_seq(lines, last)["hash"],
        "pruned_at": pruned_at,
    }


@pytest.mark.parametrize(
    ("signature", "what"),
    [
        ("unsigned", "pruned range 8-10 is not signed"),
        ("another key", "pruned range 8-10: signed by a key that is not in the keys file"),
        ("another key claiming ours", "pruned range 8-10: signature does not verify with key"),
        ("a genuine range's signature", "pruned range 8-10 does not match its signed statement"),
    ],
)
def test_a_forged_pruned_range_hiding_deleted_records(log, tmp_path, signature, what):
    """R2 (its creation, approval and denial) deleted, a "retention" range in its place."""
    lines = log.lines()
    first, last = log.seq["R2 created"], log.seq["R2 denied"]
    genuine = next(line for line in lines if line["kind"] == "pruned")
    statement = _pruned_statement(log, lines, first, last, genuine["pruned_at"])
    token = {
        "unsigned": "",
        "another key": foreign_jws(statement),
        "another key claiming ours": foreign_jws(statement, kid=signing.key_id()),
        "a genuine range's signature": genuine["jws"],
    }[signature]
    at = lines.index(by_seq(lines, first))
    forged = {"kind": "pruned", **{k: statement[k] for k in ("first_seq", "last_seq", "last_hash")}}
    forged.update(pruned_at=statement["pruned_at"], jws=token)
    lines = [line for line in lines if not first <= line.get("seq", 0) <= last]
    lines.insert(at, forged)
    verdict = verify(log, write_jsonl(tmp_path / "audit.jsonl", lines), log.saved)
    assert_fails_at(verdict, first, what)


@pytest.mark.parametrize(
    ("kid", "what"),
    [
        ("its own", "decision signature: signed by a key that is not in the keys file"),
        ("ours", "decision signature: signature does not verify with key"),
    ],
)
def test_a_decision_signed_by_another_key(log, tmp_path, kid, what):
    """R2's denial re-signed with a foreign Ed25519 key and the chain recomputed after it, so
    every hash and link holds: only the signature check can tell."""
    lines = log.lines()
    seq = log.seq["R2 denied"]
    details = by_seq(lines, seq)["details"]
    details["jws"] = foreign_jws(
        details["statement"], kid=None if kid == "its own" else signing.key_id()
    )
    rechain(lines, seq)
    path = write_jsonl(tmp_path / "audit.jsonl", without_checkpoint_line(lines))
    assert_fails_at(verify(log, path), seq, what)  # no checkpoint needed
    assert_fails_at(verify(log, path, log.saved), seq, what)


def test_a_checkpoint_from_another_tenant(log):
    """Northwind's real checkpoint, given for Contoso's export."""
    verdict = verify(log, log.export, log.northwind_checkpoint)
    assert_fails_at(
        verdict,
        log.northwind_checkpoint_seq,
        f"is for tenant northwind (id {log.northwind.pk}), not this file's tenant contoso "
        f"(id {log.contoso.pk})",
    )


# --- The same attacks in the database, as a superuser would ----------------------------------


def export_again(log, tmp_path) -> Path:
    """The customer downloads the export again, through the API, after the attack."""
    path = tmp_path / "audit-after.jsonl"
    path.write_bytes(_body(_client(log.users["auditor@contoso"]).get(EXPORT)))
    return path


def verify_audit() -> str:
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"The audit log of 1 tenant\(s\) has been altered"):
        call_command("verify_audit", "--tenant", "contoso", stdout=out)
    return out.getvalue()


def _records(log):
    return AuditRecord.objects.filter(tenant=log.contoso)


@pytest.mark.parametrize("field", HASHED_FIELDS)
def test_in_the_database_a_field_of_a_record_changed(log, db, tmp_path, field):
    seq = log.seq["R2 denied"]
    record = _records(log).get(seq=seq)
    value = {
        "seq": 1000,
        "created_at": record.created_at + timedelta(seconds=1),
        "record_type": "CustomerLockboxSettings",
        "operation": "RequestApproved",  # the denial becomes an approval
        "actor": "admin@contoso.example",
        "actor_type": "provider",
        "object_type": "Ticket",
        "object_id": str(log.requests["R3"]),
        "result": "failure",
        "client_ip": "203.0.113.9",
        "details": {**record.details, "comment": "approved after all"},
        "request_id": log.requests["R3"],
    }[field]
    with superuser():
        _records(log).filter(pk=record.pk).update(**{field: value})
    what = f"records {seq}-{seq} missing or moved" if field == "seq" else "content altered"
    assert_fails_at(verify(log, export_again(log, tmp_path), log.saved), seq, what)
    where = "a gap): records missing" if field == "seq" else f"record {record.pk}): content altered"
    assert f"contoso: BROKEN at seq {seq} ({where}" in verify_audit()


def test_in_the_database_a_record_deleted_from_the_middle(log, db, tmp_path):
    seq = log.seq["R2 denied"]
    with superuser():
        _records(log).filter(seq=seq).delete()
    assert_fails_at(
        verify(log, export_again(log, tmp_path), log.saved),
        seq,
        f"records {seq}-{seq} missing or moved",
    )
    assert f"contoso: BROKEN at seq {seq} (a gap): records missing" in verify_audit()


def test_in_the_database_the_newest_records_deleted_and_the_head_rolled_back(log, db, tmp_path):
    keep = _records(log).get(seq=log.seq["R3 created"])
    with superuser():
        _records(log).filter(seq__gt=keep.seq).delete()
        AuditChainHead.objects.filter(tenant=log.contoso).update(
            last_seq=keep.seq, last_hash=keep.hash
        )
    export = export_again(log, tmp_path)
    # The server now ends its export with the newest checkpoint the shorter chain still holds.
    assert read_jsonl(export)[-1]["seq"] == 7
    assert verify(log, export).code == 0
    assert_fails_at(
        verify(log, export, log.saved),
        keep.seq + 1,
        "records missing at the end, the chain head rolled back",
    )
    assert (
        f"contoso: BROKEN at seq {keep.seq + 1}: chain head rolled back below checkpoint 18"
        in verify_audit()
    )


def _empty_the_log(log):
    """Every record and pruned range of the tenant deleted, the chain head reset to genesis.
    (The checkpoints are left: with them gone too, only the customer's copies can tell.)"""
    with superuser():
        _records(log).delete()
        AuditPrunedRange.objects.filter(tenant=log.contoso).delete()
        AuditChainHead.objects.filter(tenant=log.contoso).update(last_seq=0, last_hash=GENESIS)


def _regrow(log, count):
    """A new log from seq 1, written by the application itself: new access requests."""
    engineer = log.users["engineer@provider"]
    ticket = services.ticket_open(actor=engineer, tenant_slug="contoso", title="Regrown")
    pc = CloudPC.objects.filter(tenant=log.contoso).order_by("pk").first()
    with _travel(END + timedelta(days=1)):
        for n in range(count):
            services.access_request_create(
                actor=engineer,
                ticket_id=ticket.pk,
                cloud_pc_ids=[pc.pk],
                reason=f"Regrown {n}",
                duration_minutes=60,
            )
    assert AuditChainHead.objects.get(tenant=log.contoso).last_seq == count


def test_in_the_database_the_table_emptied_and_the_head_reset(log, db, tmp_path):
    _empty_the_log(log)
    export = export_again(log, tmp_path)
    assert [line["kind"] for line in read_jsonl(export)] == ["header"]
    assert_fails_at(
        verify(log, export, log.saved),
        1,
        "records missing at the end, the chain head rolled back: the checkpoint of seq 18 "
        "issued at",
    )
    assert "contoso: BROKEN at seq 1: chain head rolled back below checkpoint 18" in verify_audit()


def test_in_the_database_the_table_emptied_and_a_shorter_log_grown_from_seq_1(log, db, tmp_path):
    _empty_the_log(log)
    _regrow(log, 3)
    export = export_again(log, tmp_path)
    assert verify(log, export).code == 0  # a new chain, whole in itself
    assert_fails_at(
        verify(log, export, log.saved), 4, "records missing at the end, the chain head rolled back"
    )
    assert "contoso: BROKEN at seq 4: chain head rolled back below checkpoint 18" in verify_audit()


def test_in_the_database_the_table_emptied_and_a_longer_log_grown_from_seq_1(log, db, tmp_path):
    _empty_the_log(log)
    _regrow(log, log.saved_seq + 5)
    export = export_again(log, tmp_path)
    assert_fails_at(
        verify(log, export, log.saved),
        log.saved_seq,
        f"does not match the checkpoint of seq {log.saved_seq}",
    )
    # Every checkpoint kept (the webhook copies) pins it down to the first one.
    assert_fails_at(
        verify(log, export, log.all_checkpoints), 7, "does not match the checkpoint of seq 7"
    )
    assert "contoso: BROKEN at seq 7: checkpoint 7 does not match the chain" in verify_audit()


def test_in_the_database_everything_wiped_the_checkpoints_too_and_a_log_regrown(log, db, tmp_path):
    """With every checkpoint row gone as well, the database holds nothing signed to compare
    with (verify_audit's limit); the checkpoint the customer keeps still tells."""
    _empty_the_log(log)
    with superuser():
        AuditCheckpoint.objects.filter(tenant=log.contoso).delete()
    _regrow(log, 3)
    export = export_again(log, tmp_path)
    assert read_jsonl(export)[-1]["kind"] == "record"  # no checkpoint left to end it with
    assert_fails_at(
        verify(log, export, log.saved), 4, "records missing at the end, the chain head rolled back"
    )


@pytest.mark.parametrize(
    ("signature", "what", "problem"),
    [
        ("unsigned", "pruned range 8-10 is not signed", "pruned range 8-10 is not signed"),
        (
            "another key",
            "pruned range 8-10: signed by a key that is not in the keys file",
            "pruned range 8-10: signature invalid",
        ),
        (
            "unsigned, backdated before signing began",
            "pruned range 8-10 is not signed",
            "pruned range 8-10 is not signed",
        ),
    ],
)
def test_in_the_database_a_forged_pruned_range(log, db, tmp_path, signature, what, problem):
    """R2's records deleted and a pruned range written in their place, so the chain links.
    Backdated: the row claims to predate signing (created before the first checkpoint, an id
    below the first signed range's), as the ranges of an old installation would."""
    first, last = log.seq["R2 created"], log.seq["R2 denied"]
    last_hash = _records(log).get(seq=last).hash
    pruned_at = END + timedelta(hours=4)
    statement = {
        "type": "lockbox.pruned/v1",
        "tenant": "contoso",
        "tenant_id": log.contoso.pk,
        "first_seq": first,
        "last_seq": last,
        "last_hash": last_hash,
        "pruned_at": pruned_at.isoformat(),
    }
    row = {}
    if signature.startswith("unsigned, backdated"):
        pruned_at = OLD - timedelta(days=1)
        row["id"] = AuditPrunedRange.objects.order_by("id").first().id - 1
    with superuser():
        _records(log).filter(seq__range=(first, last)).delete()
        AuditPrunedRange.objects.create(
            tenant=log.contoso,
            first_seq=first,
            last_seq=last,
            last_hash=last_hash,
            created_at=pruned_at,
            jws=foreign_jws(statement) if signature == "another key" else "",
            **row,
        )
    assert_fails_at(verify(log, export_again(log, tmp_path), log.saved), first, what)
    assert f"contoso: BROKEN at seq {first}: {problem}" in verify_audit()


def test_in_the_database_a_decision_resigned_by_another_key_and_the_chain_rehashed(
    log, db, tmp_path
):
    seq = log.seq["R2 denied"]
    record = _records(log).get(seq=seq)
    details = {**record.details, "jws": foreign_jws(record.details["statement"])}
    _rewrite(record, details)  # triggers off, the chain after it and the head re-hashed
    export = export_again(log, tmp_path)
    assert_fails_at(
        verify(log, export, log.saved),
        seq,
        "decision signature: signed by a key that is not in the keys file",
    )
    assert (
        f"contoso: BROKEN at seq {seq} (record {record.pk}): decision signature invalid"
        in verify_audit()
    )
