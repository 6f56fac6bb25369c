"""SPEC 12 webhooks end to end: each endpoint's events, the test event, replay, 410 and
Retry-After. Every delivery is verified with `standardwebhooks` and parsed with `cloudevents`,
as a receiver would."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import time_machine
from django.conf import settings

from audit_app.models import AuditRecord
from requests_app import services
from requests_app.models import OutboxMessage, Webhook
from requests_app.services.webhook_http import retry_after_seconds
from tests.requests import test_webhooks
from tests.requests.receiving import receive

_deliver_all = test_webhooks._deliver_all
receiver = test_webhooks.receiver  # the fixture: a real HTTP endpoint on loopback


def _received(receiver, secret):
    return [(receive(secret, headers, body), headers) for headers, body in receiver["received"]]


def test_each_endpoint_gets_the_events_it_chose(world, make_request, receiver, api):
    everything = services.webhook_create(actor=world.admin, url=receiver["url"])
    created = api(world.admin).post(
        "/api/v1/webhooks/",
        {"url": receiver["url"] + "/decisions", "events": ["request.approved", "request.denied"]},
        format="json",
    )
    assert created.status_code == 201 and created.json()["events"] == [
        "request.approved",
        "request.denied",
    ]
    chosen = Webhook.objects.get(pk=created.json()["id"])
    access_request = make_request(stage="pending_customer")
    services.access_request_approve(actor=world.approver, access_request_id=access_request.pk)
    assert _deliver_all() == [True, True, True]
    by_path = {}
    for headers, body in receiver["received"]:
        # The receiver knows which of its endpoints was called, hence which secret to use.
        webhook = OutboxMessage.objects.get(pk=headers["webhook-id"]).webhook
        event = receive(webhook.secret, headers, body)
        by_path.setdefault(webhook.secret, []).append(event.get_type())
    assert by_path[everything.secret] == [
        "com.lockbox.request.pending_customer",
        "com.lockbox.request.approved",
    ]
    assert by_path[chosen.secret] == ["com.lockbox.request.approved"]
    # Changing the choice is audited with the old and new values.
    admin = api(world.admin)
    changed = admin.patch(
        f"/api/v1/webhooks/{chosen.pk}/", {"events": ["request.revoked"]}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["events"] == ["request.revoked"]
    record = AuditRecord.objects.get(operation="WebhookUpdated")
    assert record.details["changes"]["events"] == {
        "old": ["request.approved", "request.denied"],
        "new": ["request.revoked"],
    }
    for bad in ({"events": []}, {"events": ["request.nope"]}):
        assert admin.patch(f"/api/v1/webhooks/{chosen.pk}/", bad, format="json").status_code == 400
    assert (
        api(world.northwind_admin)
        .patch(f"/api/v1/webhooks/{chosen.pk}/", {"events": ["request.revoked"]}, format="json")
        .status_code
        == 404
    )


def test_the_test_event_and_a_replay(world, receiver, api):
    webhook = services.webhook_create(actor=world.admin, url=receiver["url"])
    admin = api(world.admin)
    sent = admin.post(f"/api/v1/webhooks/{webhook.pk}/test/")
    assert sent.status_code == 202 and sent.json()["event"] == "webhook.test"
    assert _deliver_all() == [True]
    [(event, headers)] = _received(receiver, webhook.secret)
    assert event.get_type() == "com.lockbox.webhook.test"
    assert event.get_source() == settings.LOCKBOX_BASE_URL
    assert event.get_data()["webhook"]["id"] == webhook.pk
    assert AuditRecord.objects.filter(
        operation="WebhookTested", actor=world.admin.username
    ).exists()
    # Replay: the same message (same webhook-id and CloudEvent id) goes again.
    delivery = sent.json()["id"]
    replayed = admin.post(f"/api/v1/webhooks/{webhook.pk}/deliveries/{delivery}/retry/")
    assert replayed.status_code == 202 and replayed.json()["attempts"] == 0
    assert _deliver_all() == [True]
    first, second = _received(receiver, webhook.secret)
    assert first[0].get_id() == second[0].get_id() == delivery == second[1]["webhook-id"]
    record = AuditRecord.objects.get(operation="WebhookDeliveryRetried")
    assert record.details["delivery"] == delivery and record.details["was_delivered"] is True
    # Not someone else's, not a made-up one, not by a non-administrator.
    other = "00000000-0000-0000-0000-000000000000"
    assert admin.post(f"/api/v1/webhooks/{webhook.pk}/deliveries/{other}/retry/").status_code == 404
    northwind = api(world.northwind_admin)
    assert northwind.post(f"/api/v1/webhooks/{webhook.pk}/test/").status_code == 404
    assert (
        northwind.post(f"/api/v1/webhooks/{webhook.pk}/deliveries/{delivery}/retry/").status_code
        == 404
    )
    assert api(world.approver).post(f"/api/v1/webhooks/{webhook.pk}/test/").status_code == 403


def test_an_endpoint_that_answers_410_is_disabled_and_audited(
    world,
    make_request,
    receiver,
    api,
):
    webhook = services.webhook_create(actor=world.admin, url=receiver["url"])
    receiver["state"]["status"] = 410
    make_request(stage="pending_customer")
    assert _deliver_all() == [False]
    webhook.refresh_from_db()
    assert webhook.disabled_at is not None and "410" in webhook.disabled_reason
    message = OutboxMessage.objects.get(kind="webhook")
    assert message.attempts == settings.LOCKBOX_OUTBOX_MAX_ATTEMPTS  # never retried
    record = AuditRecord.objects.get(operation="WebhookDisabled")
    assert (record.actor_type, record.details["status"]) == ("system", 410)
    # Nothing more is queued for it; a test is refused until it is enabled again.
    make_request(stage="pending_customer")
    assert OutboxMessage.objects.filter(kind="webhook").count() == 1
    admin = api(world.admin)
    assert admin.post(f"/api/v1/webhooks/{webhook.pk}/test/").status_code == 409
    shown = admin.get(f"/api/v1/webhooks/{webhook.pk}/").json()
    assert shown["enabled"] is False and "410" in shown["disabled_reason"]
    receiver["state"]["status"] = 200
    enabled = admin.patch(f"/api/v1/webhooks/{webhook.pk}/", {"enabled": True}, format="json")
    assert enabled.status_code == 200 and enabled.json()["enabled"] is True
    assert AuditRecord.objects.filter(operation="WebhookUpdated").exists()
    assert admin.post(f"/api/v1/webhooks/{webhook.pk}/test/").status_code == 202
    assert _deliver_all() == [False, True]  # the message that met the 410 stays given up


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_retry_after_is_honoured_by_the_outbox_back_off(
    world,
    make_request,
    receiver,
    form,
):
    services.webhook_create(actor=world.admin, url=receiver["url"])
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    wait = (
        "900" if form == "seconds" else format_datetime(now + timedelta(seconds=900), usegmt=True)
    )
    receiver["state"].update(status=503, headers={"Retry-After": wait})
    with time_machine.travel(now, tick=False):
        make_request(stage="pending_customer")
        assert _deliver_all() == [False]
    message = OutboxMessage.objects.get(kind="webhook")
    # The own back-off after a first failure is 20 s; the endpoint asked for 900.
    assert message.available_at == now + timedelta(seconds=900)
    with time_machine.travel(now + timedelta(seconds=899), tick=False):
        assert services.outbox_deliver(message_id=message.pk) is False  # not due yet
    receiver["state"].update(status=200, headers={})
    with time_machine.travel(now + timedelta(seconds=901), tick=False):
        assert services.outbox_deliver(message_id=message.pk) is True


def test_retry_after_values():
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds(format_datetime(now + timedelta(minutes=5), usegmt=True), now) == 300
    assert retry_after_seconds(format_datetime(now - timedelta(minutes=5), usegmt=True), now) == 0
    assert retry_after_seconds("10000000", now) == 86400  # capped at a day
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None


def test_every_event_the_transitions_send_can_be_chosen():
    """An event missing from the catalogue would reach no endpoint: each row's event is in it."""
    from requests_app.events import SUBSCRIBABLE
    from requests_app.services.transitions import TRANSITIONS

    sent = set()
    for row in TRANSITIONS.values():
        if row.event:
            sent.add(row.event)
        elif row.to_state is not None and (row.tell_requester or row.tell_approvers):
            sent.add(f"request.{row.to_state}")
    assert sent and sent <= set(SUBSCRIBABLE), sorted(sent - set(SUBSCRIBABLE))
