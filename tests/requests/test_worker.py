"""With a real Celery worker and beat (Redis in CI), a short grant ends on its own."""

import os
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from requests_app.models import AccessRequest, Ticket
from tests.conftest import require_service
from tests.reliability.procs import app_env, start_worker, stop, wait_for


def _broker() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if url.startswith("redis://"):
        import redis

        try:
            redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        except redis.RedisError:
            require_service(False, f"Redis at {url}")
        # A database of its own, so stale messages of other tests are not in the way.
        return url.rsplit("/", 1)[0] + "/14"
    return "filesystem://"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_short_grant_ends_on_its_own_with_a_real_worker(world, make_request, tmp_path):
    # Approved "15 minutes ago minus 4 seconds": the window ends 4 real seconds from now.
    with time_machine.travel(
        timezone.now() - timedelta(minutes=15) + timedelta(seconds=4), tick=True
    ):
        access_request = make_request(stage="approved", duration=15)
    worker = start_worker(app_env(tmp_path, CELERY_BROKER_URL=_broker()), tmp_path)
    try:
        completed = AccessRequest.objects.filter(pk=access_request.pk, status="completed")
        wait_for(completed.exists, 40, "the beat sweep to complete the grant")
        ended = timezone.now()
    finally:
        output = stop(worker)
    access_request.refresh_from_db()
    lag = (ended - access_request.window_ends_at).total_seconds()
    assert lag < 10, (lag, output[-3000:])
    assert Ticket.objects.get(pk=access_request.ticket_id).status == "completed"
