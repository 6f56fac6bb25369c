"""A log that cannot be quietly changed: append-only trigger, hash chain and verify_audit."""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit_app.integrity import verify_tenant
from audit_app.models import AuditPrunedRange, AuditRecord
from audit_app.retention import audit_records_prune


def _raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _disable_guard():
    """What an attacker with database access would do first."""
    if connection.vendor == "postgresql":
        _raw("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses pending deferred FK checks
        _raw("ALTER TABLE audit_app_auditrecord DISABLE TRIGGER audit_record_append_only")
    else:
        _raw("DROP TRIGGER audit_record_no_update")


def test_a_raw_update_is_refused_by_the_database(world, write_record):
    record = write_record(world.contoso)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _raw("UPDATE audit_app_auditrecord SET actor = 'someone else' WHERE id = %s", [record.pk])
    assert AuditRecord.objects.get(pk=record.pk).actor == "System"


def test_a_raw_delete_outside_retention_is_refused_or_detected(world, write_record):
    records = [write_record(world.contoso) for _ in range(2)]
    delete = "DELETE FROM audit_app_auditrecord WHERE id = %s"
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _raw(delete, [records[0].pk])
        assert AuditRecord.objects.count() == 2
    else:
        # SQLite has no session flag to tell retention from an intruder; the chain tells.
        _raw(delete, [records[0].pk])
        assert verify_tenant(world.contoso)[1].problem == "records missing"


@pytest.mark.parametrize(
    "table",
    [
        "audit_app_auditrecord",
        "audit_app_auditprunedrange",
        "audit_app_auditchainhead",
        "tenants_app_tenant",  # CASCADE would reach the audit tables
    ],
)
def test_truncate_of_the_audit_tables_is_refused_on_postgresql(world, write_record, days, table):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; there the hash chain detects a wiped log")
    import time_machine

    from audit_app.policies import retention_policy_create

    retention_policy_create(
        actor=world.admin,
        data={"name": "short", "priority": 1, "duration": "P90D", "operations": ["OperatorAction"]},
    )
    write_record(world.contoso, at=days(0))
    write_record(world.contoso, at=days(1), operation="RequestCreated")
    with time_machine.travel(days(100), tick=False):
        audit_records_prune()  # leaves a pruned range behind
    counts = (AuditRecord.objects.count(), AuditPrunedRange.objects.count())
    assert counts == (3, 1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        # The test settings turn this flag on so that Django's flush may TRUNCATE between
        # transactional tests; production never sets it.
        _raw("SET LOCAL lockbox.allow_truncate = 'off'")
        _raw("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses pending deferred FK checks
        _raw(f"TRUNCATE {table} CASCADE")
    assert (AuditRecord.objects.count(), AuditPrunedRange.objects.count()) == counts
    assert verify_tenant(world.contoso)[1] is None


def test_verify_audit_says_intact(world, write_record, capsys):
    for n in range(3):
        write_record(world.contoso, details={"n": n})
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "contoso: intact (3 records)" in out and "The audit log is intact." in out


def test_verify_audit_finds_a_record_altered_by_raw_sql(world, write_record, capsys):
    records = [write_record(world.contoso, details={"n": n}) for n in range(4)]
    _disable_guard()
    _raw(
        "UPDATE audit_app_auditrecord SET details = %s WHERE id = %s", ['{"n": 99}', records[2].pk]
    )
    with pytest.raises(CommandError, match="altered"):
        call_command("verify_audit", "--tenant", "contoso")
    out = capsys.readouterr().out
    assert f"BROKEN at seq 3 (record {records[2].pk}): content altered" in out


def test_verify_audit_finds_a_deleted_record(world, write_record):
    records = [write_record(world.contoso) for _ in range(3)]
    if connection.vendor == "postgresql":
        _disable_guard()
    _raw("DELETE FROM audit_app_auditrecord WHERE id = %s", [records[1].pk])
    checked, problem = verify_tenant(world.contoso)
    assert (checked, problem.seq, problem.problem) == (1, 2, "records missing")


def test_verification_survives_retention_gaps(world, write_record, days):
    from audit_app.policies import retention_policy_create

    retention_policy_create(
        actor=world.admin,
        data={"name": "short", "priority": 1, "duration": "P90D", "operations": ["OperatorAction"]},
    )
    write_record(world.contoso, at=days(0), operation="RequestCreated")
    write_record(world.contoso, at=days(0))
    write_record(world.contoso, at=days(1), operation="RequestCreated")
    write_record(world.contoso, at=days(1))
    import time_machine

    with time_machine.travel(days(100), tick=False):
        assert audit_records_prune()["contoso"] == 2  # two gaps in the middle of the chain
    checked, problem = verify_tenant(world.contoso)
    assert problem is None and checked == 4  # policy record, two kept, RetentionApplied


def test_unknown_tenant_is_an_error(world):
    with pytest.raises(CommandError, match="No tenant"):
        call_command("verify_audit", "--tenant", "nope")


def _append_with(monkeypatch, one_statement, in_database=False):
    """audit_record with the chain append in PostgreSQL's lockbox_audit_append, or in Python
    with one statement (PostgreSQL's WITH) or two."""
    from functools import partial

    from audit_app import services

    monkeypatch.setattr(services, "APPEND_IN_DATABASE", in_database)
    original = getattr(services._insert_and_advance, "func", services._insert_and_advance)
    monkeypatch.setattr(
        services, "_insert_and_advance", partial(original, one_statement=one_statement)
    )


def test_both_forms_of_the_append_write_the_same_bytes_and_one_chain(
    world, write_record, days, monkeypatch
):
    """Issue 17: PostgreSQL appends in one statement, SQLite in two; the same record written
    either way stores byte-identical values and hash, and a chain written by both verifies."""
    if connection.vendor != "postgresql":
        pytest.skip("The one-statement append is PostgreSQL's (SQLite has no UPDATE in WITH)")
    columns = "seq, created_at, details::text, prev_hash, hash, actor, object_id, request_id"
    stored = []
    for one_statement in (True, False):
        _append_with(monkeypatch, one_statement)
        with transaction.atomic():
            record = write_record(
                world.contoso,
                at=days(1),
                actor=world.engineer,
                object_id="7",
                details={"request_id": 41, "action": "view", "note": "é ✓"},
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {columns} FROM audit_app_auditrecord WHERE id = %s", [record.pk]
                )
                stored.append(cursor.fetchone())
            transaction.set_rollback(True)  # the second form writes the same position again
    assert stored[0] == stored[1]
    for n, one_statement in enumerate((True, False, True, False)):
        _append_with(monkeypatch, one_statement)
        write_record(world.contoso, at=days(2 + n), details={"n": n})
    assert AuditRecord.objects.filter(tenant=world.contoso, details__has_key="n").count() == 4
    assert verify_tenant(world.contoso)[1] is None
    call_command("verify_audit", stdout=open("/dev/null", "w"))


FORMS = [  # (one_statement, in_database)
    (True, True),
    (True, False),
    (False, False),
]


def test_the_databases_append_writes_the_pythons_bytes_for_any_text(
    world, write_record, days, monkeypatch
):
    """Issue 17: PostgreSQL's lockbox_audit_append computes the hash in the database; for text
    of every kind it stores what the Python forms store, and a chain of all forms verifies."""
    if connection.vendor != "postgresql":
        pytest.skip("lockbox_audit_append is PostgreSQL's")
    columns = "seq, created_at, details::text, prev_hash, hash, actor, object_id, request_id"
    texts = ['say "hi"', "back\\slash", "new\nline\t\x01\x7f", "Café 北京 😀 𝄞", "\u2028"]
    for text in texts:
        stored = []
        for one_statement, in_database in FORMS:
            _append_with(monkeypatch, one_statement, in_database)
            with transaction.atomic():
                record = write_record(
                    world.contoso,
                    at=days(1),
                    actor=world.engineer,
                    object_id=text,
                    details={"request_id": 41, "note": text, "n": [1.5, None, True]},
                )
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT {columns} FROM audit_app_auditrecord WHERE id = %s", [record.pk]
                    )
                    stored.append(cursor.fetchone())
                transaction.set_rollback(True)  # each form writes the same position again
        assert stored[0] == stored[1] == stored[2], text
    for n, (one_statement, in_database) in enumerate(FORMS * 2):
        _append_with(monkeypatch, one_statement, in_database)
        write_record(world.contoso, at=days(2 + n), details={"n": n})
    assert verify_tenant(world.contoso)[1] is None
    call_command("verify_audit", stdout=open("/dev/null", "w"))


def test_the_databases_append_leaves_a_marker_in_the_text_to_python(world, write_record, days):
    """The payload is cut where the sequence number's marker is; a record whose own text holds
    the marker is appended by the Python path, and the chain verifies."""
    if connection.vendor != "postgresql":
        pytest.skip("lockbox_audit_append is PostgreSQL's")
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        write_record(world.contoso, at=days(1), details={"note": "-7340000201"})
        write_record(world.contoso, at=days(1), details={"note": "plain"})
    appends = ["lockbox_audit_append" in q["sql"] for q in captured.captured_queries]
    assert appends.count(True) == 1
    assert verify_tenant(world.contoso)[1] is None
