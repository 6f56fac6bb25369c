"""Access sessions: every action checked against the window at the moment it happens."""

from datetime import timedelta

import pytest
import time_machine

from audit_app.models import AuditRecord
from lockbox_site.errors import InvalidInput, NotAllowed, NotFound
from requests_app import services


def _operator_records(**filters):
    return AuditRecord.objects.filter(operation="OperatorAction", **filters).order_by("seq")


@pytest.mark.parametrize("action", ["view", "diagnostics", "restart"])
def test_the_engineer_acts_under_a_grant_and_it_is_audited(world, make_request, action):
    access_request = make_request(stage="approved")
    pc = world.contoso_pcs[0]
    cloud_pc, grant = services.cloud_pc_operate(
        actor=world.engineer, cloud_pc_id=pc.pk, action=action, client_ip="10.1.2.3"
    )
    assert grant == access_request
    record = _operator_records().get()
    assert (record.object_type, record.object_id) == ("CloudPC", str(pc.pk))
    assert record.details["request_id"] == access_request.pk
    assert record.details["action"] == action
    assert (record.result, record.client_ip, record.tenant) == (
        "success",
        "10.1.2.3",
        world.contoso,
    )
    if action == "restart":
        assert cloud_pc.last_restarted_at is not None


def test_access_ends_at_the_first_instant_after_the_window_without_any_sweep(world, make_request):
    access_request = make_request(stage="approved", duration=15)
    pc = world.contoso_pcs[0]
    end = access_request.window_ends_at
    with time_machine.travel(end - timedelta(microseconds=1), tick=False):
        services.cloud_pc_operate(actor=world.engineer, cloud_pc_id=pc.pk, action="view")
    with time_machine.travel(end, tick=False):
        with pytest.raises(NotAllowed):
            services.cloud_pc_operate(actor=world.engineer, cloud_pc_id=pc.pk, action="view")
    with time_machine.travel(end + timedelta(seconds=1), tick=False):
        with pytest.raises(NotAllowed):
            services.cloud_pc_operate(actor=world.engineer, cloud_pc_id=pc.pk, action="restart")
    access_request.refresh_from_db()
    assert access_request.status == "approved"  # the sweep never ran; enforcement did not wait
    assert list(_operator_records().values_list("result", flat=True)) == [
        "success",
        "failure",
        "failure",
    ]


def test_a_pc_outside_the_grant_is_refused_and_audited(world, make_request):
    make_request(stage="approved", pcs=[world.contoso_pcs[0]])
    other = world.contoso_pcs[1]
    with pytest.raises(NotAllowed):
        services.cloud_pc_operate(actor=world.engineer, cloud_pc_id=other.pk, action="restart")
    record = _operator_records().get()
    assert (record.result, record.object_id, record.details["action"]) == (
        "failure",
        str(other.pk),
        "restart",
    )
    other.refresh_from_db()
    assert other.last_restarted_at is None


def test_only_the_requesting_engineer_uses_the_grant(world, make_request, django_user_model):
    from django.contrib.auth.models import Group

    make_request(stage="approved")
    colleague = django_user_model.objects.create_user(
        "other@provider.example", tenant=world.provider
    )
    colleague.groups.add(Group.objects.get_or_create(name="Support Engineer")[0])
    with pytest.raises(NotAllowed):
        services.cloud_pc_operate(
            actor=colleague, cloud_pc_id=world.contoso_pcs[0].pk, action="view"
        )


def test_revocation_ends_access_at_once(world, make_request):
    access_request = make_request(stage="approved")
    services.access_request_revoke(actor=world.approver, access_request_id=access_request.pk)
    with pytest.raises(NotAllowed):
        services.cloud_pc_operate(
            actor=world.engineer, cloud_pc_id=world.contoso_pcs[0].pk, action="view"
        )


def test_unknown_pc_and_unknown_action(world, make_request):
    make_request(stage="approved")
    with pytest.raises(NotFound):
        services.cloud_pc_operate(actor=world.engineer, cloud_pc_id=999999, action="view")
    with pytest.raises(InvalidInput):
        services.cloud_pc_operate(
            actor=world.engineer, cloud_pc_id=world.contoso_pcs[0].pk, action="format-disk"
        )
    with pytest.raises(NotAllowed):
        services.cloud_pc_operate(
            actor=world.admin, cloud_pc_id=world.contoso_pcs[0].pk, action="view"
        )


def test_the_action_uses_the_grant_open_at_defines(world, make_request):
    """cloud_pc_operate reads the grant in plain SQL (issue 17); it picks the grant the ORM's
    AccessRequest.objects.open_at picks, at every moment: before, inside and at the end of
    overlapping windows, never a revoked grant nor another engineer's."""
    from requests_app.models import AccessRequest
    from tenants_app.models import User

    other = User.objects.create(username="other@provider.example", tenant=world.provider)
    other.groups.set(world.engineer.groups.all())
    pc = world.contoso_pcs[0]
    short = make_request(stage="approved", duration=15, pcs=[pc])
    long = make_request(stage="approved", duration=60, pcs=[pc])
    revoked = make_request(stage="approved", duration=120, pcs=[pc])
    services.access_request_revoke(actor=world.approver, access_request_id=revoked.pk)
    make_request(stage="approved", duration=240, pcs=[pc], engineer=other)
    long.refresh_from_db()
    moments = [
        short.window_starts_at - timedelta(seconds=1),
        short.window_starts_at,
        short.window_ends_at - timedelta(microseconds=1),
        short.window_ends_at,
        long.window_ends_at - timedelta(microseconds=1),
        long.window_ends_at,
    ]
    picked = []
    for moment in moments:
        expected = (
            AccessRequest.objects.open_at(moment)
            .filter(requester=world.engineer, cloud_pcs=pc)
            .order_by("-window_ends_at")
            .first()
        )
        with time_machine.travel(moment, tick=False):
            try:
                _, grant = services.cloud_pc_operate(
                    actor=world.engineer, cloud_pc_id=pc.pk, action="view"
                )
            except NotAllowed:
                grant = None
        assert grant == expected
        picked.append(grant.pk if grant else None)
    assert picked == [None, short.pk, long.pk, long.pk, long.pk, None]


def test_an_action_locks_its_grant_and_the_chain_head_in_one_statement(
    world, make_request, monkeypatch
):
    """Issue 17: under a grant, a view or diagnostics action on the Python path (SQLite's; on
    PostgreSQL, a restart's and a fallback's) sends one locking read (the grant, its Cloud PC
    and the tenant's chain head) and one append; the chain stays whole."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from audit_app.integrity import verify_tenant
    from requests_app.services import operate_in_database

    monkeypatch.setattr(operate_in_database, "available", lambda: False)
    make_request(stage="approved")
    pc = world.contoso_pcs[0]
    with CaptureQueriesContext(connection) as captured:
        services.cloud_pc_operate(actor=world.engineer, cloud_pc_id=pc.pk, action="view")
        services.cloud_pc_operate(actor=world.engineer, cloud_pc_id=pc.pk, action="diagnostics")
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 2, reads
    assert all("audit_app_auditchainhead" in sql for sql in reads)
    if connection.features.has_select_for_update_of:
        assert all(sql.endswith("FOR UPDATE OF ar, head") for sql in reads)
    assert [r.details["action"] for r in _operator_records()] == ["view", "diagnostics"]
    assert verify_tenant(world.contoso)[1] is None
