"""verify_audit checks every signed decision in the chain (SPEC 11).

An intruder with the database can rewrite a record and re-hash the chain after it, so the chain
alone shows nothing; only our signature, which the intruder cannot make, gives the forgery away.
"""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from joserfc import jws
from joserfc.jwk import OKPKey

from audit_app import signing
from audit_app.chain import GENESIS, HASHED_FIELDS, record_hash
from audit_app.integrity import verify_tenant
from audit_app.models import AuditRecord
from requests_app import services


def _raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _rewrite(record: AuditRecord, details: dict) -> None:
    """Change a record's details as a database superuser would, and re-hash the chain after it
    (and the chain head), so that every hash and link checks out again."""
    if connection.vendor == "postgresql":
        _raw("SET LOCAL session_replication_role = replica")  # triggers off, as a superuser can
    else:
        _raw("DROP TRIGGER IF EXISTS audit_record_no_update")  # rolled back with the test
    _raw(
        "UPDATE audit_app_auditrecord SET details = %s WHERE id = %s",
        [json.dumps(details), record.pk],
    )
    previous = (
        AuditRecord.objects.filter(tenant_id=record.tenant_id, seq=record.seq - 1)
        .values_list("hash", flat=True)
        .first()
        or GENESIS
    )
    rows = (
        AuditRecord.objects.filter(tenant_id=record.tenant_id, seq__gte=record.seq)
        .order_by("seq")
        .values("id", *HASHED_FIELDS)
    )
    for row in rows:
        digest = record_hash(previous, record.tenant_id, row)
        _raw(
            "UPDATE audit_app_auditrecord SET prev_hash = %s, hash = %s WHERE id = %s",
            [previous, digest, row["id"]],
        )
        previous = digest
    _raw(
        "UPDATE audit_app_auditchainhead SET last_hash = %s WHERE tenant_id = %s",
        [previous, record.tenant_id],
    )


@pytest.fixture
def decided(world, make_request):
    """A contoso request approved then revoked, and one denied: three signed decisions."""
    approved = make_request(stage="approved")
    services.access_request_revoke(actor=world.approver, access_request_id=approved.pk)
    denied = make_request(stage="pending_customer")
    services.access_request_deny(
        actor=world.approver, access_request_id=denied.pk, comment="not today"
    )
    make_request(world.fabrikam, stage="approved")  # Lockbox off there: approved automatically

    def record(operation, access_request=None):
        records = AuditRecord.objects.filter(operation=operation)
        if access_request is not None:
            records = records.filter(request_id=access_request.pk)
        return records.get()

    return record, approved, denied


def _verify_contoso(capsys):
    with pytest.raises(CommandError, match="altered"):
        call_command("verify_audit", "--tenant", "contoso")
    return capsys.readouterr().out


def test_intact_signed_decisions_verify(world, decided, capsys):
    record, _, _ = decided
    assert set(record("RequestDenied").details) >= {"statement", "jws"}
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "contoso: intact" in out and "fabrikam: intact" in out


def test_a_decision_re_signed_with_another_key_is_a_break(world, decided, capsys):
    record, _, _ = decided
    denied = record("RequestDenied")
    foreign = OKPKey.generate_key("Ed25519")
    # The forger copies our kid into the header, so only the signature itself can tell.
    forged = jws.serialize_compact(
        {"alg": "EdDSA", "kid": signing.key_id(), "typ": "JWT"},
        signing.canonical(denied.details["statement"]),
        foreign,
        algorithms=["EdDSA"],
    )
    _rewrite(denied, {**denied.details, "jws": forged})
    out = _verify_contoso(capsys)
    assert f"BROKEN at seq {denied.seq} (record {denied.pk}): decision signature invalid" in out


def test_a_statement_edited_after_signing_is_a_break(world, decided, capsys):
    record, approved, _ = decided
    approval = record("RequestApproved", approved)
    statement = approval.details["statement"]
    longer = {
        **statement,
        "window": {**statement["window"], "ends_at": "2099-01-01T00:00:00+00:00"},
    }
    _rewrite(approval, {**approval.details, "statement": longer})
    out = _verify_contoso(capsys)
    assert f"BROKEN at seq {approval.seq} (record {approval.pk}): decision signature invalid" in out


def test_another_decisions_genuine_signature_is_a_break(world, decided, capsys):
    record, approved, _ = decided
    denied, approval = record("RequestDenied"), record("RequestApproved", approved)
    # A real signature of ours, but over the approval: it does not sign this denial.
    _rewrite(denied, {**denied.details, "jws": approval.details["jws"]})
    out = _verify_contoso(capsys)
    assert f"BROKEN at seq {denied.seq} (record {denied.pk}): decision signature invalid" in out


def test_a_signed_decision_moved_in_from_another_tenant_is_a_break(world, decided):
    record, _, _ = decided
    denied = record("RequestDenied")
    fabrikam_approval = AuditRecord.objects.get(
        tenant=world.fabrikam, operation="RequestAutoApproved"
    )
    # Statement and JWS both genuine, and matching each other, but about fabrikam's request.
    moved = {
        **denied.details,
        "statement": fabrikam_approval.details["statement"],
        "jws": fabrikam_approval.details["jws"],
    }
    _rewrite(denied, moved)
    checked, problem = verify_tenant(world.contoso)
    assert (problem.seq, problem.record_id) == (denied.seq, denied.pk)
    assert problem.problem == "decision statement names another tenant or request"
    assert checked == denied.seq - 1
