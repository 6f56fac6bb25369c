"""Who may do what: the one place that maps Django groups to capabilities in a tenant."""

import json
from enum import StrEnum

from lockbox_site.compiled import Compiled
from lockbox_site.errors import NotAllowed

GLOBAL_ADMIN = "Global Administrator"
APPROVER = "Customer Lockbox Access Approver"
AUDIT_READER = "Audit Reader"
SUPPORT_ENGINEER = "Support Engineer"
SUPPORT_MANAGER = "Support Manager"

CUSTOMER_GROUPS = (GLOBAL_ADMIN, APPROVER, AUDIT_READER)
PROVIDER_GROUPS = (SUPPORT_ENGINEER, SUPPORT_MANAGER)
ALL_GROUPS = CUSTOMER_GROUPS + PROVIDER_GROUPS


class Cap(StrEnum):
    MANAGE_LOCKBOX_SETTING = "manage_lockbox_setting"
    VIEW_REQUESTS = "view_requests"
    DECIDE_REQUESTS = "decide_requests"
    SEARCH_AUDIT = "search_audit"
    MANAGE_RETENTION = "manage_retention"
    VIEW_CLOUD_PCS = "view_cloud_pcs"
    MANAGE_WEBHOOKS = "manage_webhooks"
    MANAGE_ROLES = "manage_roles"
    OPEN_TICKETS = "open_tickets"
    REQUEST_ACCESS = "request_access"
    DECIDE_INTERNALLY = "decide_internally"
    CLOSE_ANY_TICKET = "close_any_ticket"


_CUSTOMER, _PROVIDER = "customer", "provider"

# capability -> (tenant kind, groups that hold it). A group only counts in a tenant of its kind.
CAPABILITIES: dict[Cap, tuple[str, frozenset[str]]] = {
    Cap.MANAGE_LOCKBOX_SETTING: (_CUSTOMER, frozenset({GLOBAL_ADMIN})),
    Cap.VIEW_REQUESTS: (_CUSTOMER, frozenset({GLOBAL_ADMIN, APPROVER})),
    Cap.DECIDE_REQUESTS: (_CUSTOMER, frozenset({GLOBAL_ADMIN, APPROVER})),
    Cap.SEARCH_AUDIT: (_CUSTOMER, frozenset({GLOBAL_ADMIN, AUDIT_READER})),
    Cap.MANAGE_RETENTION: (_CUSTOMER, frozenset({GLOBAL_ADMIN})),
    Cap.VIEW_CLOUD_PCS: (_CUSTOMER, frozenset({GLOBAL_ADMIN})),
    Cap.MANAGE_WEBHOOKS: (_CUSTOMER, frozenset({GLOBAL_ADMIN})),
    Cap.MANAGE_ROLES: (_CUSTOMER, frozenset({GLOBAL_ADMIN})),
    Cap.OPEN_TICKETS: (_PROVIDER, frozenset({SUPPORT_ENGINEER})),
    Cap.REQUEST_ACCESS: (_PROVIDER, frozenset({SUPPORT_ENGINEER})),
    Cap.DECIDE_INTERNALLY: (_PROVIDER, frozenset({SUPPORT_MANAGER})),
    Cap.CLOSE_ANY_TICKET: (_PROVIDER, frozenset({SUPPORT_MANAGER})),
}


def roles_of_kind(kind: str) -> tuple[str, ...]:
    """The groups that are roles in a tenant of this kind (SPEC section 1)."""
    return CUSTOMER_GROUPS if kind == _CUSTOMER else PROVIDER_GROUPS


def _groups_of(user_id):
    from django.contrib.auth.models import Group  # not at import: roles loads before the apps

    return Group.objects.filter(user=user_id).only("name")


# Read on every request that checks a capability: compiled once (lockbox_site.compiled).
_GROUPS = Compiled(_groups_of)


# The attribute a query annotated by with_group_names gives each row.
GROUP_NAMES = "lockbox_group_names"


def with_group_names(queryset, user_ref: str = "pk"):
    """The QuerySet with the user's group names as one more column of its row: every request
    loads its user and then checks a capability, and this saves the groups' own statement
    (issue 17). On a database without the aggregate it stays a separate read."""
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.db.models import F, Func, OuterRef, Subquery, TextField

    names = Group.objects.filter(user=OuterRef(user_ref)).order_by()
    if connection.vendor == "postgresql":
        from django.contrib.postgres.expressions import ArraySubquery

        column = ArraySubquery(names.values("name"))
    elif connection.vendor == "sqlite":
        aggregate = Func(F("name"), function="json_group_array", output_field=TextField())
        column = Subquery(names.values(all=aggregate))
    else:
        return queryset
    return queryset.annotate(**{GROUP_NAMES: column})


def remember_groups(user, row) -> None:
    """Keep the group names a with_group_names row carries as the user's groups."""
    names = getattr(row, GROUP_NAMES, None)
    if names is None:  # not annotated (another database): group_names reads them
        return
    if isinstance(names, str):  # SQLite's JSON array
        names = json.loads(names)
    user._lockbox_groups = frozenset(names)


def group_names(user) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_lockbox_groups", None)
    if cached is None:
        cached = frozenset(group.name for group in _GROUPS.rows(user.pk))
        user._lockbox_groups = cached
    return cached


def can(user, cap: Cap) -> bool:
    kind, groups = CAPABILITIES[cap]
    if not getattr(user, "is_authenticated", False) or user.tenant.kind != kind:
        return False
    return bool(group_names(user) & groups)


def capabilities(user) -> frozenset[Cap]:
    return frozenset(cap for cap in Cap if can(user, cap))


def is_provider(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.tenant.kind == _PROVIDER


def require(user, cap: Cap, message: str | None = None) -> None:
    if not can(user, cap):
        raise NotAllowed(message or "You do not have permission to perform this action.")


def require_staff(user, permission: str) -> None:
    """Provider staff in the Django admin: active, staff, and holding the model permission."""
    if not (
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_staff
        and user.has_perm(permission)
    ):
        raise NotAllowed("Only staff with permission to change this may do it in the admin.")
