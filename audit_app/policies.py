"""Retention-policy services: every change validated and audited (CustomerLockboxSettings)."""

from django.db import IntegrityError, transaction

from lockbox_site.errors import InvalidInput, NotFound
from lockbox_site.ids import as_id
from tenants_app.mfa import require_step_up
from tenants_app.models import Tenant
from tenants_app.roles import Cap, require

from .models import Operation, RecordType, RetentionPolicy
from .refusals import actor_tenant, refusals_audited
from .services import audit_record

# As many as Microsoft Purview allows a tenant.
MAX_POLICIES_PER_TENANT = 50
FIELDS = ("name", "description", "record_types", "operations", "duration", "priority")


def _clean(data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    clean = {}
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = ["This field is required."]
    elif len(name) > 100:
        errors["name"] = ["At most 100 characters."]
    else:
        clean["name"] = name.strip()
    description = data.get("description") or ""
    if not isinstance(description, str) or len(description) > 500:
        errors["description"] = ["Text of at most 500 characters."]
    else:
        clean["description"] = description.strip()
    for field, allowed in (("record_types", RecordType.values), ("operations", Operation.values)):
        value = data.get(field) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors[field] = ["A list of names."]
            continue
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            errors[field] = [f"Unknown: {', '.join(unknown)}."]
        clean[field] = sorted(set(value))
    if data.get("duration") not in RetentionPolicy.Duration.values:
        errors["duration"] = [f"One of {', '.join(RetentionPolicy.Duration.values)}."]
    else:
        clean["duration"] = data["duration"]
    priority = data.get("priority")
    if isinstance(priority, str) and priority.strip().isdigit():
        priority = int(priority)
    if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 10000:
        errors["priority"] = ["A whole number from 1 to 10000."]
    else:
        clean["priority"] = priority
    if errors:
        raise InvalidInput("The retention policy is not valid.", errors)
    return clean


def _check_unique(tenant_id: int, clean: dict, exclude_pk=None) -> None:
    others = RetentionPolicy.objects.filter(tenant_id=tenant_id).exclude(pk=exclude_pk)
    errors = {}
    if others.filter(priority=clean["priority"]).exists():
        errors["priority"] = ["Another policy already has this priority."]
    if others.filter(name=clean["name"]).exists():
        errors["name"] = ["Another policy already has this name."]
    if errors:
        raise InvalidInput("The retention policy is not valid.", errors)


def _snapshot(policy: RetentionPolicy) -> dict:
    return {field: getattr(policy, field) for field in FIELDS}


def _audit(policy, *, actor, operation, client_ip, **details):
    audit_record(
        tenant_id=policy.tenant_id,
        actor=actor,
        record_type=RecordType.SETTINGS,
        operation=operation,
        object_type="RetentionPolicy",
        object_id=policy.pk,
        details={"name": policy.name, **details},
        client_ip=client_ip,
    )


def _save_unique(policy: RetentionPolicy, **kwargs) -> None:
    try:
        with transaction.atomic():
            policy.save(**kwargs)
    except IntegrityError:  # a concurrent save took the name or priority after our check
        raise InvalidInput(
            "The retention policy is not valid.",
            {"priority": ["Another policy already has this name or priority."]},
        ) from None


def _policy_of_actor(kwargs):
    # The id as a number: "1", "01" and "001" are one policy, and so one refusal record.
    actor, policy_id = kwargs["actor"], as_id(kwargs["policy_id"])
    if not RetentionPolicy.objects.filter(pk=policy_id, tenant_id=actor.tenant_id).exists():
        return None
    return actor.tenant_id, policy_id, {}


@refusals_audited(
    operation=Operation.RETENTION_POLICY_CREATED, object_type="RetentionPolicy", locate=actor_tenant
)
@transaction.atomic
def retention_policy_create(*, actor, data: dict, client_ip=None) -> RetentionPolicy:
    require(actor, Cap.MANAGE_RETENTION, "Only a Global Administrator manages retention policies.")
    require_step_up(actor, actor.tenant)
    clean = _clean(data)
    # The tenant's row lock serialises its creates, so two at once cannot both see 49 and make
    # 51 (on SQLite the IMMEDIATE transaction already holds the database's write lock).
    Tenant.objects.select_for_update().only("pk").get(pk=actor.tenant_id)
    if RetentionPolicy.objects.filter(tenant_id=actor.tenant_id).count() >= MAX_POLICIES_PER_TENANT:
        raise InvalidInput(
            f"A tenant can have at most {MAX_POLICIES_PER_TENANT} retention policies."
        )
    _check_unique(actor.tenant_id, clean)
    policy = RetentionPolicy(tenant_id=actor.tenant_id, **clean)
    _save_unique(policy)
    _audit(
        policy,
        actor=actor,
        operation=Operation.RETENTION_POLICY_CREATED,
        client_ip=client_ip,
        new_value=_snapshot(policy),
    )
    return policy


def _lock_policy(actor, policy_id) -> RetentionPolicy:
    try:
        return RetentionPolicy.objects.select_for_update().get(
            pk=policy_id, tenant_id=actor.tenant_id
        )
    except (RetentionPolicy.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such retention policy.") from None


@refusals_audited(
    operation=Operation.RETENTION_POLICY_UPDATED,
    object_type="RetentionPolicy",
    locate=_policy_of_actor,
)
@transaction.atomic
def retention_policy_update(*, actor, policy_id, data: dict, partial=False, client_ip=None):
    require(actor, Cap.MANAGE_RETENTION, "Only a Global Administrator manages retention policies.")
    require_step_up(actor, actor.tenant)
    policy = _lock_policy(actor, policy_id)
    old = _snapshot(policy)
    merged = {**old, **data} if partial else data
    clean = _clean(merged)
    _check_unique(actor.tenant_id, clean, exclude_pk=policy.pk)
    for field, value in clean.items():
        setattr(policy, field, value)
    new = _snapshot(policy)
    if new == old:
        return policy
    _save_unique(policy)
    _audit(
        policy,
        actor=actor,
        operation=Operation.RETENTION_POLICY_UPDATED,
        client_ip=client_ip,
        old_value=old,
        new_value=new,
    )
    return policy


@refusals_audited(
    operation=Operation.RETENTION_POLICY_DELETED,
    object_type="RetentionPolicy",
    locate=_policy_of_actor,
)
@transaction.atomic
def retention_policy_delete(*, actor, policy_id, client_ip=None) -> None:
    require(actor, Cap.MANAGE_RETENTION, "Only a Global Administrator manages retention policies.")
    require_step_up(actor, actor.tenant)
    policy = _lock_policy(actor, policy_id)
    _audit(
        policy,
        actor=actor,
        operation=Operation.RETENTION_POLICY_DELETED,
        client_ip=client_ip,
        old_value=_snapshot(policy),
    )
    policy.delete()
