"""Celery tasks: each takes ids, calls one service, and is safe to run twice."""

from celery import shared_task

from .services import outbox_deliver, outbox_flush
from .services import sweep as sweep_service


@shared_task(acks_late=True, ignore_result=True)
def sweep() -> dict:
    return sweep_service()


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def deliver_outbox_message(message_id: str) -> bool:
    return outbox_deliver(message_id=message_id)


@shared_task(acks_late=True, ignore_result=True)
def flush_outbox() -> int:
    return outbox_flush()
