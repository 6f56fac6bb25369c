"""ListApprovalRequests' page tokens: a keyset over (created_at, id), the list's own order.

The token is base64url JSON of {parent, filter, last created_at, last id}: it does not expire,
is not tied to pageSize, and a request created between two pages cannot repeat an item.
"""

import base64
import binascii
import json
from datetime import datetime

from django.db.models import Q

from .errors import invalid

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


def page_size(raw: str | None) -> int:
    if raw in (None, ""):
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise invalid("pageSize must be a whole number.", "INVALID_PAGE_SIZE") from None
    if size < 0:
        raise invalid("pageSize must not be negative.", "INVALID_PAGE_SIZE")
    return min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode(*, parent: str, filter_name: str, last) -> str:
    data = {"p": parent, "f": filter_name, "c": last.created_at.isoformat(), "i": last.pk}
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def after(token: str, *, parent: str, filter_name: str) -> Q:
    """The condition for the items after the token's; INVALID_ARGUMENT if it is not one of ours
    or was made for another parent or filter."""
    bad = invalid("pageToken is not valid for this parent and filter.", "INVALID_PAGE_TOKEN")
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        created_at = datetime.fromisoformat(data["c"])
        last_id = data["i"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(data, dict) or not isinstance(last_id, int) or created_at.tzinfo is None:
        raise bad
    if data.get("p") != parent or data.get("f") != filter_name:
        raise bad
    return Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=last_id)
