"""Webhooks: registered by a Global Administrator, signed, delivered through the outbox, logged."""

import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import time_machine
from standardwebhooks.webhooks import WebhookVerificationError

from audit_app.models import AuditRecord
from lockbox_site.errors import InvalidInput, NotAllowed, NotFound
from requests_app import services
from requests_app.models import OutboxMessage, Webhook
from tests.requests.endpoints import Listener
from tests.requests.receiving import receive


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
            for name, value in state.get("headers", {}).items():
                self.send_header(name, value)
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
        # In the order they were written (ids are UUIDs: unordered on PostgreSQL).
        for m in OutboxMessage.objects.filter(kind="webhook", sent_at__isnull=True).order_by(
            "created_at"
        )
    ]


def test_events_are_signed_and_delivered(world, make_request, receiver, settings):
    webhook = services.webhook_create(actor=world.admin, url=receiver["url"], description="SIEM")
    access_request = make_request(stage="pending_customer")
    services.access_request_approve(actor=world.approver, access_request_id=access_request.pk)
    assert _deliver_all() == [True, True]
    events = []
    for headers, body in receiver["received"]:
        event = receive(webhook.secret, headers, body)  # Standard Webhooks, then CloudEvents
        assert headers["Content-Type"].startswith("application/cloudevents+json")
        assert event.get_id() == headers["webhook-id"]
        assert event.get_source() == settings.LOCKBOX_BASE_URL
        assert event.get_subject() == str(access_request.pk)
        assert event.get_datacontenttype() == "application/json"
        data = event.get_data()
        events.append((event.get_type(), data["request"]["id"], data["request"]["tenant"]))
        tampered = body.replace(b"contoso", b"fabrikm")
        with pytest.raises(WebhookVerificationError):
            receive(webhook.secret, headers, tampered)
    assert events == [
        ("com.lockbox.request.pending_customer", access_request.pk, "contoso"),
        ("com.lockbox.request.approved", access_request.pk, "contoso"),
    ]
    assert list(webhook.deliveries.values_list("response_status", flat=True)) == [200, 200]


def test_every_decision_sends_an_event(world, make_request, receiver):
    services.webhook_create(actor=world.admin, url=receiver["url"])
    denied = make_request(stage="pending_customer")
    services.access_request_deny(actor=world.approver, access_request_id=denied.pk)
    cancelled = make_request(stage="pending_customer")
    services.access_request_cancel(actor=world.engineer, access_request_id=cancelled.pk)
    events = sorted(m.payload["event"] for m in OutboxMessage.objects.filter(kind="webhook"))
    assert events == [
        "request.cancelled",
        "request.denied",
        "request.pending_customer",
        "request.pending_customer",
    ]


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
    with time_machine.travel(message.available_at + timedelta(seconds=1)):
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
    with pytest.raises(InvalidInput, match="non-public"):
        services.webhook_create(actor=world.admin, url="https://127.0.0.1/hook")
    # Registered while allowed (on-premises), then refused at delivery once it is not.
    settings.LOCKBOX_WEBHOOK_ALLOW_PRIVATE = True
    with Listener() as loopback:
        services.webhook_create(actor=world.admin, url=f"https://127.0.0.1:{loopback.port}/hook")
        settings.LOCKBOX_WEBHOOK_ALLOW_PRIVATE = False
        make_request(stage="pending_customer")
        assert _deliver_all() == [False]
    assert loopback.connections == 0
    assert "non-public address" in OutboxMessage.objects.get(kind="webhook").last_error


def test_the_webhook_api(world, api, receiver, make_request):
    admin = api(world.admin)
    created = admin.post(
        "/api/v1/webhooks/", {"url": receiver["url"], "description": "chat"}, format="json"
    )
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
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


PUBLIC_IP = "93.184.216.34"  # a global address; nothing in these tests ever reaches it


def _fake_dns(monkeypatch, answers: dict):
    """Answer getaddrinfo for the given names from `answers` (a list of IPs, popped in turn)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        queue = answers[host]
        ip = queue.pop(0) if len(queue) > 1 else queue[0]
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (ip, int(port or 0)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _refuse_the_public_internet(monkeypatch):
    """Record every TCP connect; a connect to PUBLIC_IP is refused (tests stay offline)."""
    attempts = []
    real = socket.create_connection

    def create_connection(address, *args, **kwargs):
        attempts.append(address[0])
        if address[0] == PUBLIC_IP:
            raise ConnectionRefusedError(111, "Connection refused")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return attempts


def test_a_host_that_rebinds_to_loopback_is_never_connected(
    world, make_request, settings, monkeypatch
):
    settings.LOCKBOX_WEBHOOK_ALLOW_PRIVATE = False
    with Listener() as loopback:
        answers = {"rebind.example": [PUBLIC_IP]}
        _fake_dns(monkeypatch, answers)
        services.webhook_create(actor=world.admin, url=f"https://rebind.example:{loopback.port}/")
        make_request(stage="pending_customer")
        # From now on the name answers public once (the check), then loopback (a second lookup).
        answers["rebind.example"] = [PUBLIC_IP, "127.0.0.1"]
        attempts = _refuse_the_public_internet(monkeypatch)
        assert _deliver_all() == [False]
    assert loopback.connections == 0
    assert attempts == [PUBLIC_IP]  # the checked address, and only it
    assert "refused" in OutboxMessage.objects.get(kind="webhook").last_error


def test_a_host_that_turns_private_after_registration_is_refused_at_delivery(
    world, make_request, settings, monkeypatch
):
    settings.LOCKBOX_WEBHOOK_ALLOW_PRIVATE = False
    with Listener() as loopback:
        answers = {"turncoat.example": [PUBLIC_IP]}
        _fake_dns(monkeypatch, answers)
        services.webhook_create(actor=world.admin, url=f"https://turncoat.example:{loopback.port}/")
        make_request(stage="pending_customer")
        answers["turncoat.example"] = ["127.0.0.1"]
        assert _deliver_all() == [False]
    assert loopback.connections == 0
    assert "non-public address" in OutboxMessage.objects.get(kind="webhook").last_error


NOT_GLOBAL = [
    "127.0.0.1",
    "10.1.2.3",
    "169.254.169.254",
    "100.64.0.1",  # carrier-grade NAT
    "100.127.255.254",
    "192.0.0.1",  # IETF protocol assignments
    "192.0.0.9",
    "0.0.0.0",
    "224.0.0.1",
    "::1",
    "::ffff:127.0.0.1",
    "fd00::1",
    "fe80::1",
    "2002::1",  # 6to4: carries an IPv4 address of any kind
    "2002:7f00:1::1",
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
]


@pytest.mark.parametrize("address", NOT_GLOBAL)
def test_a_webhook_to_a_non_global_address_is_refused_at_registration(
    world, api, settings, monkeypatch, address
):
    settings.LOCKBOX_WEBHOOK_ALLOW_PRIVATE = False
    host = f"[{address}]" if ":" in address else address
    admin = api(world.admin)
    literal = admin.post("/api/v1/webhooks/", {"url": f"https://{host}/hook"}, format="json")
    assert literal.status_code == 400, literal.content
    assert "url" in literal.json()
    _fake_dns(monkeypatch, {"inside.example": [address]})
    named = admin.post("/api/v1/webhooks/", {"url": "https://inside.example/hook"}, format="json")
    assert named.status_code == 400 and "non-public" in json.dumps(named.json())
    assert not Webhook.objects.exists()
    assert not AuditRecord.objects.filter(operation="WebhookRegistered").exists()


def test_the_web_form_refuses_a_private_target_with_a_400(world, client, settings):
    settings.LOCKBOX_WEBHOOK_ALLOW_PRIVATE = False
    client.force_login(world.admin)
    response = client.post("/settings/webhooks/", {"url": "https://100.64.0.7/hook"})
    assert response.status_code == 400 and b"non-public" in response.content
    assert not Webhook.objects.exists()


def test_a_public_target_is_accepted(world, api, settings, monkeypatch):
    settings.LOCKBOX_WEBHOOK_ALLOW_PRIVATE = False
    _fake_dns(monkeypatch, {"hooks.example": [PUBLIC_IP]})
    created = api(world.admin).post(
        "/api/v1/webhooks/", {"url": "https://hooks.example/x"}, format="json"
    )
    assert created.status_code == 201


def test_the_signing_secret_never_travels_in_a_cookie(world, client, receiver):
    client.force_login(world.admin)
    response = client.post("/settings/webhooks/", {"url": receiver["url"]})
    # Redirected, so reloading the page cannot register the endpoint a second time.
    assert response.status_code == 302 and response["Location"] == "/settings/webhooks/"
    secret = Webhook.objects.get().secret
    assert all(secret not in morsel.value for morsel in response.cookies.values())
    page = client.get("/settings/webhooks/")
    assert secret.encode() in page.content and b"shown only now" in page.content
    assert all(secret not in morsel.value for morsel in page.cookies.values())
    assert secret.encode() not in client.get("/settings/webhooks/").content  # shown once
    assert Webhook.objects.count() == 1


def test_credentials_in_a_webhook_url_stay_out_of_the_audit_log(world, receiver):
    url = receiver["url"].replace("http://", "http://alice:s3cr3tpw@") + "?token=t0k3n&x=1"
    webhook = services.webhook_create(actor=world.admin, url=url)
    assert webhook.url == url  # delivery still needs them
    services.webhook_delete(actor=world.admin, webhook_id=webhook.pk)
    details = [json.dumps(d) for d in AuditRecord.objects.values_list("details", flat=True)]
    assert len(details) == 2
    for text in details:
        assert "s3cr3tpw" not in text and "alice" not in text and "t0k3n" not in text
        assert "http://127.0.0.1:" in text and "/\\u2026" in text  # the origin only
