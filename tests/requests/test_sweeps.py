"""The background transitions: expiry of pending requests and completion of ended windows."""

from datetime import timedelta

import time_machine
from django.core.management import call_command

from requests_app import services
from requests_app.models import AccessRequest, Ticket
from tests.conftest import operations_of


def test_it_expires_pending_requests_after_the_ttl(world, make_request):
    internal = make_request()
    customer = make_request(stage="pending_customer")
    with time_machine.travel(internal.expires_at - timedelta(seconds=1), tick=False):
        assert services.sweep() == {"expired": 0, "completed": 0, "review_overdue": 0}
    with time_machine.travel(customer.expires_at + timedelta(seconds=1), tick=False):
        assert services.sweep() == {"expired": 2, "completed": 0, "review_overdue": 0}
    for access_request in (internal, customer):
        access_request.refresh_from_db()
        assert access_request.status == "expired"
        assert operations_of(access_request)[-1] == "RequestExpired"


def test_it_completes_ended_windows_and_their_ticket(world, make_request):
    access_request = make_request(stage="approved", duration=15)
    with time_machine.travel(access_request.window_ends_at - timedelta(seconds=1), tick=False):
        assert services.sweep()["completed"] == 0
    with time_machine.travel(access_request.window_ends_at, tick=False):
        assert services.sweep()["completed"] == 1
    access_request.refresh_from_db()
    assert access_request.status == "completed"
    assert access_request.ticket.status == "completed"
    assert operations_of(access_request)[-1] == "AccessExpired"


def test_a_ticket_with_another_open_request_stays_open(world, make_request):
    first = make_request(stage="approved", duration=15)
    services.access_request_create(
        actor=world.engineer,
        ticket_id=first.ticket_id,
        cloud_pc_ids=[world.contoso_pcs[1].pk],
        reason="more",
        duration_minutes=60,
    )
    with time_machine.travel(first.window_ends_at, tick=False):
        services.sweep()
    assert Ticket.objects.get(pk=first.ticket_id).status == "open"


def test_a_second_sweep_changes_nothing(world, make_request):
    access_request = make_request(stage="approved", duration=15)
    with time_machine.travel(access_request.window_ends_at + timedelta(minutes=1), tick=False):
        assert services.sweep()["completed"] == 1
        assert services.sweep() == {"expired": 0, "completed": 0, "review_overdue": 0}
        assert services.access_request_complete(access_request_id=access_request.pk) is False
    assert operations_of(access_request).count("AccessExpired") == 1


def test_the_sweep_works_in_batches(world, make_request):
    requests = [make_request() for _ in range(5)]
    with time_machine.travel(requests[-1].expires_at + timedelta(seconds=1), tick=False):
        assert services.sweep(batch_size=2)["expired"] == 5
    assert set(AccessRequest.objects.values_list("status", flat=True)) == {"expired"}


def test_the_sweep_leaves_a_request_decided_a_moment_earlier_alone(world, make_request):
    access_request = make_request(stage="pending_customer")
    services.access_request_deny(actor=world.approver, access_request_id=access_request.pk)
    with time_machine.travel(access_request.expires_at + timedelta(seconds=1), tick=False):
        assert services.access_request_expire(access_request_id=access_request.pk) is False
    access_request.refresh_from_db()
    assert access_request.status == "denied"


def test_the_lockbox_sweep_command(world, make_request, capsys):
    access_request = make_request()
    with time_machine.travel(access_request.expires_at + timedelta(seconds=1), tick=False):
        call_command("lockbox_sweep")
    assert "Expired 1 request(s), completed 0" in capsys.readouterr().out
