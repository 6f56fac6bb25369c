"""The Access Approval v1 contract, RPC by RPC, through Google's own REST client against a live
gunicorn (INTEROP-GOOGLE 5-9): the same services, audit records and outbox as /api/v1/."""

import base64
from datetime import timedelta

import pytest
import requests
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.utils import timezone
from google.api_core import exceptions as gexc

from audit_app.models import AuditRecord
from requests_app import services
from requests_app.models import AccessRequest, OutboxMessage
from tenants_app.tokens import token_issue

pytestmark = pytest.mark.django_db(transaction=True)
ORG = "organizations/contoso"


def _ar(pk) -> AccessRequest:
    return AccessRequest.objects.get(pk=pk)


def _status(exc) -> tuple[str, str]:
    return exc.response.json()["error"]["status"], exc.reason


def test_get_names_fields_and_prefix_echo(world, make_request, google):
    access_request = make_request(stage="pending_customer", pcs=world.contoso_pcs[:2], duration=90)
    client = google(world.approver)
    before = timezone.now()
    got = client.get_approval_request(name=f"{ORG}/approvalRequests/{access_request.pk}")
    assert got.name == f"{ORG}/approvalRequests/{access_request.pk}"
    pcs = ",".join(f"organizations/contoso/cloudPcs/{pc.pk}" for pc in world.contoso_pcs[:2])
    assert got.requested_resource_name == pcs
    assert got.requested_resource_properties.excludes_descendants is True
    assert got.requested_reason.type_ == 1
    assert got.requested_reason.detail == (
        f"Case Number: {access_request.ticket.number}. Investigate slow sign-in"
    )
    assert got.request_time == access_request.created_at
    # Pending: "approve now" would end then.
    assert before + timedelta(minutes=90) <= got.requested_expiration
    assert got.requested_expiration <= timezone.now() + timedelta(minutes=90)
    assert "approve" not in got and "dismiss" not in got
    # The client's own helper builds projects/ names; the answer echoes that prefix.
    path = client.approval_request_path("contoso", str(access_request.pk))
    assert client.get_approval_request(name=path).name == path


def test_hidden_foreign_and_malformed_requests_are_not_found(world, make_request, google):
    internal = make_request(stage="pending_internal")
    northwind = make_request(world.northwind, stage="pending_customer")
    client = google(world.approver)
    for name in (
        f"{ORG}/approvalRequests/{internal.pk}",  # not the customer's yet (SPEC 8)
        f"{ORG}/approvalRequests/{northwind.pk}",  # another tenant's, under our parent
        f"organizations/northwind/approvalRequests/{northwind.pk}",  # another parent
        f"folders/contoso/approvalRequests/{internal.pk}",
        f"{ORG}/approvalRequests/abc",
        f"{ORG}/approvalRequests/0",
        f"{ORG}/approvalRequests/999999",
    ):
        with pytest.raises(gexc.NotFound) as caught:
            client.get_approval_request(name=name)
        assert _status(caught.value)[0] == "NOT_FOUND", name
    with pytest.raises(ValueError):  # the client refuses names it cannot route
        client.get_approval_request(name=f"{ORG}/approvalRequests/1/x")


def _approved_json(server, token, name) -> dict:
    response = requests.get(
        f"{server}/v1/{name}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    return response.json()


def test_approve_runs_the_approve_service_and_carries_its_signature(
    world, make_request, google, server
):
    access_request = make_request(stage="pending_customer", duration=60)
    client = google(world.approver)
    name = f"{ORG}/approvalRequests/{access_request.pk}"
    approved = client.approve_approval_request(request={"name": name})
    row = _ar(access_request.pk)
    assert row.status == "approved"
    assert approved.approve.approve_time == row.window_starts_at
    assert approved.approve.expire_time == row.window_ends_at
    assert row.window_ends_at - row.window_starts_at == timedelta(minutes=60)
    assert approved.approve.auto_approved is False
    record = AuditRecord.objects.get(request_id=row.pk, operation="RequestApproved")
    assert record.actor == world.approver.username
    assert record.details["channel"] == "access-approval-v1"
    # The same side effects as /api/v1/: the requester's e-mail in the outbox.
    assert OutboxMessage.objects.filter(
        kind="email", payload__request_id=row.pk, payload__event="request.approved"
    ).exists()
    # signatureInfo: Ed25519 over serializedApprovalRequest, checkable with the PEM alone.
    info = approved.approve.signature_info
    raw = _approved_json(server, token_issue(world.approver)[1], name)
    serialized = base64.b64decode(raw["approve"]["signatureInfo"]["serializedApprovalRequest"])
    key = load_pem_public_key(info.google_public_key_pem.encode())
    key.verify(info.signature, serialized)  # raises InvalidSignature if not
    payload = serialized.split(b".")[1]
    statement = base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4))
    assert b'"decision":"approved"' in statement and f'"request":{row.pk}'.encode() in statement
    with pytest.raises(gexc.BadRequest) as caught:  # a second decision loses
        client.approve_approval_request(request={"name": name})
    assert _status(caught.value) == ("FAILED_PRECONDITION", "REQUEST_NOT_PENDING")


def test_approve_with_expire_time_shortens_the_window_exactly(world, make_request, google):
    access_request = make_request(stage="pending_customer", duration=60)
    client = google(world.admin)
    name = f"{ORG}/approvalRequests/{access_request.pk}"
    for bad in (
        timezone.now() - timedelta(minutes=1),  # in the past
        timezone.now() + timedelta(minutes=61),  # longer than the engineer asked for
        timezone.now() + timedelta(minutes=5),  # under LOCKBOX_MIN_ACCESS_MINUTES (15)
    ):
        with pytest.raises(gexc.BadRequest) as caught:
            client.approve_approval_request(request={"name": name, "expire_time": bad})
        assert _status(caught.value) == ("INVALID_ARGUMENT", "INVALID_EXPIRE_TIME")
    assert _ar(access_request.pk).status == "pending_customer"  # nothing changed
    assert not AuditRecord.objects.filter(request_id=access_request.pk, operation="RequestApproved")
    # requestedExpiration from an earlier Get is always a valid expireTime. SPEC 10 shortens
    # windows in whole minutes: the window ends at most a minute before it, never after.
    earlier = client.get_approval_request(name=name).requested_expiration
    wanted = earlier - timedelta(minutes=20, microseconds=1234)
    approved = client.approve_approval_request(request={"name": name, "expire_time": wanted})
    row = _ar(access_request.pk)
    assert wanted - timedelta(minutes=1) < row.window_ends_at <= wanted
    assert approved.approve.expire_time == row.window_ends_at
    minutes = (row.window_ends_at - row.window_starts_at) / timedelta(minutes=1)
    assert minutes == row.decisions.get(stage="customer").duration_minutes == 39
    # Invalidation ends access at once and keeps the approved end.
    ends = row.window_ends_at
    invalidated = client.invalidate_approval_request(request={"name": name})
    assert invalidated.approve.expire_time == ends
    row.refresh_from_db()
    assert row.status == "revoked" and invalidated.approve.invalidate_time == row.closed_at
    assert row.window_ends_at == row.closed_at


def test_dismiss_and_invalidate_and_their_preconditions(world, make_request, google):
    pending = make_request(stage="pending_customer")
    approved = make_request(stage="approved")
    client = google(world.approver)
    dismissed = client.dismiss_approval_request(
        request={"name": f"{ORG}/approvalRequests/{pending.pk}"}
    )
    assert dismissed.dismiss.implicit is False
    assert dismissed.dismiss.dismiss_time == _ar(pending.pk).closed_at
    assert AuditRecord.objects.filter(request_id=pending.pk, operation="RequestDenied").exists()
    for call, pk, reason in (
        (client.dismiss_approval_request, pending.pk, "REQUEST_NOT_PENDING"),
        (client.approve_approval_request, pending.pk, "REQUEST_NOT_PENDING"),
        (client.invalidate_approval_request, pending.pk, "APPROVAL_NOT_ACTIVE"),
        (client.dismiss_approval_request, approved.pk, "REQUEST_NOT_PENDING"),
    ):
        with pytest.raises(gexc.BadRequest) as caught:
            call(request={"name": f"{ORG}/approvalRequests/{pk}"})
        assert _status(caught.value) == ("FAILED_PRECONDITION", reason)
    client.invalidate_approval_request(request={"name": f"{ORG}/approvalRequests/{approved.pk}"})
    assert AuditRecord.objects.filter(request_id=approved.pk, operation="AccessRevoked").exists()
    with pytest.raises(gexc.BadRequest) as caught:
        client.invalidate_approval_request(
            request={"name": f"{ORG}/approvalRequests/{approved.pk}"}
        )
    assert _status(caught.value) == ("FAILED_PRECONDITION", "APPROVAL_NOT_ACTIVE")


def test_an_overdue_pending_request_cannot_be_approved_and_reads_dismissed(
    world, make_request, google
):
    overdue = make_request(stage="pending_customer")
    past = timezone.now() - timedelta(minutes=5)
    AccessRequest.objects.filter(pk=overdue.pk).update(expires_at=past)
    client = google(world.approver)
    name = f"{ORG}/approvalRequests/{overdue.pk}"
    with pytest.raises(gexc.BadRequest) as caught:
        client.approve_approval_request(request={"name": name})
    assert _status(caught.value)[0] == "FAILED_PRECONDITION"
    got = client.get_approval_request(name=name)
    assert got.dismiss.dismiss_time == past and got.dismiss.implicit is True
    services.access_request_expire(access_request_id=overdue.pk)
    assert client.get_approval_request(name=name).dismiss.dismiss_time == past
