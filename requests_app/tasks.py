"""Celery tasks: each takes ids, calls one service, and is safe to run twice.

No task retries through Celery: a failed delivery is retried by the outbox's own back-off
(services/outbox.py), and a failed sweep by the next beat run. Every task has a soft time limit
(raised inside the task) and a hard one (the worker process is replaced).
"""

from celery import shared_task

from .services import outbox_deliver, outbox_flush
from .services import sweep as sweep_service
from .services.outbox import DELIVER_TASK, deliver_time_limits, flush_time_limits

DELIVER_SOFT, DELIVER_HARD = deliver_time_limits()
FLUSH_SOFT, FLUSH_HARD = flush_time_limits()


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=120, time_limit=150)
def sweep() -> dict:
    return sweep_service()


@shared_task(
    name=DELIVER_TASK,
    acks_late=True,
    ignore_result=True,
    soft_time_limit=DELIVER_SOFT,
    time_limit=DELIVER_HARD,
)
def deliver_outbox_message(message_id: str) -> bool:
    return outbox_deliver(message_id=message_id)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=FLUSH_SOFT, time_limit=FLUSH_HARD)
def flush_outbox() -> int:
    return outbox_flush()
