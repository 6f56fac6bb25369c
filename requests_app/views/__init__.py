"""The request pages, one module per resource; urls.py reaches them through these names."""

from .access_requests import (
    all_requests,
    customer_requests,
    internal_queue,
    my_requests,
    request_answer,
    request_ask,
    request_cancel,
    request_create,
    request_decide,
    request_detail,
    request_emergency,
    request_evidence,
    request_extend,
    request_review,
    request_revoke,
    request_state,
)
from .cloud_pcs import cloud_pc_detail, cloud_pc_restart
from .tickets import ticket_close, ticket_detail, ticket_list

__all__ = [
    "all_requests",
    "cloud_pc_detail",
    "cloud_pc_restart",
    "customer_requests",
    "internal_queue",
    "my_requests",
    "request_answer",
    "request_ask",
    "request_cancel",
    "request_create",
    "request_decide",
    "request_detail",
    "request_emergency",
    "request_evidence",
    "request_extend",
    "request_review",
    "request_revoke",
    "request_state",
    "ticket_close",
    "ticket_detail",
    "ticket_list",
]
