"""SPEC 10 through Google's client (INTEROP-GOOGLE 8): a quorum's approvals, a question that
stops the deadline, and emergency access with its signature."""

from datetime import timedelta

import pytest
from django.utils import timezone
from google.api_core import exceptions as gexc
from google.oauth2.credentials import Credentials

from audit_app.models import AuditRecord
from requests_app import services
from requests_app.models import AccessRequest
from tenants_app.models import Tenant, TokenSecondFactor
from tenants_app.tokens import token_issue

pytestmark = pytest.mark.django_db(transaction=True)


def _status(exc) -> tuple[str, str]:
    return exc.response.json()["error"]["status"], exc.reason


def test_a_quorum_needs_two_approvers_through_approve(world, make_request, google):
    access_request = make_request(world.tailspin, stage="pending_customer")
    name = f"organizations/tailspin/approvalRequests/{access_request.pk}"
    first = google(world.tailspin_approver)
    pending = first.approve_approval_request(request={"name": name})
    # One approval of two: still pending, neither approve nor dismiss.
    assert "approve" not in pending and "dismiss" not in pending
    assert AccessRequest.objects.get(pk=access_request.pk).status == "pending_customer"
    listed = first.list_approval_requests(
        request={"parent": "organizations/tailspin", "filter": "PENDING"}
    )
    assert [r.name for r in listed] == [name]
    with pytest.raises(gexc.BadRequest) as caught:  # the same person twice
        first.approve_approval_request(request={"name": name})
    assert _status(caught.value)[0] == "FAILED_PRECONDITION"
    approved = google(world.tailspin_admin).approve_approval_request(request={"name": name})
    assert approved.approve.approve_time and approved.approve.signature_info.signature
    records = AuditRecord.objects.filter(request_id=access_request.pk)
    assert records.filter(operation="RequestApprovalAdded", details__channel="access-approval-v1")
    final = records.get(operation="RequestApproved")
    assert final.details["channel"] == "access-approval-v1"
    assert final.actor == world.tailspin_admin.username


def test_a_request_with_a_question_lists_pending_and_cannot_be_approved(
    world, make_request, google
):
    access_request = make_request(stage="pending_customer")
    services.access_request_request_info(
        actor=world.approver, access_request_id=access_request.pk, question="Which PC exactly?"
    )
    # The deadline is stopped: even past expires_at it stays pending.
    AccessRequest.objects.filter(pk=access_request.pk).update(
        expires_at=access_request.created_at - timedelta(minutes=1)
    )
    client = google(world.approver)
    name = f"organizations/contoso/approvalRequests/{access_request.pk}"
    pending = client.list_approval_requests(
        request={"parent": "organizations/contoso", "filter": "PENDING"}
    )
    assert [r.name for r in pending] == [name]
    got = client.get_approval_request(name=name)
    assert "approve" not in got and "dismiss" not in got
    with pytest.raises(gexc.BadRequest) as caught:
        client.approve_approval_request(request={"name": name})
    assert _status(caught.value) == ("FAILED_PRECONDITION", "REQUEST_NOT_PENDING")
    # Dismiss still works while the question waits (SPEC 10).
    dismissed = client.dismiss_approval_request(request={"name": name})
    assert dismissed.dismiss.implicit is False


def test_emergency_access_shows_as_approved_with_its_signature(world, make_request, google):
    access_request = make_request(world.tailspin, stage="pending_internal", duration=60)
    AccessRequest.objects.filter(pk=access_request.pk).update(
        reason_type="response_to_production_alert"
    )
    services.access_request_emergency_approve(
        actor=world.manager, access_request_id=access_request.pk, comment="Outage"
    )
    client = google(world.tailspin_approver)
    name = f"organizations/tailspin/approvalRequests/{access_request.pk}"
    got = client.get_approval_request(name=name)
    assert got.requested_reason.type_ == 5  # GOOGLE_RESPONSE_TO_PRODUCTION_ALERT
    assert got.approve.approve_time and got.approve.auto_approved is False
    assert got.approve.signature_info.google_public_key_pem.startswith("-----BEGIN PUBLIC KEY")
    active = client.list_approval_requests(
        request={"parent": "organizations/tailspin", "filter": "ACTIVE"}
    )
    assert [r.name for r in active] == [name]
    client.invalidate_approval_request(request={"name": name})  # the customer may revoke it
    assert AccessRequest.objects.get(pk=access_request.pk).status == "revoked"


def test_where_the_tenant_requires_mfa_only_a_token_with_a_second_factor_decides(
    world, make_request, google
):
    Tenant.objects.filter(pk=world.contoso.pk).update(require_mfa_for_decisions=True)
    access_request = make_request(stage="pending_customer")
    name = f"organizations/contoso/approvalRequests/{access_request.pk}"
    with pytest.raises(gexc.Forbidden) as caught:
        google(world.approver).approve_approval_request(request={"name": name})
    assert _status(caught.value) == ("PERMISSION_DENIED", "MFA_REQUIRED")
    assert AccessRequest.objects.get(pk=access_request.pk).status == "pending_customer"
    row, token = token_issue(world.approver)  # as if signed in with `otp`
    TokenSecondFactor.objects.create(token=row, verified_at=timezone.now())
    approved = google(None, credentials=Credentials(token=token)).approve_approval_request(
        request={"name": name}
    )
    assert approved.approve.approve_time
