"""With a real Celery worker and beat (Redis in CI), a short grant ends on its own."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone

from requests_app.models import AccessRequest, Ticket
from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]


def _broker_for_worker(tmp_path) -> tuple[str, dict]:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if url.startswith("redis://"):
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        try:
            client.ping()
        except redis.RedisError:
            require_service(False, f"Redis at {url}")
        # A database of its own, so stale messages of other tests are not in the way.
        return url.rsplit("/", 1)[0] + "/14", {}
    return "filesystem://", {"LOCKBOX_VAR_DIR": str(tmp_path)}


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_short_grant_ends_on_its_own_with_a_real_worker(world, make_request, tmp_path):
    broker, extra_env = _broker_for_worker(tmp_path)
    # Approve "15 minutes ago minus 4 seconds", so the window ends 4 real seconds from now.
    with time_machine.travel(
        timezone.now() - timedelta(minutes=15) + timedelta(seconds=4), tick=True
    ):
        access_request = make_request(stage="approved", duration=15)
    env = {
        **os.environ,
        **extra_env,
        "DJANGO_SETTINGS_MODULE": "lockbox_site.settings",
        "SECRET_KEY": "worker-test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker,
        "LOCKBOX_SWEEP_SECONDS": "1",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "lockbox_site",
            "worker",
            "--beat",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--schedule",
            str(tmp_path / "beat-schedule"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 40
        status = None
        while time.monotonic() < deadline and worker.poll() is None:
            status = AccessRequest.objects.get(pk=access_request.pk).status
            if status == "completed":
                break
            time.sleep(0.25)  # waiting for another process, not for the clock
        ended = timezone.now()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            output = worker.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            worker.kill()
            output = worker.communicate()[0]
    assert status == "completed", output[-3000:]
    access_request.refresh_from_db()
    lag = (ended - access_request.window_ends_at).total_seconds()
    assert lag < 10, lag
    assert Ticket.objects.get(pk=access_request.ticket_id).status == "completed"
    assert settings.CELERY_BEAT_SCHEDULE["lockbox-sweep"]["task"] == "requests_app.tasks.sweep"
