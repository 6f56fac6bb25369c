"""Who holds which role in a tenant, and sign-in unlock: the one writer of both.

A customer's Global Administrator manages the users of their own tenant (the `Settings` >
`Roles` page, the users API); provider staff do it in the Django admin for any tenant
(`as_staff=True`). Either way every role added or removed is audited in the user's tenant.

Lock order: tenant row -> user row -> audit chain head (taken by `audit_record`). Every role
change of a tenant first locks that tenant's row, so the Global Administrators counted below
cannot change under us: two last administrators removing themselves at once queue, and the
second is refused.
"""

from django.contrib.auth.models import Group
from django.db import transaction

from audit_app.models import Operation, RecordType
from audit_app.refusals import refusals_audited
from audit_app.services import audit_record
from lockbox_site.errors import InvalidInput, InvalidState, NotAllowed, NotFound
from lockbox_site.ids import as_id

from .lockouts import failed_sign_in_addresses, failed_sign_ins_clear
from .mfa import require_step_up
from .models import Tenant, User
from .roles import ALL_GROUPS, GLOBAL_ADMIN, Cap, require, require_staff, roles_of_kind
from .tokens import user_tokens_revoke

STAFF_PERMISSION = "tenants_app.change_user"


def _user_of_actor(kwargs):
    """Where a refused roles change or unlock is audited: the named user's tenant, if the
    actor's own (a made-up or another tenant's id writes nothing)."""
    actor = kwargs["actor"]
    username = (
        User.objects.filter(pk=as_id(kwargs["user_id"]), tenant_id=actor.tenant_id)
        .values_list("username", flat=True)
        .first()
    )
    if username is None:
        return None
    return actor.tenant_id, username, {"user": username}


def _check_actor(actor, as_staff: bool) -> None:
    if as_staff:
        require_staff(actor, STAFF_PERMISSION)
    else:
        require(actor, Cap.MANAGE_ROLES, "Only a Global Administrator can manage roles.")


def _find_user(actor, user_id, as_staff: bool) -> User:
    """The user, if the actor may manage it: another tenant's user is a 404 (not a 403)."""
    users = User.objects.all() if as_staff else User.objects.filter(tenant_id=actor.tenant_id)
    try:
        return users.get(pk=user_id)
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such user.") from None


def _wanted_roles(roles, tenant: Tenant) -> set[str]:
    if not isinstance(roles, list | tuple | set | frozenset) or not all(
        isinstance(role, str) for role in roles
    ):
        raise InvalidInput("Roles must be a list of role names.", {"roles": ["Not a list."]})
    allowed = roles_of_kind(tenant.kind)
    errors = []
    for role in sorted(set(roles)):
        if role not in ALL_GROUPS:
            errors.append(f"{role!r} is not a role.")
        elif role not in allowed:
            errors.append(f"{role!r} is not a role in a {tenant.kind} tenant.")
    if errors:
        raise InvalidInput(" ".join(errors), {"roles": errors})
    return set(roles)


def _other_active_global_admins(tenant: Tenant, user: User) -> bool:
    return (
        User.objects.filter(tenant=tenant, is_active=True, groups__name=GLOBAL_ADMIN)
        .exclude(pk=user.pk)
        .exists()
    )


def user_roles_diff(*, user: User, roles, tenant: Tenant | None = None) -> tuple[set, set]:
    """(added, removed) if the user's roles became `roles`; refuses a change that may not be.

    The service calls it under its locks; the admin form calls it early for a friendly error.
    A customer tenant always keeps an active Global Administrator, so the last one cannot
    remove their own role (nor can staff remove it for them).
    """
    tenant = tenant or user.tenant
    wanted = _wanted_roles(roles, tenant)
    current = set(user.groups.values_list("name", flat=True))
    added, removed = wanted - current, current - wanted
    if (
        GLOBAL_ADMIN in removed
        and tenant.is_customer
        and user.is_active
        and not _other_active_global_admins(tenant, user)
    ):
        raise InvalidState(
            "This is the tenant's last Global Administrator: make someone else a Global "
            "Administrator before removing this role.",
            {"roles": [f"{GLOBAL_ADMIN} cannot be removed from the last Global Administrator."]},
        )
    return added, removed


def _role_groups(names: set[str]) -> list[Group]:
    # The groups come from a migration; get_or_create keeps a hand-deleted one from breaking this.
    return [Group.objects.get_or_create(name=name)[0] for name in sorted(names)]


@refusals_audited(operation=Operation.ROLE_ASSIGNED, object_type="User", locate=_user_of_actor)
@transaction.atomic
def user_roles_set(
    *, actor, user_id, roles, client_ip: str | None = None, as_staff: bool = False
) -> User:
    """Replace the user's roles with `roles`; each role added or removed is one audit record."""
    _check_actor(actor, as_staff)
    found = _find_user(actor, user_id, as_staff)
    tenant = Tenant.objects.select_for_update().get(pk=found.tenant_id)
    user = User.objects.select_for_update().get(pk=found.pk)
    if user.tenant_id != tenant.pk:  # moved to another tenant since we looked
        raise NotFound("No such user.")
    if not as_staff and not (
        User.objects.filter(
            pk=actor.pk, tenant=tenant, is_active=True, groups__name=GLOBAL_ADMIN
        ).exists()
    ):
        # Re-read under the tenant lock: another administrator may have just removed ours.
        raise NotAllowed("Only a Global Administrator can manage roles.")
    if not as_staff:
        require_step_up(actor, tenant)
    added, removed = user_roles_diff(user=user, roles=roles, tenant=tenant)
    if not added and not removed:
        return user
    user.groups.remove(*_role_groups(removed))
    user.groups.add(*_role_groups(added))
    changes = [(Operation.ROLE_ASSIGNED, role) for role in sorted(added)]
    changes += [(Operation.ROLE_REMOVED, role) for role in sorted(removed)]
    for operation, role in changes:
        audit_record(
            tenant_id=tenant.pk,
            actor=actor,
            record_type=RecordType.SETTINGS,
            operation=operation,
            object_type="User",
            object_id=user.username,
            details={"user": user.username, "role": role},
            client_ip=client_ip,
        )
    if not user.groups.exists():
        # SPEC 8: a user left with no role keeps no API token (in this transaction, so a
        # refused or failed change revokes nothing).
        user_tokens_revoke(user)
    actor.__dict__.pop("_lockbox_groups", None)  # the actor may be this user
    return user


@refusals_audited(
    operation=Operation.SIGN_IN_UNLOCKED,
    object_type="User",
    locate=_user_of_actor,
    record_type=RecordType.SIGN_IN,
)
@transaction.atomic
def user_unlock(*, actor, user_id, client_ip: str | None = None, as_staff: bool = False) -> User:
    """End the user's sign-in lockout by forgetting its failed sign-ins; audited if any counted."""
    _check_actor(actor, as_staff)
    found = _find_user(actor, user_id, as_staff)
    if not as_staff:
        require_step_up(actor, actor.tenant)
    # Two administrators unlocking at once: the second finds nothing left and writes nothing.
    user = User.objects.select_for_update().get(pk=found.pk)
    addresses = failed_sign_in_addresses(user.username)
    failed_sign_ins_clear(user.username)
    if addresses:
        audit_record(
            tenant_id=user.tenant_id,
            actor=actor,
            record_type=RecordType.SIGN_IN,
            operation=Operation.SIGN_IN_UNLOCKED,
            object_type="User",
            object_id=user.username,
            details={"user": user.username, "addresses": addresses},
            client_ip=client_ip,
        )
    return user


@transaction.atomic
def user_active_set(*, actor, user_id, active: bool, client_ip: str | None = None) -> User:
    """Provider staff deactivate or reactivate a user (the admin); audited in the user's tenant.

    Deactivation ends the user's API tokens (the User save signal) and cannot leave a customer
    tenant without an active Global Administrator.
    """
    require_staff(actor, STAFF_PERMISSION)
    found = _find_user(actor, user_id, as_staff=True)
    tenant = Tenant.objects.select_for_update().get(pk=found.tenant_id)
    user = User.objects.select_for_update().get(pk=found.pk)
    active = bool(active)
    if user.is_active == active:
        return user
    if (
        not active
        and tenant.kind == Tenant.Kind.CUSTOMER
        and user.groups.filter(name=GLOBAL_ADMIN).exists()
        and not _other_active_global_admins(tenant, user)
    ):
        raise InvalidState(
            f"{user.username} is the last active Global Administrator of {tenant.name}."
        )
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record(
        tenant_id=tenant.pk,
        actor=actor,
        record_type=RecordType.SETTINGS,
        operation=Operation.USER_REACTIVATED if active else Operation.USER_DEACTIVATED,
        object_type="User",
        object_id=user.username,
        details={"user": user.username, "old_value": not active, "new_value": active},
        client_ip=client_ip,
    )
    return user
