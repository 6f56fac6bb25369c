"""SPEC 10 questions: a customer approver asks, the deadline stops; the engineer answers, the
deadline runs again with the time that was left. Deny and cancel still work; approve does not."""

from datetime import timedelta

import time_machine
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from requests_app import services
from requests_app.models import AccessRequest, OutboxMessage
from tests.conftest import operations_of


def test_a_question_stops_the_deadline_and_the_answer_resumes_it(world, reaching_customer, act):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        pending = reaching_customer()
    deadline = parse_datetime(pending["expires_at"])
    left = deadline - start  # the tenant's 12 hours

    with time_machine.travel(start + timedelta(hours=2), tick=False):
        asked = act(world.approver, pending["id"], "request-info", question="Which user?")
    assert asked["status"] == "info_requested"
    assert asked["deadline_paused_seconds"] == (left - timedelta(hours=2)).total_seconds()

    # Far past the old deadline, the sweep leaves a request waiting for its answer alone.
    much_later = start + timedelta(hours=30)
    with time_machine.travel(much_later, tick=False):
        assert services.sweep()["expired"] == 0
        assert AccessRequest.objects.get(pk=pending["id"]).status == "info_requested"
        answered = act(world.engineer, pending["id"], "answer", answer="alex@contoso.example")
    assert answered["status"] == "pending_customer"
    assert parse_datetime(answered["expires_at"]) == much_later + left - timedelta(hours=2)
    assert answered["deadline_paused_seconds"] is None
    assert [(m["kind"], m["by"], m["text"]) for m in answered["messages"]] == [
        ("question", "approver@contoso.example", "Which user?"),
        ("answer", "engineer@provider.example", "alex@contoso.example"),
    ]
    # The time left then runs out as usual.
    resumed_deadline = parse_datetime(answered["expires_at"])
    with time_machine.travel(resumed_deadline - timedelta(seconds=1), tick=False):
        assert services.sweep()["expired"] == 0
    with time_machine.travel(resumed_deadline, tick=False):
        assert services.sweep()["expired"] == 1
    assert operations_of(AccessRequest.objects.get(pk=pending["id"]))[-3:] == [
        "InformationRequested",
        "InformationProvided",
        "RequestExpired",
    ]


def test_while_waiting_approve_is_409_and_deny_or_cancel_still_work(world, reaching_customer, act):
    first = reaching_customer()
    act(world.approver, first["id"], "request-info", question="Why?")
    refused = act(world.admin, first["id"], "approve", expect=409)
    assert "information requested" in refused["detail"]
    assert act(world.admin, first["id"], "deny", comment="No answer needed")["status"] == "denied"

    second = reaching_customer()
    act(world.approver, second["id"], "request-info", question="Why?")
    assert act(world.engineer, second["id"], "cancel")["status"] == "cancelled"


def test_only_the_requester_answers_and_only_approvers_ask(world, reaching_customer, act):
    pending = reaching_customer()
    act(world.engineer, pending["id"], "request-info", expect=403, question="?")
    act(world.auditor, pending["id"], "request-info", expect=404, question="?")
    act(world.approver, pending["id"], "request-info", question="Which user?")
    act(world.manager, pending["id"], "answer", expect=403, answer="me")
    act(world.approver, pending["id"], "answer", expect=403, answer="me")
    act(world.engineer, pending["id"], "answer", expect=400, answer="   ")
    # A second question waits for the first answer.
    act(world.admin, pending["id"], "request-info", expect=409, question="And?")


def test_the_engineer_is_told_the_question_and_approvers_the_answer(world, reaching_customer, act):
    pending = reaching_customer()
    OutboxMessage.objects.all().delete()
    act(world.approver, pending["id"], "request-info", question="Which mailbox?")
    told = OutboxMessage.objects.get(kind="email")
    assert told.payload["to"] == ["engineer@provider.example"]
    assert "Which mailbox?" in told.payload["body"]
    OutboxMessage.objects.all().delete()
    act(world.engineer, pending["id"], "answer", answer="The shared one")
    told = OutboxMessage.objects.get(kind="email")
    assert "approver@contoso.example" in told.payload["to"]
    assert "The shared one" in told.payload["body"]


def test_the_request_page_shows_the_thread_and_the_forms(world, reaching_customer, act, client):
    pending = reaching_customer()
    client.force_login(world.approver)
    response = client.post(
        f"/requests/{pending['id']}/request-info/", {"question": "Which user is affected?"}
    )
    assert response.status_code == 302
    client.force_login(world.engineer)
    page = client.get(f"/requests/{pending['id']}/").content.decode()
    assert "Which user is affected?" in page
    assert "Paused while the engineer answers" in page
    response = client.post(f"/requests/{pending['id']}/answer/", {"answer": "Alex"})
    assert response.status_code == 302
    assert AccessRequest.objects.get(pk=pending["id"]).status == "pending_customer"


def test_the_engineers_home_keeps_a_question_past_the_old_deadline(
    world, reaching_customer, act, client
):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        pending = reaching_customer()
        act(world.approver, pending["id"], "request-info", question="Which user?")
    client.force_login(world.engineer)
    with time_machine.travel(start + timedelta(hours=30), tick=False):
        home = client.get("/").content.decode()
    assert f"Request {pending['id']}</a>" in home
    assert "a question waits for your answer" in home
