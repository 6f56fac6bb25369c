"""Writes of requests_app. Views, the API, admin actions and tasks call only these."""

from .access_requests import (
    access_request_answer,
    access_request_approve,
    access_request_cancel,
    access_request_create,
    access_request_decide,
    access_request_deny,
    access_request_emergency_approve,
    access_request_extend,
    access_request_internal_approve,
    access_request_internal_deny,
    access_request_request_info,
    access_request_review,
    access_request_revoke,
)
from .outbox import outbox_deliver, outbox_flush
from .sessions import cloud_pc_operate
from .sweeps import (
    access_request_complete,
    access_request_expire,
    access_request_review_overdue,
    sweep,
)
from .tickets import ticket_close, ticket_open
from .transitions import allowed_actions
from .webhooks import (
    webhook_create,
    webhook_delete,
    webhook_delivery_retry,
    webhook_test,
    webhook_update,
)

__all__ = [
    "access_request_answer",
    "access_request_approve",
    "access_request_cancel",
    "access_request_complete",
    "access_request_create",
    "access_request_decide",
    "access_request_deny",
    "access_request_emergency_approve",
    "access_request_expire",
    "access_request_extend",
    "access_request_internal_approve",
    "access_request_internal_deny",
    "access_request_request_info",
    "access_request_review",
    "access_request_review_overdue",
    "access_request_revoke",
    "allowed_actions",
    "cloud_pc_operate",
    "outbox_deliver",
    "outbox_flush",
    "sweep",
    "ticket_close",
    "ticket_open",
    "webhook_create",
    "webhook_delete",
    "webhook_delivery_retry",
    "webhook_test",
    "webhook_update",
]
