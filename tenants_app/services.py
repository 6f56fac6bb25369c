import logging

from django.db import transaction
from django.utils import timezone

from audit_app.models import AuditRecord, Operation, RecordType
from audit_app.refusals import actor_tenant, refusals_audited
from audit_app.services import audit_record
from lockbox_site.errors import InvalidInput, NotFound

from . import policy
from .mfa import has_authenticator, require_step_up
from .models import Tenant, User
from .roles import Cap, require, require_staff

logger = logging.getLogger(__name__)


class LockboxUnavailable(InvalidInput):
    """The tenant's plan has no Customer Lockbox (400 on /api/v1/; a failed precondition on
    the Access Approval surface, INTEROP-GOOGLE 9)."""


UNAVAILABLE = (
    "Customer Lockbox is not available on your plan. It is included in E5, "
    "or with the compliance add-on on other plans."
)


@refusals_audited(
    operation=Operation.LOCKBOX_SETTING_CHANGED, object_type="Tenant", locate=actor_tenant
)
@transaction.atomic
def lockbox_setting_change(
    *, actor, client_ip: str | None = None, changes: dict | None = None, **fields
) -> Tenant:
    """Change the tenant's Customer Lockbox setting and policy (SPEC 5 and 9) in one step.

    `changes` (a client's dict, whatever its keys) and `fields` (keywords, e.g. `enabled=False`)
    hold any of `enabled` and the policy fields of tenants_app.policy.LABELS; the ones not
    given stay as they are. Every value is checked first (one InvalidInput naming
    each bad field, nothing written); then each field whose value changes gets its own
    `LockboxSettingChanged` record with its old and new value, in the same transaction. A
    change that changes nothing writes nothing.
    """
    require(actor, Cap.MANAGE_LOCKBOX_SETTING)
    changes = {**(changes or {}), **fields}
    if not changes:
        raise InvalidInput("Give at least one setting to change.")
    clean, errors = policy.policy_validate(changes)
    if errors:
        summary = " ".join(
            f"{policy.LABELS.get(name, name)}: {' '.join(messages)}"
            for name, messages in errors.items()
        )
        raise InvalidInput(summary, errors)
    tenant = Tenant.objects.select_for_update().get(pk=actor.tenant_id)
    require_step_up(actor, tenant)  # as the setting stands: turning it on needs no code yet
    if clean.get("enabled") and not tenant.lockbox_available:
        raise LockboxUnavailable(UNAVAILABLE)
    if clean.get("require_mfa_for_decisions") and not tenant.require_mfa_for_decisions:
        if not has_authenticator(actor):
            raise InvalidInput(
                "Enrol an authenticator first (My account > Security): with this on, your "
                "next change will ask for one of its codes.",
                {"require_mfa_for_decisions": ["Enrol an authenticator first."]},
            )
    old = {name: _current(tenant, name) for name in clean}
    changed = [name for name in policy.LABELS if name in clean and clean[name] != old[name]]
    if not changed:
        return tenant
    if not tenant.lockbox_available and not tenant.lockbox_enabled:
        # Nothing would enforce the policy; the panel is closed for the same reason.
        raise LockboxUnavailable(UNAVAILABLE)
    for name in changed:
        setattr(tenant, _column(name), clean[name])
    tenant.lockbox_updated_at = timezone.now()
    tenant.lockbox_updated_by = actor
    tenant.save(update_fields=[*map(_column, changed), "lockbox_updated_at", "lockbox_updated_by"])
    for name in changed:
        audit_record(
            tenant_id=tenant.pk,
            actor=actor,
            record_type=RecordType.SETTINGS,
            operation=Operation.LOCKBOX_SETTING_CHANGED,
            object_type="Tenant",
            object_id=tenant.slug,
            details={
                "setting": policy.LABELS[name],
                "field": name,
                "old_value": old[name],
                "new_value": clean[name],
            },
            client_ip=client_ip,
        )
    return tenant


def _column(name: str) -> str:
    return "lockbox_enabled" if name == "enabled" else name


def _current(tenant, name: str):
    value = getattr(tenant, _column(name))
    return list(value) if name == "notification_emails" else value


@transaction.atomic
def tenant_plan_change(
    *, actor, tenant_id, plan: str, compliance_addon: bool, client_ip: str | None = None
) -> Tenant:
    """Provider staff change a tenant's plan or add-on (the admin); audited in that tenant.

    The Lockbox setting is left as it is: a downgrade must not quietly drop a customer's
    protection, and the record says whether Customer Lockbox is still available.
    """
    require_staff(actor, "tenants_app.change_tenant")
    plan = (plan or "").strip()
    if len(plan) > Tenant._meta.get_field("plan").max_length:
        raise InvalidInput("The plan name is too long.", {"plan": ["Too long."]})
    try:
        tenant = Tenant.objects.select_for_update().get(pk=tenant_id)
    except (Tenant.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such tenant.") from None
    old = {"plan": tenant.plan, "compliance_addon": tenant.compliance_addon}
    new = {"plan": plan, "compliance_addon": bool(compliance_addon)}
    if old == new:
        return tenant
    tenant.plan, tenant.compliance_addon = new["plan"], new["compliance_addon"]
    tenant.save(update_fields=["plan", "compliance_addon"])
    audit_record(
        tenant_id=tenant.pk,
        actor=actor,
        record_type=RecordType.SETTINGS,
        operation=Operation.TENANT_PLAN_CHANGED,
        object_type="Tenant",
        object_id=tenant.slug,
        details={
            "old_value": old,
            "new_value": new,
            "lockbox_available": tenant.lockbox_available,
        },
        client_ip=client_ip,
    )
    return tenant


def sign_in_failure_record(
    *, username, client_ip: str | None, channel: str, failures: int | None, limit: int
) -> None:
    """Audit a failed sign-in in the tenant of the account it named (unknown names are logged).

    `failures` is django-axes' count for this user name and address, this attempt included
    (None when axes could not count it). The failures up to `limit` are recorded
    (`SignInFailed`), the attempt that reaches the limit also records the lockout
    (`SignInLockedOut`) once, and the attempts refused during the lockout write nothing: an
    unauthenticated flood must not fill the tenant's log.
    """
    user = None
    if isinstance(username, str) and len(username) <= 150:
        user = User.objects.filter(username=username).select_related("tenant").first()
    if user is None:
        logger.warning("Failed sign-in for unknown user name from %s", client_ip)
        return
    counted = failures is not None
    record = {
        "tenant_id": user.tenant_id,
        "actor": user,
        "record_type": RecordType.SIGN_IN,
        "object_type": "User",
        "object_id": user.username,
        "result": "failure",
        "client_ip": client_ip,
    }
    with transaction.atomic():
        # The user's row lock serialises its concurrent failures, so the check below and the
        # lockout record it guards happen once however many attempts race at the limit.
        User.objects.select_for_update().filter(pk=user.pk).first()
        if not counted or failures <= limit:
            audit_record(operation=Operation.SIGN_IN_FAILED, details={"channel": channel}, **record)
        if counted and failures >= limit and not _lockout_recorded(user, client_ip):
            audit_record(
                operation=Operation.SIGN_IN_LOCKED_OUT,
                details={"channel": channel, "failures": limit},
                **record,
            )


def _lockout_recorded(user, client_ip) -> bool:
    """Whether this lockout is already in the log: the newest sign-in record of this user from
    this address is a lockout (a new lockout always follows new `SignInFailed` records)."""
    newest = (
        AuditRecord.objects.filter(
            tenant_id=user.tenant_id,
            object_id=user.username,
            record_type=RecordType.SIGN_IN,
            operation__in=[Operation.SIGN_IN_FAILED, Operation.SIGN_IN_LOCKED_OUT],
            client_ip=client_ip or None,
        )
        .order_by("-seq")
        .values_list("operation", flat=True)
        .first()
    )
    return newest == Operation.SIGN_IN_LOCKED_OUT
