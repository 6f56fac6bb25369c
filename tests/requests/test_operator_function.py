"""Issue 17: on PostgreSQL a view or diagnostics action is one statement, lockbox_operator_action
(migration 0011), which computes the record's hash in the database. It must write the hashes the
Python path (audit_app.chain) writes, byte for byte, and verify_audit must accept a chain
written by both."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit_app.chain import record_hash
from audit_app.integrity import verify_tenant
from audit_app.models import AuditRecord
from requests_app import services
from requests_app.services import operate_in_database

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the one-statement action is PostgreSQL's"
)

# Every kind of character Python's json.dumps escapes differently: quotes, backslashes, the
# short escapes, other control characters, DEL, non-ASCII inside and beyond the BMP.
NAMES = [
    "CPC-contoso-01",
    'say "hi"',
    "back\\slash",
    "new\nline\r\ttab\b\f",
    "\x01\x1f\x7f",
    "Café Zürich",
    "北京 PC",
    "emoji 😀 and 𝄞",
    "\u2028\u2029",
    'all "é\\😀\n" of it',
    # Around the fast path for printable ASCII (migration 0012): its edges, and one character
    # that leaves it.
    " !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~",
    "plain but DEL \x7f",
    "plain but a tab\t",
    "",
]


def _records():
    return AuditRecord.objects.filter(operation="OperatorAction").order_by("seq")


@pytest.mark.parametrize("name", NAMES)
def test_the_json_string_of_the_database_is_pythons(world, name):
    with connection.cursor() as cursor:
        cursor.execute("SELECT lockbox_json_string(%s)", [name])
        assert cursor.fetchone()[0] == json.dumps(name)


def test_both_paths_write_the_same_chain_for_any_cloud_pc_name(world, make_request, monkeypatch):
    make_request(stage="approved")
    pc = world.contoso_pcs[0]
    written = []
    for name in NAMES:
        pc.name = name
        pc.save(update_fields=["name"])
        for in_database in (True, False):
            monkeypatch.setattr(operate_in_database, "available", lambda v=in_database: v)
            services.cloud_pc_operate(
                actor=world.engineer, cloud_pc_id=pc.pk, action="view", client_ip="10.0.0.7"
            )
            written.append(_records().last())
    assert verify_tenant(world.contoso)[1] is None
    by_database, by_python = written[0::2], written[1::2]
    for ours, theirs in zip(by_database, by_python, strict=True):
        # The same record but for its place in the chain and its moment.
        same = ("actor", "actor_type", "object_type", "object_id", "result", "client_ip")
        assert [getattr(ours, f) for f in same] == [getattr(theirs, f) for f in same]
        assert (ours.details, ours.request_id) == (theirs.details, theirs.request_id)
        assert ours.seq + 1 == theirs.seq and theirs.prev_hash == ours.hash
    for record in by_database:  # the database's hash is the chain rule's, recomputed here
        values = {f.attname: getattr(record, f.attname) for f in AuditRecord._meta.fields}
        assert record.hash == record_hash(record.prev_hash, record.tenant_id, values)


def test_an_action_is_one_statement_without_begin_or_commit(world, make_request):
    make_request(stage="approved")
    pc = world.contoso_pcs[0]
    with CaptureQueriesContext(connection) as captured:
        services.cloud_pc_operate(actor=world.engineer, cloud_pc_id=pc.pk, action="diagnostics")
    sent = [q["sql"] for q in captured.captured_queries]
    assert len(sent) == 1 and "lockbox_operator_action(" in sent[0], sent
    assert _records().get().details["action"] == "diagnostics"


def test_a_marker_in_the_actors_own_text_takes_the_python_path(
    world, make_request, django_user_model
):
    """The payload is cut at the markers' text; a username holding one must not be cut."""
    make_request(stage="approved")
    world.engineer.username = "x-7340000101@provider.example"
    world.engineer.save(update_fields=["username"])
    pc = world.contoso_pcs[0]
    with CaptureQueriesContext(connection) as captured:
        services.cloud_pc_operate(actor=world.engineer, cloud_pc_id=pc.pk, action="view")
    assert not any("lockbox_operator_action" in q["sql"] for q in captured.captured_queries)
    assert _records().get().actor == "x-7340000101@provider.example"
    assert verify_tenant(world.contoso)[1] is None


def test_without_a_grant_nothing_is_written_but_the_refusal(world, make_request):
    pc = world.contoso_pcs[0]
    with pytest.raises(Exception) as refused:
        services.cloud_pc_operate(actor=world.engineer, cloud_pc_id=pc.pk, action="view")
    assert refused.value.status_code == 403
    assert list(_records().values_list("result", flat=True)) == ["failure"]
    assert verify_tenant(world.contoso)[1] is None
