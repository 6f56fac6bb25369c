"""AccessApprovalSettings, and every error class the client raises, through Google's client
against a live server (INTEROP-GOOGLE 2, 4, 9, 10)."""

import pytest
import requests
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc
from google.auth.credentials import AnonymousCredentials
from google.cloud.accessapproval_v1 import types
from google.oauth2.credentials import Credentials
from google.protobuf import field_mask_pb2

from audit_app.models import AuditRecord
from tenants_app.models import Tenant
from tenants_app.tokens import token_issue

from .conftest import NoRefresh

pytestmark = pytest.mark.django_db(transaction=True)
ORG = "organizations/contoso"
SETTINGS = f"{ORG}/accessApprovalSettings"


def _status(exc) -> tuple[str, str]:
    return exc.response.json()["error"]["status"], exc.reason


def _update(client, settings: dict, paths=None):
    mask = field_mask_pb2.FieldMask(paths=paths) if paths else None
    return client.update_access_approval_settings(
        settings=types.AccessApprovalSettings(name=SETTINGS, **settings), update_mask=mask
    )


def test_get_and_update_settings_through_the_audited_service(world, google):
    got = google(world.auditor).get_access_approval_settings(name=SETTINGS)
    assert got.name == SETTINGS and list(got.notification_emails) == []
    assert [(s.cloud_product, s.enrollment_level) for s in got.enrolled_services] == [("all", 1)]
    admin = google(world.admin)
    # Without a mask only notificationEmails changes: stripped, duplicates dropped.
    updated = _update(
        admin,
        {
            "notification_emails": [" secops@contoso.example", "SecOps@contoso.example", "b@c.de"],
            "enrolled_services": [],
        },
    )
    assert list(updated.notification_emails) == ["secops@contoso.example", "b@c.de"]
    assert Tenant.objects.get(pk=world.contoso.pk).lockbox_enabled is True
    assert AuditRecord.objects.filter(
        operation="LockboxSettingChanged", details__field="notification_emails"
    ).exists()
    off = _update(admin, {"enrolled_services": []}, ["enrolled_services"])
    assert list(off.enrolled_services) == []
    assert Tenant.objects.get(pk=world.contoso.pk).lockbox_enabled is False
    on = _update(
        admin,
        {"enrolled_services": [{"cloud_product": "all", "enrollment_level": 1}]},
        ["enrolled_services"],
    )
    assert len(on.enrolled_services) == 1
    changes = AuditRecord.objects.filter(
        operation="LockboxSettingChanged", details__field="enabled"
    )
    assert [r.details["new_value"] for r in changes.order_by("seq")] == [False, True]
    for settings, paths, reason in (
        (
            {"enrolled_services": [{"cloud_product": "compute.googleapis.com"}]},
            ["enrolled_services"],
            "INVALID_ENROLLED_SERVICES",
        ),
        ({"notification_emails": ["not an address"]}, None, "INVALID_NOTIFICATION_EMAILS"),
        ({"notification_emails": []}, ["enrolled_ancestor"], "INVALID_UPDATE_MASK"),
    ):
        with pytest.raises(gexc.BadRequest) as caught:
            _update(admin, settings, paths)
        assert _status(caught.value) == ("INVALID_ARGUMENT", reason)
    with pytest.raises(gexc.Forbidden) as caught:
        _update(google(world.approver), {"notification_emails": []})
    assert _status(caught.value) == ("PERMISSION_DENIED", "ROLE_REQUIRED")
    assert AuditRecord.objects.filter(
        operation="LockboxSettingChanged", result="failure", actor=world.approver.username
    ).exists()
    fabrikam = google(world.fabrikam_admin)
    with pytest.raises(gexc.BadRequest) as caught:
        fabrikam.update_access_approval_settings(
            settings=types.AccessApprovalSettings(
                name="organizations/fabrikam/accessApprovalSettings",
                enrolled_services=[{"cloud_product": "all"}],
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["enrolled_services"]),
        )
    assert _status(caught.value) == ("FAILED_PRECONDITION", "LOCKBOX_NOT_AVAILABLE")
    with pytest.raises(gexc.MethodNotImplemented):
        admin.delete_access_approval_settings(name=SETTINGS)
    with pytest.raises(gexc.MethodNotImplemented):
        admin.get_access_approval_service_account(name=f"{ORG}/serviceAccount")


def test_who_may_call_what(world, make_request, google):
    request = make_request(stage="pending_customer")
    name = f"{ORG}/approvalRequests/{request.pk}"
    for user in (world.engineer, world.manager):  # the provider: 403 on everything
        with pytest.raises(gexc.Forbidden) as caught:
            google(user).list_approval_requests(request={"parent": ORG})
        assert _status(caught.value) == ("PERMISSION_DENIED", "PROVIDER_USER")
        with pytest.raises(gexc.Forbidden):
            google(user).get_access_approval_settings(name=SETTINGS)
    auditor = google(world.auditor)
    for call in (
        lambda: auditor.list_approval_requests(request={"parent": ORG}),
        lambda: auditor.get_approval_request(name=name),
        lambda: auditor.approve_approval_request(request={"name": name}),
    ):
        with pytest.raises(gexc.Forbidden) as caught:
            call()
        assert _status(caught.value) == ("PERMISSION_DENIED", "ROLE_REQUIRED")
    # Another tenant's parent, an unknown one and folders/: 404, no hint whether it exists.
    northwind = google(world.northwind_admin)
    for parent in (ORG, "organizations/nosuch", "folders/northwind", "projects/contoso"):
        with pytest.raises(gexc.NotFound):
            northwind.list_approval_requests(request={"parent": parent})
    with pytest.raises(gexc.NotFound):
        northwind.approve_approval_request(request={"name": name})
    with pytest.raises(gexc.NotFound):
        northwind.get_access_approval_service_account(name=f"{ORG}/serviceAccount")
    assert request.__class__.objects.get(pk=request.pk).status == "pending_customer"


def test_authentication_errors_as_the_client_sees_them(world, google, server):
    _, token = token_issue(world.approver)
    with pytest.raises(gexc.Unauthorized) as caught:  # refreshable credentials: Unauthorized
        google(None, credentials=NoRefresh()).list_approval_requests(request={"parent": ORG})
    assert _status(caught.value) == ("UNAUTHENTICATED", "TOKEN_MISSING")
    with pytest.raises(auth_exc.RefreshError):  # a bare token cannot refresh: RefreshError
        google(None, credentials=Credentials(token="wrong")).list_approval_requests(
            request={"parent": ORG}
        )
    raw = requests.get(
        f"{server}/v1/{ORG}/approvalRequests", headers={"Authorization": "Bearer wrong"}, timeout=10
    )
    assert raw.status_code == 401 and raw.headers["WWW-Authenticate"] == 'Bearer realm="lockbox"'
    assert raw.json()["error"]["status"] == "UNAUTHENTICATED"
    assert not AuditRecord.objects.filter(operation="SignInFailed").exists()
    # `Token <t>` through per-call metadata works as well as Bearer.
    anonymous = google(None, credentials=AnonymousCredentials())
    listed = anonymous.list_approval_requests(
        request={"parent": ORG}, metadata=[("authorization", f"Token {token}")]
    )
    assert list(listed) == []
    # Unmatched paths and methods under /v1/ are JSON NOT_FOUND; malformed JSON is a 400.
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for method, path in (("GET", f"/v1/{ORG}/nothing"), ("DELETE", f"/v1/{ORG}/approvalRequests")):
        answer = requests.request(method, server + path, headers=headers, timeout=10)
        assert answer.status_code == 404 and answer.json()["error"]["status"] == "NOT_FOUND"
    admin_headers = {**headers, "Authorization": f"Bearer {token_issue(world.admin)[1]}"}
    answer = requests.patch(f"{server}/v1/{SETTINGS}", data="{", headers=admin_headers, timeout=10)
    assert answer.status_code == 400 and answer.json()["error"]["status"] == "INVALID_ARGUMENT"
    schema = requests.get(f"{server}/api/v1/schema/", headers=headers, timeout=10).text
    assert "approvalRequests" not in schema
