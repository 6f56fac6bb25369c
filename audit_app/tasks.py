from celery import shared_task

from .retention import audit_records_prune


@shared_task(acks_late=True, ignore_result=True)
def apply_retention() -> dict:
    return audit_records_prune()
