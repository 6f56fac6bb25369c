"""SPEC 10: a request's structured reason (`reason_type`), given at creation, shown with the reason."""

import pytest
from django.core import mail

from audit_app.models import AuditRecord
from requests_app import services
from requests_app.models import OutboxMessage, Webhook

TYPES = [
    "customer_initiated_support",
    "provider_initiated_service",
    "provider_initiated_review",
    "response_to_production_alert",
    "third_party_data_request",
]


def _create(api, world, **extra):
    ticket = services.ticket_open(actor=world.engineer, tenant_slug="contoso", title="t")
    body = {"ticket": ticket.pk, "cloud_pcs": [world.contoso_pcs[0].pk], "reason": "slow", **extra}
    return api(world.engineer).post("/api/v1/requests/", body, format="json")


def test_the_default_is_customer_initiated_support(world, api):
    response = _create(api, world)
    assert response.status_code == 201
    assert response.json()["reason_type"] == "customer_initiated_support"


@pytest.mark.parametrize("reason_type", TYPES)
def test_each_type_is_kept_and_shown_wherever_the_reason_is(world, api, reason_type):
    Webhook.objects.create(tenant=world.contoso, url="https://hooks.example/x", secret="s")
    created = _create(api, world, reason_type=reason_type).json()
    assert created["reason_type"] == reason_type
    record = AuditRecord.objects.get(operation="RequestCreated", request_id=created["id"])
    assert record.details["reason_type"] == reason_type
    services.access_request_internal_approve(actor=world.manager, access_request_id=created["id"])
    assert (
        api(world.approver).get(f"/api/v1/requests/{created['id']}/").json()["reason_type"]
        == reason_type
    )
    email = OutboxMessage.objects.get(kind="email", payload__event="request.pending_customer")
    assert f"Reason type: {reason_type}" in email.payload["body"]
    hook = OutboxMessage.objects.get(kind="webhook", payload__event="request.pending_customer")
    assert hook.payload["request"]["reason_type"] == reason_type
    assert not mail.outbox  # nothing sent synchronously


@pytest.mark.parametrize("bad", ["", "urgent", 3, None, ["customer_initiated_support"]])
def test_an_unknown_type_is_a_400_naming_the_field(world, api, bad):
    response = _create(api, world, reason_type=bad)
    assert response.status_code == 400
    assert "reason_type" in response.json()
    assert not AuditRecord.objects.filter(operation="RequestCreated").exists()


def test_the_web_form_and_the_request_page_show_it(world, client):
    ticket = services.ticket_open(actor=world.engineer, tenant_slug="contoso", title="t")
    client.force_login(world.engineer)
    page = client.get(f"/provider/request-access/?ticket={ticket.pk}").content.decode()
    assert 'name="reason_type"' in page and "Response to a production alert" in page
    response = client.post(
        f"/provider/request-access/?ticket={ticket.pk}",
        {
            "ticket": ticket.pk,
            "cloud_pcs": [world.contoso_pcs[0].pk],
            "reason": "alert 4711",
            "reason_type": "response_to_production_alert",
            "duration_minutes": 60,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    detail = client.get(response["Location"]).content.decode()
    assert "Response to a production alert" in detail
