"""Faults found by an attack review of the trust-core fixes; each failed before its fix."""

import pytest
from django.test import Client

from audit_app.models import AuditRecord
from requests_app import services
from requests_app.models import OutboxMessage, Webhook
from requests_app.services.webhook_http import is_global_address
from tenants_app.models import User


@pytest.fixture
def staff_client(world):
    staff = User.objects.create_superuser(
        "staff@provider.example", "staff@provider.example", "x-Staff-Pass-91", tenant=world.provider
    )
    client = Client()
    client.force_login(staff)
    return client


@pytest.mark.parametrize("end", ["cancel", "internal_deny"])
def test_customer_webhooks_are_not_told_of_a_request_that_never_reached_the_customer(
    world, make_request, end
):
    Webhook.objects.create(tenant=world.contoso, url="https://hooks.example/x", secret="s")
    access_request = make_request(stage="pending_internal")
    if end == "cancel":
        services.access_request_cancel(actor=world.engineer, access_request_id=access_request.pk)
    else:
        services.access_request_internal_deny(
            actor=world.manager, access_request_id=access_request.pk
        )
    leaked = OutboxMessage.objects.filter(kind="webhook", webhook__tenant=world.contoso)
    assert list(leaked.values_list("payload__event", flat=True)) == []
    # The engineer is still told by e-mail: that stays inside the provider.
    assert OutboxMessage.objects.filter(kind="email").count() == 1


def test_a_refused_policy_change_is_audited_once_whatever_the_id_spelling(world, api):
    from audit_app.policies import retention_policy_create

    policy = retention_policy_create(
        actor=world.admin, data={"name": "keep", "duration": "P1Y", "priority": 5}
    )
    client = api(world.auditor)
    for zeros in (0, 1, 2, 5, 80):
        response = client.delete(f"/api/v1/audit/retention-policies/{'0' * zeros}{policy.pk}/")
        assert response.status_code == 403
    refusals = AuditRecord.objects.filter(
        tenant=world.contoso, operation="RetentionPolicyDeleted", result="failure"
    )
    assert list(refusals.values_list("object_id", flat=True)) == [str(policy.pk)]


@pytest.mark.parametrize(
    "address",
    # ::127.0.0.1 and ::169.254.169.254 (IPv4-compatible), SIIT, site-local
    ["::7f00:1", "::a9fe:a9fe", "::ffff:0:a9fe:a9fe", "fec0::1"],
)
def test_webhook_targets_refuse_ipv6_forms_of_non_global_addresses(address):
    assert not is_global_address(address)


def test_staff_cannot_set_a_customer_users_password_in_the_admin(world, staff_client):
    url = f"/admin/tenants_app/user/{world.approver.pk}/password/"
    response = staff_client.post(
        url,
        {
            "password1": "Staff-Chosen-99!",
            "password2": "Staff-Chosen-99!",
            "usable_password": "true",
        },
    )
    assert response.status_code == 403
    world.approver.refresh_from_db()
    assert not world.approver.check_password("Staff-Chosen-99!")


def test_staff_still_set_a_provider_users_password_in_the_admin(world, staff_client):
    url = f"/admin/tenants_app/user/{world.engineer.pk}/password/"
    response = staff_client.post(
        url,
        {
            "password1": "Staff-Chosen-99!",
            "password2": "Staff-Chosen-99!",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    world.engineer.refresh_from_db()
    assert world.engineer.check_password("Staff-Chosen-99!")


def test_a_customer_users_name_is_not_edited_in_the_admin(world, staff_client):
    page = staff_client.get(f"/admin/tenants_app/user/{world.approver.pk}/change/")
    assert page.status_code == 200
    assert 'name="username"' not in page.content.decode()
    assert 'name="email"' not in page.content.decode()


@pytest.mark.parametrize("pc_id", [2**63, 10**23, -1])
def test_a_huge_cloud_pc_id_is_a_400_not_a_500(world, api, pc_id):
    ticket = services.ticket_open(actor=world.engineer, tenant_slug="contoso", title="t")
    response = api(world.engineer).post(
        "/api/v1/requests/",
        {"ticket": ticket.pk, "cloud_pcs": [pc_id], "reason": "x"},
        format="json",
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("https://hooks.example/x#token=FRAGSECRET", "FRAGSECRET"),
        ("https://hooks.example/x;sig=PARAMSECRET", "PARAMSECRET"),
        ("https://hooks.example/x?hmac=QSECRET", "QSECRET"),
        ("https://hooks.example/services/T0/B0/PATHSECRET", "PATHSECRET"),
        ("https://user:PWSECRET@hooks.example/x", "PWSECRET"),
    ],
)
def test_webhook_credentials_stay_out_of_the_audit_record(world, settings, url, secret):
    settings.LOCKBOX_WEBHOOK_ALLOW_PRIVATE = True  # no DNS lookup for hooks.example
    services.webhook_create(actor=world.admin, url=url)
    record = AuditRecord.objects.get(tenant=world.contoso, operation="WebhookRegistered")
    assert secret not in str(record.details)
    assert record.details["url"] == "https://hooks.example/…"
    assert len(record.details["url_sha256"]) == 64
