"""The tenant's Lockbox policy (SPEC section 9): its bounds, defaults, validation, and the
effective values the request transitions read (`tenant_policy`).

Pure: no model imports, so models (defaults, check constraints), services and the API can all
use it without a cycle.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

# The SPEC's bounds. The deployment's own duration bounds (LOCKBOX_MIN/MAX_ACCESS_MINUTES) narrow
# max_access_minutes further, see access_minutes_bounds().
APPROVALS = (1, 3)
PENDING_TTL_HOURS = (1, 72)
ACCESS_MINUTES = (15, 480)
MAX_NOTIFICATION_EMAILS = 20
EMAIL_MAX_LENGTH = 254  # RFC 5321's path limit

# Field name -> the label the Customer Lockbox panel shows; also the `setting` of the audit
# record, as the `enabled` record has always been. The order is the order records are written.
LABELS = {
    "enabled": "Require approval for all data access requests",
    "required_approvals": "Number of approvals required",
    "pending_ttl_hours": "Time to decide (hours)",
    "max_access_minutes": "Longest access (minutes)",
    "require_decision_comment": "Require a comment to deny or revoke",
    "allow_emergency_access": "Allow emergency access",
    "notification_emails": "Also notify these addresses",
    "require_mfa_for_decisions": "Require a verified authenticator code for decisions and settings",
}
POLICY_FIELDS = tuple(name for name in LABELS if name != "enabled")


def _clamp(value: int, bounds: tuple[int, int]) -> int:
    return max(bounds[0], min(bounds[1], value))


def default_pending_ttl_hours() -> int:
    """LOCKBOX_PENDING_TTL_MINUTES in whole hours, rounded up, within the SPEC's 1-72."""
    return _clamp(math.ceil(settings.LOCKBOX_PENDING_TTL_MINUTES / 60), PENDING_TTL_HOURS)


def access_minutes_bounds() -> tuple[int, int]:
    """The SPEC's 15-480 within the deployment's own bounds of `duration_minutes`."""
    low = max(ACCESS_MINUTES[0], settings.LOCKBOX_MIN_ACCESS_MINUTES)
    high = min(ACCESS_MINUTES[1], settings.LOCKBOX_MAX_ACCESS_MINUTES)
    return (low, max(low, high))


def default_max_access_minutes() -> int:
    return _clamp(settings.LOCKBOX_MAX_ACCESS_MINUTES, access_minutes_bounds())


@dataclass(frozen=True)
class Policy:
    """A tenant's effective Lockbox policy at one moment (what the transitions enforce)."""

    enabled: bool
    required_approvals: int
    pending_ttl_hours: int
    max_access_minutes: int
    require_decision_comment: bool
    allow_emergency_access: bool
    notification_emails: tuple[str, ...]
    require_mfa_for_decisions: bool = False


def tenant_policy(tenant) -> Policy:
    """The tenant's policy as enforced now.

    Values are stored explicitly (validated on the way in, checked by the database), so only a
    deployment that narrowed its duration bounds since can make a stored value stricter here:
    the deployment's bound wins, as it does for every request.
    """
    return Policy(
        enabled=bool(tenant.lockbox_enabled),
        required_approvals=_clamp(tenant.required_approvals, APPROVALS),
        pending_ttl_hours=_clamp(tenant.pending_ttl_hours, PENDING_TTL_HOURS),
        max_access_minutes=_clamp(tenant.max_access_minutes, access_minutes_bounds()),
        require_decision_comment=bool(tenant.require_decision_comment),
        allow_emergency_access=bool(tenant.allow_emergency_access),
        notification_emails=tuple(tenant.notification_emails or ()),
        require_mfa_for_decisions=bool(tenant.require_mfa_for_decisions),
    )


def _boolean(value) -> tuple[bool | None, list[str]]:
    if isinstance(value, bool):
        return value, []
    return None, ["Must be true or false."]


def _integer(bounds: Callable[[], tuple[int, int]]) -> Callable:
    def check(value) -> tuple[int | None, list[str]]:
        low, high = bounds()
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return None, [f"Enter a whole number from {low} to {high}."]
        return value, []

    return check


def _emails(value) -> tuple[list[str] | None, list[str]]:
    if not isinstance(value, list | tuple):
        return None, ["Enter a list of e-mail addresses."]
    if len(value) > MAX_NOTIFICATION_EMAILS:
        return None, [f"Enter at most {MAX_NOTIFICATION_EMAILS} addresses ({len(value)} given)."]
    clean, seen, errors = [], set(), []
    for item in value:
        address = item.strip() if isinstance(item, str) else ""
        shown = repr((item if isinstance(item, str) else str(item))[:80])
        try:
            if not address or len(address) > EMAIL_MAX_LENGTH:
                raise ValidationError("too long or empty")
            validate_email(address)
        except ValidationError:
            errors.append(f"{shown} is not a valid e-mail address.")
            continue
        # Mailboxes are case-insensitive in practice: the same address twice is a mistake.
        if address.lower() in seen:
            errors.append(f"{shown} is listed more than once.")
            continue
        seen.add(address.lower())
        clean.append(address)
    return (None, errors) if errors else (clean, [])


CHECKS = {
    "enabled": _boolean,
    "required_approvals": _integer(lambda: APPROVALS),
    "pending_ttl_hours": _integer(lambda: PENDING_TTL_HOURS),
    "max_access_minutes": _integer(access_minutes_bounds),
    "require_decision_comment": _boolean,
    "allow_emergency_access": _boolean,
    "notification_emails": _emails,
    "require_mfa_for_decisions": _boolean,
}


def policy_validate(changes: dict) -> tuple[dict, dict[str, list[str]]]:
    """Check each given field's value: (clean values, {field: [messages]}); nothing is clean
    while anything is wrong, so a change is all or nothing.

    Types are strict (JSON true/false, whole numbers, a list of strings): a typo in a security
    setting must be refused, not coerced.
    """
    clean, errors = {}, {}
    for name, value in changes.items():
        check = CHECKS.get(name)
        if check is None:
            errors[name] = ["Unknown setting."]
            continue
        clean[name], messages = check(value)
        if messages:
            errors[name] = messages
    return ({} if errors else clean), errors
