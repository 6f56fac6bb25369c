"""Findings of the attack on SPEC 10's richer decisions: each test failed on the code as it
was reviewed, through the path production runs (endpoint, page, job)."""

import io
import json
from datetime import timedelta

from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from audit_app.models import AuditRecord
from requests_app.models import AccessRequest
from tenants_app.models import User
from tenants_app.roles import SUPPORT_MANAGER
from tests.verification.conftest import lockbox_verify

EXPORT = "/api/v1/audit/records/export/?format=jsonl"


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_refused_decision_attempt_is_not_reported_as_tampering(
    world, make_request, api, tmp_path
):
    """A 403 on a signed-decision operation is audited as a failure record that carries no
    signature (nothing was decided). verify_audit and lockbox-verify called the customer's log
    altered at that record, so anyone refused once made every later verification fail."""
    access_request = make_request(stage="approved")
    for path in ("emergency-approve", "revoke"):
        response = api(world.engineer).post(
            f"/api/v1/requests/{access_request.pk}/{path}/", {"comment": "x"}, format="json"
        )
        assert response.status_code == 403, response.json()
    refused = AuditRecord.objects.filter(request_id=access_request.pk, result="failure")
    assert sorted(refused.values_list("operation", flat=True)) == [
        "AccessRevoked",
        "EmergencyAccessGranted",
    ]

    out = io.StringIO()
    call_command("verify_audit", "--tenant", "contoso", stdout=out)
    assert out.getvalue().startswith("contoso: intact")

    export = tmp_path / "audit.jsonl"
    export.write_bytes(_body(api(world.auditor).get(EXPORT)))
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(APIClient().get("/.well-known/lockbox-keys.json").json()))
    verdict = lockbox_verify(export, "--keys", keys)
    assert verdict.code == 0, verdict


def test_an_engineer_approving_their_own_request_is_refused_and_audited(
    world, reaching_customer, act
):
    """SPEC 4: every refused attempt is seen. Approve and deny with neither decision capability
    answered 403 without writing the attempt to the tenant's log."""
    pending = reaching_customer("contoso")
    act(world.engineer, pending["id"], "approve", expect=403)
    act(world.engineer, pending["id"], "deny", expect=403)
    refused = AuditRecord.objects.filter(request_id=pending["id"], result="failure")
    assert list(refused.order_by("seq").values_list("operation", "actor")) == [
        ("RequestApproved", world.engineer.username),
        ("RequestDenied", world.engineer.username),
    ]
    assert AccessRequest.objects.get(pk=pending["id"]).status == "pending_customer"


def test_an_approval_never_opens_a_window_longer_than_the_tenants_longest_access(
    world, reaching_customer, act, api
):
    """SPEC 9: max_access_minutes is the tenant's longest access. A request made under a longer
    limit, approved after the customer lowered it, opened the old, longer window."""
    pending = reaching_customer("contoso", duration_minutes=480)
    response = api(world.admin).put(
        "/api/v1/settings/lockbox/", {"max_access_minutes": 60}, format="json"
    )
    assert response.status_code == 200, response.json()
    approved = act(world.approver, pending["id"], "approve")
    window = parse_datetime(approved["window_ends_at"]) - parse_datetime(
        approved["window_starts_at"]
    )
    assert window == timedelta(minutes=60)
    record = AuditRecord.objects.get(request_id=pending["id"], operation="RequestApproved")
    signed = record.details["statement"]["window"]
    assert parse_datetime(signed["ends_at"]) - parse_datetime(signed["starts_at"]) == window


def test_only_a_support_engineer_may_ask_for_more_time(world, make_request, api):
    """An extension is a new access request, and only support engineers request access. Someone
    who no longer holds the role (moved to Support Manager) still extended a request they had
    made, putting a new request in front of the customer's approvers."""
    access_request = make_request(stage="approved")
    world.engineer.groups.set([Group.objects.get(name=SUPPORT_MANAGER)])
    moved = User.objects.get(pk=world.engineer.pk)  # as the next sign-in loads it
    response = api(moved).post(
        f"/api/v1/requests/{access_request.pk}/extend/", {"reason": "More"}, format="json"
    )
    assert response.status_code == 403, response.json()
    assert AccessRequest.objects.filter(extends=access_request).count() == 0
    refused = AuditRecord.objects.filter(request_id=access_request.pk, result="failure")
    assert list(refused.values_list("operation", "actor")) == [
        ("RequestCreated", world.engineer.username)
    ]
