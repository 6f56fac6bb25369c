"""SPEC 10 scheduled access and extensions: a window that opens later, refused actions before it
say when; an extension starts where the current window ends, and revoking cascades."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit_app.models import AuditRecord
from requests_app.models import AccessRequest


def _approved(world, reaching_customer, act, tenant="contoso", **fields):
    pending = reaching_customer(tenant, **fields)
    return act(world.approver, pending["id"], "approve")


@pytest.mark.parametrize(
    "starts_at",
    [
        lambda now: (now - timedelta(hours=1)).isoformat(),
        lambda now: (now + timedelta(days=7, minutes=1)).isoformat(),
        lambda now: "tomorrow",
    ],
)
def test_a_start_in_the_past_or_beyond_seven_days_is_a_400(world, create, starts_at):
    error = create(expect=400, starts_at=starts_at(timezone.now()))
    assert "starts_at" in error
    assert not AccessRequest.objects.exists()


def test_a_scheduled_window_opens_at_its_start_and_not_before(world, reaching_customer, act, api):
    start = timezone.now().replace(microsecond=0)
    opens = start + timedelta(days=2)
    with time_machine.travel(start, tick=False):
        approved = _approved(
            world, reaching_customer, act, starts_at=opens.isoformat(), duration_minutes=60
        )
    assert parse_datetime(approved["window_starts_at"]) == opens
    assert parse_datetime(approved["window_ends_at"]) == opens + timedelta(minutes=60)
    pc = world.contoso_pcs[0].pk
    engineer = api(world.engineer)
    with time_machine.travel(opens - timedelta(seconds=1), tick=False):
        early = engineer.post(f"/api/v1/cloud-pcs/{pc}/restart/")
        assert early.status_code == 403
        assert opens.strftime("%Y-%m-%d %H:%M") in early.json()["detail"]
        assert (
            "operate"
            not in engineer.get(f"/api/v1/requests/{approved['id']}/").json()["allowed_actions"]
        )
    refused = AuditRecord.objects.filter(operation="OperatorAction", result="failure").get()
    assert refused.details["reason"] == f"The approved window opens at {opens.isoformat()}"
    with time_machine.travel(opens, tick=False):
        assert engineer.post(f"/api/v1/cloud-pcs/{pc}/restart/").status_code == 200
    with time_machine.travel(opens + timedelta(minutes=60), tick=False):
        assert engineer.post(f"/api/v1/cloud-pcs/{pc}/restart/").status_code == 403


def test_an_approval_after_the_start_opens_the_window_at_the_approval(
    world, reaching_customer, act
):
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        pending = reaching_customer(starts_at=(start + timedelta(hours=1)).isoformat())
    approval = start + timedelta(hours=3)
    with time_machine.travel(approval, tick=False):
        approved = act(world.approver, pending["id"], "approve")
    assert parse_datetime(approved["window_starts_at"]) == approval


def test_a_scheduled_window_can_be_revoked_before_it_opens(world, reaching_customer, act, api):
    opens = timezone.now() + timedelta(hours=5)
    approved = _approved(world, reaching_customer, act, starts_at=opens.isoformat())
    revoked = act(world.admin, approved["id"], "revoke", comment="Plans changed")
    assert revoked["status"] == "revoked"
    with time_machine.travel(opens + timedelta(minutes=1), tick=False):
        pc = world.contoso_pcs[0].pk
        assert api(world.engineer).post(f"/api/v1/cloud-pcs/{pc}/restart/").status_code == 403


def test_an_extension_continues_the_window_without_a_gap(world, reaching_customer, act, api):
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        parent = _approved(world, reaching_customer, act, duration_minutes=60)
    ends = parse_datetime(parent["window_ends_at"])
    with time_machine.travel(start + timedelta(minutes=40), tick=False):
        extension = act(
            world.engineer,
            parent["id"],
            "extend",
            expect=201,
            reason="Almost done",
            duration_minutes=30,
        )
        assert extension["extends"] == parent["id"]
        assert extension["status"] == "pending_internal"
        assert parse_datetime(extension["starts_at"]) == ends
        assert [pc["id"] for pc in extension["cloud_pcs"]] == [world.contoso_pcs[0].pk]
        assert extension["ticket"] == parent["ticket"]
        # It goes through the same approvals.
        act(world.manager, extension["id"], "approve")
        approved = act(world.approver, extension["id"], "approve")
    assert parse_datetime(approved["window_starts_at"]) == ends
    assert parse_datetime(approved["window_ends_at"]) == ends + timedelta(minutes=30)
    pc = world.contoso_pcs[0].pk
    engineer = api(world.engineer)
    # Continuity: the moment one window ends, the next one holds.
    for moment in (ends - timedelta(seconds=1), ends, ends + timedelta(minutes=29)):
        with time_machine.travel(moment, tick=False):
            assert engineer.post(f"/api/v1/cloud-pcs/{pc}/restart/").status_code == 200
    with time_machine.travel(ends + timedelta(minutes=30), tick=False):
        assert engineer.post(f"/api/v1/cloud-pcs/{pc}/restart/").status_code == 403
    record = AuditRecord.objects.get(request_id=extension["id"], operation="RequestCreated")
    assert record.details["extends"] == parent["id"]


def test_revoking_a_request_revokes_its_extensions(world, reaching_customer, act):
    parent = _approved(world, reaching_customer, act)
    approved_extension = act(world.engineer, parent["id"], "extend", expect=201, reason="More")
    act(world.manager, approved_extension["id"], "approve")
    act(world.approver, approved_extension["id"], "approve")
    revoked = act(world.admin, parent["id"], "revoke", comment="Done")
    assert revoked["status"] == "revoked"
    child = AccessRequest.objects.get(pk=approved_extension["id"])
    assert child.status == "revoked"
    record = AuditRecord.objects.get(request_id=child.pk, operation="AccessRevoked")
    assert record.details["extends"] == parent["id"]
    assert record.details["statement"]["decision"] == "revoked"
    assert record.actor == "admin@contoso.example"


def test_revoking_cancels_a_pending_extension(world, reaching_customer, act):
    parent = _approved(world, reaching_customer, act)
    pending = act(world.engineer, parent["id"], "extend", expect=201, reason="More")
    act(world.admin, parent["id"], "revoke")
    assert AccessRequest.objects.get(pk=pending["id"]).status == "cancelled"


def test_extensions_are_refused_where_they_make_no_sense(world, reaching_customer, act):
    parent = _approved(world, reaching_customer, act)
    act(world.manager, parent["id"], "extend", expect=403, reason="x")
    act(world.approver, parent["id"], "extend", expect=403, reason="x")
    act(world.engineer, parent["id"], "extend", expect=400, reason="")
    act(world.engineer, parent["id"], "extend", expect=400, reason="x", duration_minutes=9999)
    act(world.engineer, parent["id"], "extend", expect=201, reason="More")
    second = act(world.engineer, parent["id"], "extend", expect=409, reason="Even more")
    assert "already waiting" in second["detail"]
    pending = reaching_customer()
    act(world.engineer, pending["id"], "extend", expect=409, reason="x")
    assert AccessRequest.objects.filter(extends__isnull=False).count() == 1


def test_a_second_extension_cannot_overlap_the_first(world, reaching_customer, act):
    parent = _approved(world, reaching_customer, act)
    first = act(world.engineer, parent["id"], "extend", expect=201, reason="More")
    act(world.manager, first["id"], "approve")
    act(world.approver, first["id"], "approve")
    refused = act(world.engineer, parent["id"], "extend", expect=409, reason="Even more")
    assert f"request {first['id']}" in refused["detail"]
    assert AccessRequest.objects.filter(extends_id=parent["id"]).count() == 1


def test_the_page_says_where_an_extension_went(world, reaching_customer, act, client):
    parent = _approved(world, reaching_customer, act)
    client.force_login(world.engineer)
    response = client.post(
        f"/requests/{parent['id']}/extend/",
        {"reason": "Twenty more minutes", "duration_minutes": 20},
        follow=True,
    )
    extension = AccessRequest.objects.get(extends_id=parent["id"])
    assert response.redirect_chain[-1][0] == f"/requests/{extension.pk}/"
    page = response.content.decode()
    assert f"Extension request {extension.pk} was sent for internal approval" in page
    assert f"Request {parent['id']}</a>" in page  # "Extends" links back
