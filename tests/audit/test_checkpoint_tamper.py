"""What someone with the database could do, and what `verify_audit` now finds (SPEC 11).

Each attack is made as a database superuser would make it - on PostgreSQL with
`session_replication_role = replica`, which turns every trigger off; on SQLite by dropping the
guard triggers - after a checkpoint was signed. Before checkpoints, `verify_audit` called each
of these logs "intact".
"""

import io
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from joserfc import jws
from joserfc.jwk import OKPKey

from audit_app import signing, tasks
from audit_app.chain import GENESIS
from audit_app.models import AuditChainHead, AuditCheckpoint, AuditPrunedRange
from tests.audit.conftest import T0


def _raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@contextmanager
def superuser():
    if connection.vendor == "postgresql":
        _raw("SET session_replication_role = replica")
        try:
            yield
        finally:
            _raw("SET session_replication_role = origin")
    else:
        for trigger in (
            "audit_record_no_update",
            "audit_pruned_no_update",
            "audit_checkpoint_no_update",
        ):
            _raw(f"DROP TRIGGER IF EXISTS {trigger}")
        yield


def _verify(tenant="contoso", *args) -> str:
    out = io.StringIO()
    try:
        call_command("verify_audit", "--tenant", tenant, *args, stdout=out)
    except CommandError:
        return "FAILED\n" + out.getvalue()
    return out.getvalue()


@pytest.fixture
def signed_log(world, write_record):
    """Six records of Contoso, then a checkpoint signed by the beat job; returns the records."""
    records = [
        write_record(world.contoso, at=T0 + timedelta(minutes=n), details={"n": n})
        for n in range(6)
    ]
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        tasks.issue_checkpoints.apply().get()
    return records


def _head(tenant):
    return AuditChainHead.objects.get(tenant=tenant)


def test_an_untouched_log_with_checkpoints_is_intact(world, signed_log, write_record):
    write_record(world.contoso, at=T0 + timedelta(minutes=20))
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        tasks.issue_checkpoints.apply().get()
    out = _verify()
    assert not out.startswith("FAILED"), out
    records = _head(world.contoso).last_seq
    assert f"contoso: intact ({records} records; 2 checkpoints verified)" in out


def test_newest_records_deleted_and_head_rolled_back(world, signed_log):
    checkpoint = AuditCheckpoint.objects.get(tenant=world.contoso)
    keep = signed_log[2]
    with superuser():
        _raw(
            "DELETE FROM audit_app_auditrecord WHERE tenant_id = %s AND seq > %s",
            [world.contoso.pk, keep.seq],
        )
        _raw(
            "UPDATE audit_app_auditchainhead SET last_seq = %s, last_hash = %s WHERE tenant_id = %s",
            [keep.seq, keep.hash, world.contoso.pk],
        )
    out = _verify()
    assert out.startswith("FAILED"), out
    assert (
        f"contoso: BROKEN at seq {keep.seq + 1}: chain head rolled back below checkpoint "
        f"{checkpoint.seq}" in out
    )


def test_a_rolled_back_chain_is_never_signed_again(world, signed_log, write_record):
    """Appends after the rollback carry the head past the checkpoint with other content: the
    job refuses to sign a chain that does not extend its own last checkpoint."""
    keep = signed_log[2]
    with superuser():
        _raw(
            "DELETE FROM audit_app_auditrecord WHERE tenant_id = %s AND seq > %s",
            [world.contoso.pk, keep.seq],
        )
        _raw(
            "UPDATE audit_app_auditchainhead SET last_seq = %s, last_hash = %s WHERE tenant_id = %s",
            [keep.seq, keep.hash, world.contoso.pk],
        )
    for n in range(5):
        write_record(world.contoso, at=T0 + timedelta(minutes=20 + n), details={"new": n})
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        tasks.issue_checkpoints.apply().get()
    assert AuditCheckpoint.objects.filter(tenant=world.contoso).count() == 1
    assert "does not match the chain" in _verify()


def test_the_table_emptied_and_the_head_reset(world, signed_log):
    checkpoint = AuditCheckpoint.objects.get(tenant=world.contoso)
    with superuser():
        _raw("DELETE FROM audit_app_auditrecord WHERE tenant_id = %s", [world.contoso.pk])
        _raw(
            "UPDATE audit_app_auditchainhead SET last_seq = 0, last_hash = %s WHERE tenant_id = %s",
            [GENESIS, world.contoso.pk],
        )
    out = _verify()
    assert out.startswith("FAILED"), out
    assert (
        f"contoso: BROKEN at seq 1: chain head rolled back below checkpoint {checkpoint.seq}" in out
    )


def _foreign_signature(payload: dict) -> str:
    key = OKPKey.generate_key("Ed25519")
    header = {"alg": "EdDSA", "kid": key.thumbprint(), "typ": "JWT"}
    return jws.serialize_compact(header, signing.canonical(payload), key, algorithms=["EdDSA"])


@pytest.mark.parametrize("signature", ["unsigned", "another key"])
def test_a_forged_pruned_range(world, signed_log, signature):
    """Records 2-3 deleted and a pruned range put in their place, so the chain still links."""
    first, last = signed_log[1], signed_log[2]
    now = T0 + timedelta(minutes=15)
    statement = {
        "type": "lockbox.pruned/v1",
        "tenant": "contoso",
        "tenant_id": world.contoso.pk,
        "first_seq": first.seq,
        "last_seq": last.seq,
        "last_hash": last.hash,
        "pruned_at": now.isoformat(),
    }
    token = "" if signature == "unsigned" else _foreign_signature(statement)
    with superuser():
        _raw(
            "DELETE FROM audit_app_auditrecord WHERE tenant_id = %s AND seq BETWEEN %s AND %s",
            [world.contoso.pk, first.seq, last.seq],
        )
        with time_machine.travel(now, tick=False):
            AuditPrunedRange.objects.create(
                tenant=world.contoso,
                first_seq=first.seq,
                last_seq=last.seq,
                last_hash=last.hash,
                jws=token,
            )
    out = _verify()
    assert out.startswith("FAILED"), out
    if signature == "unsigned":
        assert (
            f"BROKEN at seq {first.seq}: pruned range {first.seq}-{last.seq} is not signed" in out
        )
    else:
        assert (
            f"BROKEN at seq {first.seq}: pruned range {first.seq}-{last.seq}: signature invalid"
            in out
        )


def test_a_range_pruned_before_ranges_were_signed_is_a_warning_only_when_allowed(
    world, write_record
):
    records = [write_record(world.contoso, at=T0 + timedelta(minutes=n)) for n in range(4)]
    with superuser():  # what retention did before it signed its ranges
        _raw("DELETE FROM audit_app_auditrecord WHERE id = %s", [records[1].pk])
        with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
            AuditPrunedRange.objects.create(
                tenant=world.contoso,
                first_seq=records[1].seq,
                last_seq=records[1].seq,
                last_hash=records[1].hash,
            )
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        tasks.issue_checkpoints.apply().get()
    seq = records[1].seq
    # Nothing in the database tells an old unsigned range from a forged one: a break, unless
    # the operator says the log holds ranges from before signing.
    assert _verify().startswith(f"FAILED\ncontoso: BROKEN at seq {seq}: pruned range")
    out = _verify("contoso", "--allow-unsigned-ranges")
    assert not out.startswith("FAILED"), out
    assert (
        f"contoso: warning: pruned range {seq}-{seq} is not signed (accepted: "
        "--allow-unsigned-ranges)" in out
    )


@pytest.mark.parametrize(
    ("column", "problem"),
    [
        ("hash", "does not match its signature"),
        ("seq", "does not match its signature"),
        ("previous", "does not match its signature"),
    ],
)
def test_a_checkpoint_row_altered(world, signed_log, column, problem):
    checkpoint = AuditCheckpoint.objects.get(tenant=world.contoso)
    value = {"hash": signed_log[3].hash, "seq": signed_log[3].seq, "previous": "ab" * 32}[column]
    with superuser():
        _raw(
            f"UPDATE audit_app_auditcheckpoint SET {column} = %s WHERE id = %s",
            [value, checkpoint.pk],
        )
    out = _verify()
    assert out.startswith("FAILED"), out
    assert problem in out


def test_a_checkpoint_removed_from_the_middle_breaks_their_chain(world, signed_log, write_record):
    for n in range(2):
        write_record(world.contoso, at=T0 + timedelta(minutes=20 + n))
        with time_machine.travel(T0 + timedelta(minutes=25 + n), tick=False):
            tasks.issue_checkpoints.apply().get()
    middle = AuditCheckpoint.objects.filter(tenant=world.contoso).order_by("id")[1]
    with superuser():
        _raw("DELETE FROM audit_app_auditcheckpoint WHERE id = %s", [middle.pk])
    out = _verify()
    assert out.startswith("FAILED"), out
    assert "previous checkpoint is missing" in out


def test_the_database_refuses_to_change_a_checkpoint(world, signed_log):
    checkpoint = AuditCheckpoint.objects.get(tenant=world.contoso)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _raw("UPDATE audit_app_auditcheckpoint SET hash = 'x' WHERE id = %s", [checkpoint.pk])
    if connection.vendor != "postgresql":
        return  # SQLite's guard covers UPDATE only (no session flags); the signature tells
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _raw("DELETE FROM audit_app_auditcheckpoint WHERE id = %s", [checkpoint.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _raw("SET LOCAL lockbox.audit_retention = 'on'")  # retention never deletes checkpoints
        _raw("DELETE FROM audit_app_auditcheckpoint WHERE id = %s", [checkpoint.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _raw("SET LOCAL lockbox.allow_truncate = 'off'")
        _raw("SET CONSTRAINTS ALL IMMEDIATE")
        _raw("TRUNCATE audit_app_auditcheckpoint")
    assert AuditCheckpoint.objects.get(pk=checkpoint.pk).hash == checkpoint.hash
