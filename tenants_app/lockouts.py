"""Sign-in lockouts as django-axes records them (its database handler): read here, ended here.

Axes counts failures per combination of its lockout parameters (today user name + address),
for `AXES_COOLOFF_TIME` after the latest failure; a user is locked out while any combination
that includes the user name has reached `AXES_FAILURE_LIMIT`.
"""

from axes.conf import settings as axes_settings
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from axes.utils import reset
from django.db.models import Sum
from django.utils import timezone

# Axes' parameter names -> AccessAttempt columns.
_COLUMNS = {"username": "username", "ip_address": "ip_address", "user_agent": "user_agent"}


def _user_groupings() -> list[tuple[str, ...]]:
    """The lockout parameter combinations that lock a user name (an address alone does not)."""
    groupings = []
    for parameter in axes_settings.AXES_LOCKOUT_PARAMETERS:
        names = (parameter,) if isinstance(parameter, str) else tuple(parameter)
        if "username" in names and all(name in _COLUMNS for name in names):
            groupings.append(tuple(_COLUMNS[name] for name in names))
    return groupings


def _live_attempts(usernames):
    attempts = AccessAttempt.objects.filter(username__in=list(usernames))
    cool_off = get_cool_off()
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    return attempts


def locked_out_usernames(usernames) -> set[str]:
    """Which of these user names are locked out now (one query per lockout combination)."""
    usernames = list(usernames)
    limit = axes_settings.AXES_FAILURE_LIMIT
    if not usernames or not isinstance(limit, int):
        return set()
    locked: set[str] = set()
    for columns in _user_groupings():
        rows = (
            _live_attempts(usernames)
            .order_by()
            .values(*columns)
            .annotate(failures=Sum("failures_since_start"))
            .filter(failures__gte=limit)
        )
        locked.update(row["username"] for row in rows)
    return locked


def failed_sign_in_addresses(username: str) -> list[str]:
    """The addresses with failed sign-ins still counted against this user name."""
    rows = _live_attempts([username]).order_by().values_list("ip_address", flat=True).distinct()
    return sorted(str(address) for address in rows if address)


def failed_sign_ins_clear(username: str) -> int:
    """Forget every failed sign-in of this user name, which ends its lockout; returns rows."""
    return reset(username=username)
