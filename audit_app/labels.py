"""Friendly names for the audit log's stored values ("Request approved" for RequestApproved).
The stored values never change (they are the API's and the exports' words); only what a person
reads does, and the exact value is always shown beside it."""

import re

from .models import Operation, RecordType

_SPECIAL = {
    RecordType.LOCKBOX: "Windows 365 Customer Lockbox",
    RecordType.SETTINGS: "Customer Lockbox settings",
    RecordType.SIGN_IN: "Lockbox sign-in",
    Operation.REQUEST_AUTO_APPROVED: "Request approved automatically",
    Operation.OPERATOR_ACTION: "Engineer action on a Cloud PC",
    Operation.SIGN_IN_FAILED: "Sign-in failed",
    Operation.SIGN_IN_UNLOCKED: "Sign-in unlocked",
    Operation.SIGN_IN_LOCKED_OUT: "Sign-in locked out",
    Operation.LOCKBOX_SETTING_CHANGED: "Customer Lockbox setting changed",
    Operation.INFORMATION_REQUESTED: "More information requested",
}


def friendly(value: str) -> str:
    """RequestInternallyApproved -> "Request internally approved"."""
    if value in _SPECIAL:
        return _SPECIAL[value]
    words = re.findall(r"[A-Z][a-z0-9]*", value)
    if not words:
        return value
    return " ".join([words[0]] + [word.lower() for word in words[1:]])


RECORD_TYPE_LABELS = [(value, friendly(value)) for value in RecordType.values]
OPERATION_LABELS = sorted(
    ((value, friendly(value)) for value in Operation.values), key=lambda pair: pair[1]
)

# Cloud PC diagnostics as an administrator reads them.
DIAGNOSTIC_LABELS = {
    "os": ("Operating system", ""),
    "cpu_percent": ("CPU use", " %"),
    "memory_gb": ("Memory", " GB"),
    "disk_free_gb": ("Free disk space", " GB"),
    "last_boot": ("Last started", ""),
    "agent_health": ("Agent health", ""),
}


def diagnostic_rows(diagnostics: dict) -> list[tuple[str, str]]:
    rows = []
    for key, value in diagnostics.items():
        label, unit = DIAGNOSTIC_LABELS.get(key, (key.replace("_", " ").capitalize(), ""))
        shown = str(value).capitalize() if isinstance(value, str) and value.islower() else value
        rows.append((label, f"{shown}{unit}"))
    return rows
