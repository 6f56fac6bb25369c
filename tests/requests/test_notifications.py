"""Notifications through the outbox: written with the change, sent once, retried on failure."""

from unittest import mock

import pytest
from django.core import mail
from django.db import connection

from requests_app import services
from requests_app.models import OutboxMessage


def test_approvers_are_told_when_a_request_awaits_them(
    world, make_request, django_capture_on_commit_callbacks
):
    with mock.patch("lockbox_site.celery.app.send_task") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            access_request = make_request(stage="pending_customer")
    message = OutboxMessage.objects.get()
    assert message.payload["to"] == [
        "admin@contoso.example",
        "approver2@contoso.example",
        "approver@contoso.example",
    ]
    assert f"/requests/{access_request.pk}/" in message.payload["body"]
    delay.assert_called_once_with(
        "requests_app.tasks.deliver_outbox_message", args=[str(message.pk)], retry=False
    )
    assert services.outbox_deliver(message_id=message.pk) is True
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [
        "admin@contoso.example",
        "approver2@contoso.example",
        "approver@contoso.example",
    ]
    assert mail.outbox[0].extra_headers["Message-ID"] == f"<{message.pk}@lockbox>"


def test_a_message_is_sent_once_however_often_it_is_delivered(world, make_request):
    make_request(stage="pending_customer")
    message = OutboxMessage.objects.get()
    results = [services.outbox_deliver(message_id=message.pk) for _ in range(3)]
    assert results == [True, False, False]
    assert len(mail.outbox) == 1


def test_the_engineer_is_told_of_the_decision(world, make_request):
    access_request = make_request(stage="pending_customer")
    services.access_request_deny(actor=world.approver, access_request_id=access_request.pk)
    message = OutboxMessage.objects.filter(payload__to=["engineer@provider.example"]).get()
    assert "denied" in message.payload["subject"]


def test_a_broker_outage_loses_nothing(world, make_request, django_capture_on_commit_callbacks):
    with mock.patch("lockbox_site.celery.app.send_task", side_effect=ConnectionError("down")):
        with django_capture_on_commit_callbacks(execute=True):
            make_request(stage="pending_customer")  # the request itself still succeeds
    message = OutboxMessage.objects.get()
    assert message.sent_at is None
    OutboxMessage.objects.update(available_at=message.available_at.replace(year=2000))
    assert services.outbox_flush() == 1
    assert len(mail.outbox) == 1
    assert services.outbox_flush() == 0


def test_the_published_task_name_is_the_registered_task():
    from lockbox_site.celery import app
    from requests_app import tasks
    from requests_app.services.outbox import DELIVER_TASK

    assert app.tasks[DELIVER_TASK] is tasks.deliver_outbox_message._get_current_object()


def test_a_failed_send_is_retried_later(world, make_request):
    make_request(stage="pending_customer")
    message = OutboxMessage.objects.get()
    with mock.patch(
        "requests_app.services.outbox.EmailMessage.send", side_effect=OSError("smtp down")
    ):
        assert services.outbox_deliver(message_id=message.pk) is False
    message.refresh_from_db()
    assert (message.attempts, message.sent_at) == (1, None)
    assert "smtp down" in message.last_error
    assert message.available_at > message.created_at


@pytest.mark.django_db(transaction=True)
def test_no_mail_is_written_for_a_transition_that_rolls_back(world, make_request):
    from lockbox_site.errors import InvalidState

    access_request = make_request(stage="pending_customer")
    services.access_request_approve(actor=world.approver, access_request_id=access_request.pk)
    before = OutboxMessage.objects.count()
    with pytest.raises(InvalidState):
        services.access_request_deny(actor=world.approver, access_request_id=access_request.pk)
    assert OutboxMessage.objects.count() == before


def test_after_a_failed_publish_the_process_stops_trying_for_a_while(
    world, make_request, django_capture_on_commit_callbacks, monkeypatch
):
    from requests_app.services import outbox

    monkeypatch.setattr(outbox, "_broker_down_until", 0.0)
    with mock.patch(
        "lockbox_site.celery.app.send_task", side_effect=ConnectionError("down")
    ) as publish:
        with django_capture_on_commit_callbacks(execute=True):
            make_request(stage="pending_customer")
            make_request(stage="pending_customer")
    assert publish.call_count == 1  # the second message did not wait on a dead broker
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_decision_publishes_its_messages_only_after_its_commit(world, make_request):
    access_request = make_request(stage="pending_customer")
    seen = []

    def publish(name, args, retry):
        # No transaction is open, and the message it names is already committed.
        committed = OutboxMessage.objects.filter(pk=args[0]).exists()
        seen.append((connection.in_atomic_block, committed))

    with mock.patch("lockbox_site.celery.app.send_task", side_effect=publish):
        services.access_request_approve(actor=world.approver, access_request_id=access_request.pk)
    assert seen
    assert set(seen) == {(False, True)}


def test_the_request_url_is_the_reversed_one_under_any_script_prefix(world, make_request):
    """Issue 17: the page's path is reversed once per prefix and cut around a marker id."""
    from django.conf import settings
    from django.urls import clear_script_prefix, reverse, set_script_prefix

    from requests_app.services.notifications import _request_url

    access_request = make_request()
    try:
        for prefix in ("/", "/lockbox/", "/a7340000301b/"):
            set_script_prefix(prefix)
            for pk in (access_request.pk, 7340000301, 10**12):
                access_request.pk = pk
                expected = settings.LOCKBOX_BASE_URL + reverse("requests:detail", args=[pk])
                assert _request_url(access_request) == expected
    finally:
        clear_script_prefix()
