"""Step-up MFA (SPEC 14): enrolment, codes from pyotp, the tenant setting, web and API."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from audit_app.models import AuditRecord
from tenants_app.demo import DEFAULT_PASSWORD
from tenants_app.mfa_services import totp_enrol_confirm, totp_enrol_start

START = datetime(2026, 12, 1, 9, 0, 5, tzinfo=UTC)
STEP = timedelta(seconds=30)  # one TOTP time step: a new code


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def enrol(user, clock) -> pyotp.TOTP:
    """Enrol `user` through the services; returns its authenticator (as the phone has it)."""
    device = totp_enrol_start(user=user)
    from base64 import b32encode

    totp = pyotp.TOTP(b32encode(device.bin_key).decode())
    totp_enrol_confirm(user=user, code=totp.now())
    clock.shift(STEP)  # the next code is a fresh one
    return totp


def require_mfa(tenant):
    tenant.require_mfa_for_decisions = True
    tenant.save(update_fields=["require_mfa_for_decisions"])


def token(user, otp=None) -> APIClient:
    body = {"username": user.username, "password": DEFAULT_PASSWORD}
    if otp is not None:
        body["otp"] = otp
    response = APIClient().post("/api/v1/auth/token/", body, format="json")
    assert response.status_code == 200, response.json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    return client


def failures(operation):
    return list(
        AuditRecord.objects.filter(operation=operation, result="failure").values_list(
            "actor", "details"
        )
    )


# Enrolment


def test_api_enrolment_returns_a_key_and_a_first_code_confirms_it(world, clock):
    client = token(world.approver)
    started = client.post("/api/v1/me/mfa/totp/")
    assert started.status_code == 201
    body = started.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/Lockbox%3Aapprover%40contoso.example?")
    totp = pyotp.TOTP(body["secret"])
    wrong = client.post("/api/v1/me/mfa/totp/confirm/", {"code": "000000"}, format="json")
    assert wrong.status_code == 400
    clock.shift(timedelta(seconds=2))  # past the one-second throttle of one wrong code
    confirmed = client.post("/api/v1/me/mfa/totp/confirm/", {"code": totp.now()}, format="json")
    assert confirmed.status_code == 200
    assert len(set(confirmed.json()["recovery_codes"])) == 10
    assert client.get("/api/v1/me/mfa/totp/").json() == {
        "enrolled": True,
        "recovery_codes_left": 10,
    }
    record = AuditRecord.objects.get(operation="MfaEnrolled")
    assert (record.actor, record.object_id) == (
        "approver@contoso.example",
        "approver@contoso.example",
    )
    again = client.post("/api/v1/me/mfa/totp/")
    assert again.status_code == 409


def test_the_security_page_shows_a_qr_code_and_the_key(world, client):
    client.force_login(world.approver)
    client.post(reverse("account_security_enrol"))
    page = client.get(reverse("account_security")).content.decode()
    assert "<svg" in page and 'id="totp-secret"' in page


# The API: a token obtained with `otp`


def test_with_the_setting_on_a_token_without_otp_cannot_approve_and_the_refusal_is_audited(
    world, clock, make_request
):
    totp = enrol(world.approver, clock)
    access_request = make_request(stage="pending_customer")
    require_mfa(world.contoso)
    plain = token(world.approver)
    refused = plain.post(f"/api/v1/requests/{access_request.pk}/approve/", {}, format="json")
    assert refused.status_code == 403
    assert refused.json()["reason"] == "mfa_required"
    assert "otp" in refused.json()["detail"]
    (actor, details), *_ = failures("RequestApproved")
    assert actor == "approver@contoso.example" and "second factor" in details["reason"]

    stepped_up = token(world.approver, otp=totp.now())
    approved = stepped_up.post(f"/api/v1/requests/{access_request.pk}/approve/", {}, format="json")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"


def test_a_wrong_or_reused_code_gets_no_token(world, clock):
    totp = enrol(world.approver, clock)
    body = {"username": world.approver.username, "password": DEFAULT_PASSWORD}
    code = totp.now()
    assert APIClient().post("/api/v1/auth/token/", {**body, "otp": code}).status_code == 200
    clock.shift(timedelta(seconds=1))
    reused = APIClient().post("/api/v1/auth/token/", {**body, "otp": code})
    assert reused.status_code == 400
    assert "used already" in reused.json()["detail"]
    clock.shift(timedelta(seconds=2))
    wrong = APIClient().post("/api/v1/auth/token/", {**body, "otp": "123456"})
    assert wrong.status_code == 400
    assert [a for a, _ in failures("MfaVerificationFailed")] == [world.approver.username] * 2


def test_repeated_wrong_codes_lock_the_authenticator_until_the_wait_is_over(world, clock):
    totp = enrol(world.approver, clock)
    body = {"username": world.approver.username, "password": DEFAULT_PASSWORD}
    for failure in range(1, 6):  # each wrong code doubles the wait: 1, 2, 4, 8, 16 s
        wrong = APIClient().post("/api/v1/auth/token/", {**body, "otp": "000000"})
        assert wrong.status_code == 400
        clock.shift(timedelta(seconds=2 ** (failure - 1)))
    # The fifth wrong code locked it for 16 s; 16 s have not passed: even the right code fails.
    clock.shift(-timedelta(seconds=16) + timedelta(seconds=10))
    locked = APIClient().post("/api/v1/auth/token/", {**body, "otp": totp.now()})
    assert locked.status_code == 429
    assert "Too many wrong codes" in locked.json()["detail"]
    clock.shift(timedelta(seconds=7))
    assert APIClient().post("/api/v1/auth/token/", {**body, "otp": totp.now()}).status_code == 200


def test_a_recovery_code_works_once(world, clock):
    device = totp_enrol_start(user=world.approver)
    from base64 import b32encode

    codes = totp_enrol_confirm(
        user=world.approver, code=pyotp.TOTP(b32encode(device.bin_key).decode()).now()
    )
    body = {"username": world.approver.username, "password": DEFAULT_PASSWORD}
    assert APIClient().post("/api/v1/auth/token/", {**body, "otp": codes[0]}).status_code == 200
    clock.shift(timedelta(seconds=5))
    assert APIClient().post("/api/v1/auth/token/", {**body, "otp": codes[0]}).status_code == 400


def test_settings_changes_need_the_second_factor_too(world, clock):
    totp = enrol(world.admin, clock)
    plain = token(world.admin)
    turned_on = plain.put(
        "/api/v1/settings/lockbox/", {"require_mfa_for_decisions": True}, format="json"
    )
    assert turned_on.status_code == 200  # turning it on needs no code yet
    refused = plain.put("/api/v1/settings/lockbox/", {"required_approvals": 2}, format="json")
    assert refused.status_code == 403 and refused.json()["reason"] == "mfa_required"
    assert failures("LockboxSettingChanged")[0][0] == world.admin.username
    stepped_up = token(world.admin, otp=totp.now())
    changed = stepped_up.put("/api/v1/settings/lockbox/", {"required_approvals": 2}, format="json")
    assert changed.status_code == 200 and changed.json()["required_approvals"] == 2
    record = AuditRecord.objects.filter(operation="LockboxSettingChanged", result="success")
    assert record.filter(details__field="require_mfa_for_decisions").count() == 1


def test_the_setting_cannot_be_turned_on_without_an_authenticator(world):
    response = token(world.admin).put(
        "/api/v1/settings/lockbox/", {"require_mfa_for_decisions": True}, format="json"
    )
    assert response.status_code == 400
    assert "Enrol an authenticator first" in response.json()["detail"]


# The web: the step-up prompt and its 15 minutes


def _approve(client, access_request):
    detail = reverse("requests:detail", args=[access_request.pk])
    return client.post(
        reverse("requests:decide", args=[access_request.pk]),
        {"decision": "approve", "comment": ""},
        HTTP_REFERER=f"http://testserver{detail}",
    )


def test_the_web_asks_for_a_code_then_returns_and_the_code_lasts_15_minutes(
    world, clock, client, make_request
):
    totp = enrol(world.approver, clock)
    first, second = make_request(stage="pending_customer"), make_request(stage="pending_customer")
    require_mfa(world.contoso)
    client.force_login(world.approver)

    asked = _approve(client, first)
    assert asked.status_code == 302
    prompt = urlsplit(asked["Location"])
    assert prompt.path == reverse("mfa_verify")
    back = parse_qs(prompt.query)["next"][0]
    assert back == reverse("requests:detail", args=[first.pk])
    first.refresh_from_db()
    assert first.status == "pending_customer"
    assert failures("RequestApproved")[0][0] == world.approver.username

    wrong = client.post(reverse("mfa_verify"), {"code": "000000", "next": back})
    assert wrong.status_code == 400 and b"not right" in wrong.content
    clock.shift(timedelta(seconds=2))
    verified = client.post(reverse("mfa_verify"), {"code": totp.now(), "next": back})
    assert verified.status_code == 302 and verified["Location"] == back
    assert _approve(client, first).status_code == 302
    first.refresh_from_db()
    assert first.status == "approved"

    clock.shift(timedelta(minutes=15, seconds=1))
    late = _approve(client, second)
    assert urlsplit(late["Location"]).path == reverse("mfa_verify")
    second.refresh_from_db()
    assert second.status == "pending_customer"


def test_role_changes_on_the_web_need_a_fresh_code(world, clock, client):
    enrol(world.admin, clock)
    require_mfa(world.contoso)
    client.force_login(world.admin)
    response = client.post(
        reverse("user_roles_save", args=[world.auditor.pk]),
        {"roles": ["Audit Reader", "Customer Lockbox Access Approver"]},
        HTTP_REFERER="http://testserver/settings/roles/",
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_verify") + "?next=%2Fsettings%2Froles%2F")
    assert set(world.auditor.groups.values_list("name", flat=True)) == {"Audit Reader"}
    assert failures("RoleAssigned")[0][0] == world.admin.username


def test_a_global_administrator_removes_a_users_authenticator_audited(world, clock, client):
    totp = enrol(world.admin, clock)
    enrol(world.approver, clock)
    require_mfa(world.contoso)
    client.force_login(world.admin)
    client.post(reverse("mfa_verify"), {"code": totp.now(), "next": "/"})
    page = client.get(reverse("roles")).content.decode()
    assert "Remove the authenticator of approver@contoso.example" in page
    removed = client.post(reverse("user_mfa_remove", args=[world.approver.pk]))
    assert removed.status_code == 302
    record = AuditRecord.objects.get(operation="MfaRemoved")
    assert (record.actor, record.object_id, record.details["by_administrator"]) == (
        world.admin.username,
        world.approver.username,
        True,
    )
    assert token(world.approver).get("/api/v1/me/mfa/totp/").json()["enrolled"] is False


def test_an_approver_cannot_remove_someone_elses_authenticator(world, clock, client):
    enrol(world.admin, clock)
    client.force_login(world.approver)
    assert client.post(reverse("user_mfa_remove", args=[world.admin.pk])).status_code == 403
    assert failures("MfaRemoved")[0][0] == world.approver.username


def test_the_user_removes_its_own_authenticator(world, clock):
    enrol(world.approver, clock)
    assert token(world.approver).delete("/api/v1/me/mfa/totp/").status_code == 204
    assert AuditRecord.objects.get(operation="MfaRemoved").details["by_administrator"] is False


def test_an_emergency_review_needs_the_second_factor_too(world, clock):
    """SPEC 14 lists review beside approve, deny and revoke (SPEC 10's emergency review)."""
    from requests_app import services as request_services

    totp = enrol(world.tailspin_approver, clock)
    require_mfa(world.tailspin)
    ticket = request_services.ticket_open(actor=world.engineer, tenant_slug="tailspin", title="P1")
    created = request_services.access_request_create(
        actor=world.engineer,
        ticket_id=ticket.pk,
        cloud_pc_ids=[world.tailspin_pcs[0].pk],
        reason="Outage",
        reason_type="response_to_production_alert",
        duration_minutes=60,
    )
    request_services.access_request_emergency_approve(
        actor=world.manager, access_request_id=created.pk, comment="P1"
    )
    url = f"/api/v1/requests/{created.pk}/review/"
    refused = token(world.tailspin_approver).post(url, {"outcome": "accepted"}, format="json")
    assert refused.status_code == 403 and refused.json()["reason"] == "mfa_required"
    assert [actor for actor, _ in failures("EmergencyAccessReviewed")] == [
        "approver@tailspin.example"
    ]
    stepped_up = token(world.tailspin_approver, otp=totp.now())
    reviewed = stepped_up.post(url, {"outcome": "accepted"}, format="json")
    assert reviewed.status_code == 200, reviewed.json()
    assert reviewed.json()["review"]["status"] == "accepted"
