"""Attacks on SPEC 11's verifiable trust (review-attack2). Each test states the secure outcome;
each failed before its fix.

Attacker model: full database access (triggers off, as a superuser), no signing key.
"""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from audit_app import tasks
from audit_app.chain import GENESIS, HASHED_FIELDS, record_hash
from audit_app.models import AuditChainHead, AuditCheckpoint, AuditPrunedRange, AuditRecord
from requests_app import services
from tests.audit.conftest import T0
from tests.audit.test_checkpoint_tamper import _raw, _verify, superuser

ROOT = Path(__file__).resolve().parents[2]
VERIFIER_SRC = str(ROOT / "verifier" / "src")
if VERIFIER_SRC not in sys.path:
    sys.path.insert(0, VERIFIER_SRC)

from lockbox_verify.cli import run as verifier_run  # noqa: E402

from audit_app.signing import jwks  # noqa: E402

# --- helpers ---------------------------------------------------------------------------------


def _rehash_from(tenant_id: int, seq: int) -> None:
    """Recompute every hash from seq on (and the head), as anyone who knows the rule can."""
    previous = (
        AuditRecord.objects.filter(tenant_id=tenant_id, seq__lt=seq)
        .order_by("-seq")
        .values_list("hash", flat=True)
        .first()
        or GENESIS
    )
    rows = (
        AuditRecord.objects.filter(tenant_id=tenant_id, seq__gte=seq)
        .order_by("seq")
        .values("id", *HASHED_FIELDS)
    )
    last_seq = None
    for row in rows:
        digest = record_hash(previous, tenant_id, row)
        _raw(
            "UPDATE audit_app_auditrecord SET prev_hash = %s, hash = %s WHERE id = %s",
            [previous, digest, row["id"]],
        )
        previous, last_seq = digest, row["seq"]
    if last_seq is not None:
        _raw(
            "UPDATE audit_app_auditchainhead SET last_seq = %s, last_hash = %s WHERE tenant_id = %s",
            [last_seq, previous, tenant_id],
        )


def _export(api, user, tmp_path, name="audit.jsonl") -> Path:
    response = api(user).get("/api/v1/audit/records/export/?format=jsonl")
    assert response.status_code == 200
    path = tmp_path / name
    path.write_bytes(b"".join(response.streaming_content))
    return path


def _evidence(api, user, access_request) -> dict:
    response = api(user).get(f"/api/v1/requests/{access_request.pk}/evidence/")
    assert response.status_code == 200, response.content[:300]
    return json.loads(b"".join(response.streaming_content))


def _keys(tmp_path) -> str:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(jwks()))
    return str(path)


def _lockbox_verify(*argv) -> tuple[int, str]:
    return verifier_run([str(a) for a in argv])


def _issue_checkpoints(at):
    with time_machine.travel(at, tick=False):
        tasks.issue_checkpoints.apply().get()


# --- 1. A genuine decision signature for another request, in a record of this request -------


def test_verifier_rejects_a_record_carrying_another_requests_signed_decision(
    world, make_request, api, tmp_path
):
    """verify_audit catches it ("names another tenant or request"); lockbox-verify says OK."""
    approved = make_request(stage="approved")
    denied = make_request(stage="pending_customer")
    services.access_request_deny(actor=world.approver, access_request_id=denied.pk, comment="no")
    approval = AuditRecord.objects.get(request_id=approved.pk, operation="RequestApproved")
    denial = AuditRecord.objects.get(request_id=denied.pk, operation="RequestDenied")
    with superuser():
        # The denial of `denied` now carries the (genuine) signed approval of `approved`.
        details = {
            **denial.details,
            "statement": approval.details["statement"],
            "jws": approval.details["jws"],
        }
        _raw(
            "UPDATE audit_app_auditrecord SET details = %s WHERE id = %s",
            [json.dumps(details), denial.pk],
        )
        _rehash_from(world.contoso.pk, denial.seq)
    assert "names another tenant or request" in _verify()
    export = _export(api, world.auditor, tmp_path)
    code, line = _lockbox_verify(export, "--keys", _keys(tmp_path))
    assert code == 1, line  # observed: 0, "OK: ... 2 signed decisions"


# --- 2. A denial turned into an approval by dropping its signature ---------------------------


def test_an_unsigned_customer_approval_record_is_a_break(world, make_request, api, tmp_path):
    """Every customer-side decision is signed (SPEC 11), so a RequestApproved record without a
    signature can only be a forgery; verify_audit and lockbox-verify both accept it."""
    make_request(stage="approved")
    denied = make_request(stage="pending_customer")
    services.access_request_deny(actor=world.approver, access_request_id=denied.pk, comment="no")
    denial = AuditRecord.objects.get(request_id=denied.pk, operation="RequestDenied")
    with superuser():
        details = {k: v for k, v in denial.details.items() if k not in ("statement", "jws")}
        details["status"] = "approved"
        _raw(
            "UPDATE audit_app_auditrecord SET operation = 'RequestApproved', details = %s "
            "WHERE id = %s",
            [json.dumps(details), denial.pk],
        )
        _rehash_from(world.contoso.pk, denial.seq)
    out = _verify()
    export = _export(api, world.auditor, tmp_path)
    code, line = _lockbox_verify(export, "--keys", _keys(tmp_path))
    assert out.startswith("FAILED"), out  # observed: "contoso: intact (...)"
    assert code == 1, line  # observed: 0, "OK: ... 1 signed decision"


# --- 3. A forged, back-dated unsigned pruned range: verify_audit says intact ------------------


def test_verify_audit_rejects_a_backdated_unsigned_pruned_range(world, write_record):
    records = [
        write_record(world.contoso, at=T0 + timedelta(minutes=n), details={"n": n})
        for n in range(6)
    ]
    _issue_checkpoints(T0 + timedelta(minutes=10))
    first, last = records[1], records[3]
    with superuser():
        _raw(
            "DELETE FROM audit_app_auditrecord WHERE tenant_id = %s AND seq BETWEEN %s AND %s",
            [world.contoso.pk, first.seq, last.seq],
        )
        # created_at is whatever the intruder writes: before the first checkpoint = "legacy".
        with time_machine.travel(T0 - timedelta(days=1), tick=False):
            AuditPrunedRange.objects.create(
                tenant=world.contoso,
                first_seq=first.seq,
                last_seq=last.seq,
                last_hash=last.hash,
                jws="",
            )
    out = _verify()
    assert out.startswith("FAILED"), out  # observed: warning + "contoso: intact"


# --- 4. Rollback / emptied table with the matching checkpoint rows removed too ---------------


@pytest.mark.parametrize("attack", ["newest records and checkpoints", "everything"])
def test_verify_audit_is_not_fooled_by_removing_checkpoint_rows_too(
    world, write_record, attack, tmp_path
):
    for n in range(3):
        write_record(world.contoso, at=T0 + timedelta(minutes=n), details={"n": n})
    _issue_checkpoints(T0 + timedelta(minutes=5))
    for n in range(3, 6):
        write_record(world.contoso, at=T0 + timedelta(minutes=n + 5), details={"n": n})
    _issue_checkpoints(T0 + timedelta(minutes=20))
    assert AuditCheckpoint.objects.filter(tenant=world.contoso).count() == 2
    # What a customer kept of the newest checkpoint (the webhook's copy), before the attack.
    newest = AuditCheckpoint.objects.filter(tenant=world.contoso).order_by("-seq").first()
    kept = tmp_path / "kept-checkpoint.json"
    kept.write_text(json.dumps({"kind": "checkpoint", "seq": newest.seq, "jws": newest.jws}))
    keep = AuditRecord.objects.get(tenant=world.contoso, seq=4)
    tid = world.contoso.pk
    with superuser():
        if attack == "everything":
            _raw("DELETE FROM audit_app_auditcheckpoint WHERE tenant_id = %s", [tid])
            _raw("DELETE FROM audit_app_auditrecord WHERE tenant_id = %s", [tid])
            _raw(
                "UPDATE audit_app_auditchainhead SET last_seq = 0, last_hash = %s "
                "WHERE tenant_id = %s",
                [GENESIS, tid],
            )
        else:
            _raw("DELETE FROM audit_app_auditcheckpoint WHERE tenant_id = %s AND seq > 4", [tid])
            _raw("DELETE FROM audit_app_auditrecord WHERE tenant_id = %s AND seq > 4", [tid])
            _raw(
                "UPDATE audit_app_auditchainhead SET last_seq = 4, last_hash = %s "
                "WHERE tenant_id = %s",
                [keep.hash, tid],
            )
    # From the database alone the rewrite is consistent (checkpoint rows deleted too) ...
    assert "intact" in _verify()
    # ... but not against a checkpoint kept outside it.
    out = _verify("contoso", "--checkpoint", str(kept))
    assert out.startswith("FAILED"), out
    assert "rolled back below checkpoint 6" in out


# --- 5. The server signs a rewritten chain when its last checkpoint hides in a pruned range ---


def test_checkpoint_job_never_signs_a_chain_that_does_not_extend_its_last_checkpoint(
    world,
    write_record,
):
    for n in range(4):
        write_record(world.contoso, at=T0 + timedelta(minutes=n), details={"n": n})
    _issue_checkpoints(T0 + timedelta(minutes=5))  # signs seq 4
    signed = AuditCheckpoint.objects.get(tenant=world.contoso)
    assert signed.seq == 4
    for n in range(4, 6):
        write_record(world.contoso, at=T0 + timedelta(minutes=n + 5), details={"n": n})
    tid = world.contoso.pk
    with superuser():
        # Rewrite record 2 (covered by the checkpoint) and re-hash the chain to the head ...
        _raw(
            "UPDATE audit_app_auditrecord SET details = %s WHERE tenant_id = %s AND seq = 2",
            [json.dumps({"n": "rewritten"}), tid],
        )
        _rehash_from(tid, 2)
        # ... then hide seq 4 inside an unsigned "pruned range" (records 3-5 deleted).
        last_hash = AuditRecord.objects.get(tenant_id=tid, seq=5).hash
        _raw(
            "DELETE FROM audit_app_auditrecord WHERE tenant_id = %s AND seq BETWEEN 3 AND 5", [tid]
        )
        AuditPrunedRange.objects.create(
            tenant=world.contoso, first_seq=3, last_seq=5, last_hash=last_hash, jws=""
        )
    head = AuditChainHead.objects.get(tenant=world.contoso)
    _issue_checkpoints(T0 + timedelta(minutes=30))
    new = AuditCheckpoint.objects.filter(tenant=world.contoso).exclude(pk=signed.pk)
    # observed: a new checkpoint over the rewritten head (seq 6, hash of the rewritten chain)
    assert not new.exists(), [(c.seq, c.hash == head.last_hash) for c in new]


# --- 6. Evidence bundles that prove nothing about their request still verify OK -------------


def test_evidence_bundle_without_request_id_accepts_another_requests_decisions(
    world, make_request, api, tmp_path
):
    approved = make_request(stage="approved")
    denied = make_request(stage="pending_customer")
    services.access_request_deny(actor=world.approver, access_request_id=denied.pk, comment="no")
    bundle = _evidence(api, world.admin, denied)
    approval = _evidence(api, world.admin, approved)["decisions"]
    # The denied request's bundle, passed off as approved: its request object loses its id
    # (nothing is signed in it) and carries the other request's genuine signed approval.
    bundle["request"] = {k: v for k, v in bundle["request"].items() if k != "id"}
    bundle["request"]["status"] = "approved"
    bundle["request"]["decisions"] = []
    bundle["decisions"] = approval
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(bundle))
    code, line = _lockbox_verify(path, "--keys", _keys(tmp_path))
    assert code == 1, line  # observed: 0, "OK: tenant contoso, records ..., 1 signed decision"


def test_evidence_bundle_stripped_of_its_records_and_decisions_does_not_verify(
    world, make_request, api, tmp_path
):
    access_request = make_request(stage="approved")
    services.access_request_revoke(actor=world.approver, access_request_id=access_request.pk)
    bundle = _evidence(api, world.admin, access_request)
    bundle["records"], bundle["decisions"], bundle["pruned"] = [], [], []
    bundle["request"]["decisions"] = []
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(bundle))
    code, line = _lockbox_verify(path, "--keys", _keys(tmp_path))
    assert code == 1, line  # observed: 0, "OK: ... request N, no records, 0 signed decisions"


# --- 7. Hostile inputs crash the verifier with a traceback ------------------------------------


def _cli(tmp_path, *argv):
    env = {**os.environ, "PYTHONPATH": VERIFIER_SRC}
    return subprocess.run(
        [sys.executable, "-m", "lockbox_verify", *map(str, argv)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def pure_keys(tmp_path):
    sys.path.insert(0, str(ROOT / "verifier" / "tests"))
    from chainmaker import Signer, Tenant, write_json, write_jsonl

    signer = Signer()
    tenant = Tenant(signer).grow(3)
    keys = write_json(tmp_path / "keys.json", signer.jwks())
    good = write_jsonl(tmp_path / "good.jsonl", tenant.header(), tenant.chain_lines())
    return keys, good, tenant


@pytest.mark.parametrize("where", ["export line", "first line", "checkpoint file", "keys file"])
def test_deeply_nested_json_fails_cleanly(tmp_path, pure_keys, where):
    keys, good, _ = pure_keys
    deep = "[" * 100_000 + "]" * 100_000
    header = good.read_text().splitlines()[0]
    nested = tmp_path / "nested.json"
    nested.write_text(deep + "\n")
    args = {
        "export line": (tmp_path / "x.jsonl", header + "\n" + deep + "\n", ["--keys", keys]),
        "first line": (tmp_path / "x.jsonl", deep + "\n", ["--keys", keys]),
        "checkpoint file": (good, None, ["--keys", keys, "--checkpoint", nested]),
        "keys file": (good, None, ["--keys", nested]),
    }[where]
    path, text, rest = args
    if text is not None:
        path.write_text(text)
    result = _cli(tmp_path, path, *rest)
    assert "Traceback" not in result.stderr, result.stderr[-400:]  # observed: RecursionError
    assert result.returncode == 2


def test_lone_surrogate_in_the_header_fails_cleanly(tmp_path, pure_keys):
    keys, good, _ = pure_keys
    lines = good.read_text().splitlines()
    header = json.loads(lines[0])
    header["tenant"] = "\ud800"
    path = tmp_path / "surrogate.jsonl"
    path.write_text(json.dumps(header) + "\n" + "\n".join(lines[1:]) + "\n")
    result = _cli(tmp_path, path, "--keys", keys)
    assert "Traceback" not in result.stderr, result.stderr[-400:]  # observed: UnicodeEncodeError
