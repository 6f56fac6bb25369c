"""The audit pages, one module per resource; urls.py reaches them through these names."""

from .records import COUNT_LIMIT, PAGE_SIZE, export, record_detail, search
from .retention import policies, policy_create, policy_delete, policy_edit

__all__ = [
    "COUNT_LIMIT",
    "PAGE_SIZE",
    "export",
    "policies",
    "policy_create",
    "policy_delete",
    "policy_edit",
    "record_detail",
    "search",
]
