"""The outbox delivers with no lock or transaction held across the network, within a deadline."""

import ast
import threading
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.mail import get_connection
from django.db import connection
from django.utils import timezone

from requests_app import services, tasks
from requests_app.models import OutboxMessage
from tenants_app.services import lockbox_setting_change
from tests.requests.endpoints import StallingEndpoint

ROOT = Path(__file__).resolve().parents[2]


def _deliver_in_thread(message_id, result):
    def run():
        started = time.monotonic()
        try:
            result["sent"] = tasks.deliver_outbox_message(str(message_id))
        finally:
            result["seconds"] = time.monotonic() - started
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_other_tenants_write_while_a_webhook_delivery_is_in_flight(world, make_request, settings):
    settings.LOCKBOX_WEBHOOK_TIMEOUT_SECONDS = 2
    with StallingEndpoint(interval=0.3, stall=4) as endpoint:
        services.webhook_create(actor=world.admin, url=endpoint.url)
        make_request(stage="pending_customer")
        message = OutboxMessage.objects.get(kind="webhook")
        result = {}
        thread = _deliver_in_thread(message.pk, result)
        deadline = time.monotonic() + 5
        while not endpoint.accepted and time.monotonic() < deadline:
            time.sleep(0.02)
        assert endpoint.accepted, "the delivery never reached the endpoint"
        started = time.monotonic()
        lockbox_setting_change(actor=world.northwind_admin, enabled=True)  # another tenant
        waited = time.monotonic() - started
        thread.join()
    assert waited < 1, f"another tenant's write waited {waited:.1f} s for a webhook"
    assert result["sent"] is False


@pytest.mark.django_db(transaction=True)
def test_a_dribbling_endpoint_is_cut_off_at_the_total_deadline(world, make_request, settings):
    settings.LOCKBOX_WEBHOOK_TIMEOUT_SECONDS = 2
    with StallingEndpoint(interval=0.3, stall=8) as endpoint:
        services.webhook_create(actor=world.admin, url=endpoint.url)
        make_request(stage="pending_customer")
        message = OutboxMessage.objects.get(kind="webhook")
        result = {}
        _deliver_in_thread(message.pk, result).join()
    assert result["sent"] is False
    assert 1.9 < result["seconds"] < 3, result  # one byte every 0.3 s never trips a read timeout
    message.refresh_from_db()
    assert (message.attempts, message.sent_at) == (1, None)
    assert "deadline" in message.last_error and message.available_at > message.created_at


def test_a_claimed_message_is_left_alone_until_the_claim_expires(world, make_request):
    """A worker that dies mid-send keeps its claim until the lease ends; then flush redelivers."""
    make_request(stage="pending_customer")
    message = OutboxMessage.objects.get()

    class WorkerKilled(BaseException):  # as SIGKILL or a hard time limit would end the send
        pass

    with mock.patch("django.core.mail.EmailMessage.send", side_effect=WorkerKilled):
        with pytest.raises(WorkerKilled):
            services.outbox_deliver(message_id=message.pk)
    assert len(mail.outbox) == 0
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        assert services.outbox_flush() == 0  # still claimed by the dead worker
        assert services.outbox_deliver(message_id=message.pk) is False
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert services.outbox_flush() == 1
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.sent_at is not None and message.attempts == 2


def test_a_retry_waits_for_its_back_off(world, make_request):
    make_request(stage="pending_customer")
    message = OutboxMessage.objects.get()
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=OSError("smtp down")):
        assert services.outbox_deliver(message_id=message.pk) is False
    message.refresh_from_db()
    # A second hand-off of the same message (a redelivered Celery task) does not skip the wait.
    assert services.outbox_deliver(message_id=message.pk) is False
    assert len(mail.outbox) == 0
    with time_machine.travel(message.available_at + timedelta(seconds=1)):
        assert services.outbox_deliver(message_id=message.pk) is True
    assert len(mail.outbox) == 1


def test_the_outbox_back_off_is_the_only_retry(world, make_request):
    make_request(stage="pending_customer")
    message = OutboxMessage.objects.get()
    task = tasks.deliver_outbox_message
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=OSError("smtp down")):
        outcome = task.apply(args=[str(message.pk)])
    assert outcome.successful() and outcome.result is False
    assert not getattr(task, "autoretry_for", ())
    message.refresh_from_db()
    assert message.attempts == 1


def test_delivery_tasks_have_time_limits_beyond_the_delivery_deadline(settings):
    deadline = max(settings.EMAIL_TIMEOUT, settings.LOCKBOX_WEBHOOK_TIMEOUT_SECONDS)
    for task in (tasks.deliver_outbox_message, tasks.flush_outbox, tasks.sweep):
        assert task.soft_time_limit and task.time_limit > task.soft_time_limit, task.name
    assert tasks.deliver_outbox_message.soft_time_limit > deadline


def test_smtp_connections_have_a_timeout(settings):
    assert settings.EMAIL_TIMEOUT == 10
    smtp = get_connection("django.core.mail.backends.smtp.EmailBackend")
    assert smtp.timeout == 10


def _imports(path: Path, package: str) -> tuple[set[str], list[str]]:
    """Modules of requests_app a file imports, and any import made inside a function."""
    tree = ast.parse(path.read_text())
    found, nested = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
                names = [name] + [f"{name}.{alias.name}" for alias in node.names]
            else:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found.update(n for n in names if n.startswith("requests_app"))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("requests_app"))
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef):
            nested += [
                f"{path.name}:{n.lineno}"
                for n in ast.walk(func)
                if isinstance(n, ast.Import | ast.ImportFrom)
            ]
    return found, nested


def test_tasks_and_services_import_without_cycles():
    modules = {"requests_app.tasks": ROOT / "requests_app/tasks.py"}
    for path in (ROOT / "requests_app/services").glob("*.py"):
        name = "requests_app.services" + ("" if path.stem == "__init__" else f".{path.stem}")
        modules[name] = path
    graph, nested = {}, []
    for name, path in modules.items():
        package = name if path.stem == "__init__" else name.rsplit(".", 1)[0]
        found, inner = _imports(path, package)
        graph[name] = {m for m in found if m in modules and m != name}
        nested += inner
    assert nested == [], "imports inside functions hide cycles"

    def reaches(start, target, seen):
        for nxt in graph[start]:
            if nxt == target or (nxt not in seen and reaches(nxt, target, seen | {nxt})):
                return True
        return False

    cyclic = sorted(m for m in graph if reaches(m, m, {m}))
    assert cyclic == [], {m: sorted(graph[m]) for m in cyclic}
