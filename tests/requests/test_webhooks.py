"""Webhooks: registered by a Global Administrator, signed, delivered through the outbox, logged."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from audit_app.models import AuditRecord
from lockbox_site.errors import InvalidInput, NotAllowed, NotFound
from requests_app import services
from requests_app.models import OutboxMessage


@pytest.fixture
def receiver():
    """A real HTTP endpoint on loopback that records what it receives."""
    received = []
    state = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            if state["status"] == 302:
                self.send_response(302)
                self.send_header("Location", "http://10.0.0.1/")
            else:
                self.send_response(state["status"])
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {
        "url": f"http://127.0.0.1:{server.server_port}/hook",
        "received": received,
        "state": state,
    }
    server.shutdown()


def _deliver_all():
    return [
        services.outbox_deliver(message_id=m.pk)
        for m in OutboxMessage.objects.filter(kind="webhook", sent_at__isnull=True)
    ]


def test_events_are_signed_and_delivered(world, make_request, receiver):
    webhook = services.webhook_create(actor=world.admin, url=receiver["url"], description="SIEM")
    access_request = make_request(stage="pending_customer")
    services.access_request_approve(actor=world.approver, access_request_id=access_request.pk)
    assert _deliver_all() == [True, True]
    events = []
    for headers, body in receiver["received"]:
        expected = (
            "sha256="
            + hmac.new(
                webhook.secret.encode(),
                headers["X-Lockbox-Timestamp"].encode() + b"." + body,
                hashlib.sha256,
            ).hexdigest()
        )
        assert hmac.compare_digest(headers["X-Lockbox-Signature"], expected)
        payload = json.loads(body)
        assert payload["id"] == headers["X-Lockbox-Delivery"]
        events.append((payload["event"], payload["request"]["id"], payload["request"]["tenant"]))
    assert events == [
        ("request.pending_customer", access_request.pk, "contoso"),
        ("request.approved", access_request.pk, "contoso"),
    ]
    assert list(webhook.deliveries.values_list("response_status", flat=True)) == [200, 200]


def test_every_decision_sends_an_event(world, make_request, receiver):
    services.webhook_create(actor=world.admin, url=receiver["url"])
    denied = make_request(stage="pending_customer")
    services.access_request_deny(actor=world.approver, access_request_id=denied.pk)
    cancelled = make_request()
    services.access_request_cancel(actor=world.engineer, access_request_id=cancelled.pk)
    events = sorted(m.payload["event"] for m in OutboxMessage.objects.filter(kind="webhook"))
    assert events == ["request.cancelled", "request.denied", "request.pending_customer"]


def test_a_failing_endpoint_is_retried_with_back_off_and_logged(world, make_request, receiver):
    services.webhook_create(actor=world.admin, url=receiver["url"])
    receiver["state"]["status"] = 500
    make_request(stage="pending_customer")
    message = OutboxMessage.objects.get(kind="webhook")
    assert services.outbox_deliver(message_id=message.pk) is False
    message.refresh_from_db()
    assert (message.attempts, message.response_status, message.sent_at) == (1, 500, None)
    assert "HTTP 500" in message.last_error and message.available_at > message.created_at
    receiver["state"]["status"] = 204
    assert services.outbox_deliver(message_id=message.pk) is True
    message.refresh_from_db()
    assert (message.attempts, message.response_status) == (2, 204)


def test_a_redirect_is_not_followed(world, make_request, receiver):
    services.webhook_create(actor=world.admin, url=receiver["url"])
    receiver["state"]["status"] = 302
    make_request(stage="pending_customer")
    assert _deliver_all() == [False]
    assert OutboxMessage.objects.get(kind="webhook").response_status == 302


def test_only_the_global_admin_manages_webhooks_and_it_is_audited(world, receiver):
    with pytest.raises(NotAllowed):
        services.webhook_create(actor=world.approver, url=receiver["url"])
    webhook = services.webhook_create(actor=world.admin, url=receiver["url"])
    with pytest.raises(NotFound):
        services.webhook_delete(actor=world.northwind_admin, webhook_id=webhook.pk)
    services.webhook_delete(actor=world.admin, webhook_id=webhook.pk)
    assert list(AuditRecord.objects.order_by("seq").values_list("operation", "result")) == [
        ("WebhookRegistered", "failure"),  # the approver's refused attempt
        ("WebhookRegistered", "success"),
        ("WebhookDeleted", "success"),
    ]


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "not a url", "", None, "https://" + "a" * 600 + ".com"]
)
def test_bad_urls_are_refused(world, url):
    with pytest.raises(InvalidInput):
        services.webhook_create(actor=world.admin, url=url)


def test_production_requires_https_and_public_addresses(world, settings, make_request):
    settings.LOCKBOX_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(InvalidInput, match="https"):
        services.webhook_create(actor=world.admin, url="http://hooks.example.com/x")
    services.webhook_create(actor=world.admin, url="https://127.0.0.1/hook")
    make_request(stage="pending_customer")
    assert _deliver_all() == [False]
    assert "non-public address" in OutboxMessage.objects.get(kind="webhook").last_error


def test_the_webhook_api(world, api, receiver, make_request):
    admin = api(world.admin)
    created = admin.post(
        "/api/v1/webhooks/", {"url": receiver["url"], "description": "chat"}, format="json"
    )
    assert created.status_code == 201 and len(created.json()["secret"]) == 64
    pk = created.json()["id"]
    assert "secret" not in admin.get(f"/api/v1/webhooks/{pk}/").json()
    assert (
        api(world.approver)
        .post("/api/v1/webhooks/", {"url": receiver["url"]}, format="json")
        .status_code
        == 403
    )
    assert api(world.northwind_admin).get(f"/api/v1/webhooks/{pk}/").status_code == 404
    assert api(world.northwind_admin).delete(f"/api/v1/webhooks/{pk}/").status_code == 404
    make_request(stage="pending_customer")
    _deliver_all()
    log = admin.get(f"/api/v1/webhooks/{pk}/deliveries/").json()
    assert [(d["event"], d["response_status"], d["attempts"]) for d in log] == [
        ("request.pending_customer", 200, 1)
    ]
    assert admin.delete(f"/api/v1/webhooks/{pk}/").status_code == 204


def test_the_webhooks_page(world, client, receiver):
    client.force_login(world.admin)
    response = client.post(
        "/settings/webhooks/", {"url": receiver["url"], "description": "SIEM"}, follow=True
    )
    assert (
        b"signing secret, shown only now" in response.content
        and receiver["url"].encode() in response.content
    )
    assert client.post("/settings/webhooks/", {"url": "nope"}).status_code == 400
    client.force_login(world.approver)
    assert client.get("/settings/webhooks/").status_code == 403
