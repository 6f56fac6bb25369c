"""Single sign-on (SPEC 14): a tenant's provider settings, and the sign-in of a user its
provider vouched for. The one writer of IdentityProvider and of users made just in time.

The provider is asked nothing here: tenants_app.oidc does the network part before these run,
so no transaction or lock is ever held across a call to an identity provider.
"""

import re
from types import SimpleNamespace
from urllib.parse import urlsplit

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from audit_app.models import Operation, RecordType
from audit_app.refusals import actor_tenant, refusals_audited
from audit_app.services import audit_record
from lockbox_site.errors import InvalidInput, NotFound

from .mfa import require_step_up
from .models import IdentityProvider, IdentityProviderDomain, Tenant, User
from .roles import GLOBAL_ADMIN, Cap, require, require_staff, roles_of_kind
from .tokens import user_tokens_revoke

DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_MAPPINGS = 50
SHOWN_FIELDS = ("enabled", "issuer", "client_id", "groups_claim", "role_mapping", "domains")


# Settings


def _issuer(value) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 500:
        raise InvalidInput("Enter the issuer URL.", {"issuer": ["Required."]})
    value = value.strip().rstrip("/")
    parts = urlsplit(value)
    # https only, except a provider on this machine (the demo and the tests).
    if not parts.hostname or not (
        parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)
    ):
        raise InvalidInput("The issuer must be an https:// URL.", {"issuer": ["Use https://."]})
    return value


def _text(name, value, limit, required=True) -> str:
    if not isinstance(value, str) or len(value) > limit or (required and not value.strip()):
        raise InvalidInput(f"Enter the {name.replace('_', ' ')}.", {name: ["Required."]})
    return value.strip()


def _domains(value) -> list[str]:
    if not isinstance(value, list | tuple) or not value or len(value) > 20:
        raise InvalidInput("Give one to 20 e-mail domains.", {"domains": ["One to 20."]})
    clean = []
    for item in value:
        domain = item.strip().lower().lstrip("@") if isinstance(item, str) else ""
        if not DOMAIN.match(domain):
            raise InvalidInput(f"{str(item)[:80]!r} is not a domain.", {"domains": ["Invalid."]})
        if domain not in clean:
            clean.append(domain)
    return clean


def _mapping(value, tenant) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) > MAX_MAPPINGS:
        raise InvalidInput("Map at most 50 groups.", {"role_mapping": ["Not a mapping."]})
    roles = roles_of_kind(tenant.kind)
    for group, role in value.items():
        if not isinstance(group, str) or not group.strip() or len(group) > 200:
            raise InvalidInput("A group name is empty or too long.", {"role_mapping": ["Bad."]})
        if role not in roles:
            message = f"{str(role)[:80]!r} is not a role here; use one of: {', '.join(roles)}."
            raise InvalidInput(message, {"role_mapping": [message]})
    return {group.strip(): role for group, role in value.items()}


def _snapshot(provider: IdentityProvider | None) -> dict:
    if provider is None:
        return {}
    shown = {name: getattr(provider, name) for name in SHOWN_FIELDS if name != "domains"}
    shown["domains"] = sorted(provider.domains.values_list("domain", flat=True))
    return shown


@refusals_audited(
    operation=Operation.SINGLE_SIGN_ON_CHANGED, object_type="Tenant", locate=actor_tenant
)
@transaction.atomic
def identity_provider_set(
    *,
    actor,
    issuer,
    client_id,
    domains,
    role_mapping,
    client_secret: str = "",
    groups_claim: str = "groups",
    enabled: bool = True,
    tenant_id=None,
    as_staff: bool = False,
    client_ip: str | None = None,
) -> IdentityProvider:
    """Set the tenant's OpenID Connect provider: its Global Administrator for its own tenant,
    or staff (`as_staff`, `tenant_id`). Each changed field is its own `SingleSignOnChanged`
    record with old and new value; a new client secret is recorded as changed, never shown.
    A blank `client_secret` keeps the stored one (the form never shows it back)."""
    if as_staff:
        require_staff(actor, "tenants_app.change_tenant")
    else:
        require(actor, Cap.MANAGE_LOCKBOX_SETTING, "Only a Global Administrator sets up SSO.")
        tenant_id = actor.tenant_id
    try:
        tenant = Tenant.objects.select_for_update().get(pk=tenant_id)
    except (Tenant.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such tenant.") from None
    if not as_staff:
        require_step_up(actor, tenant)
    if not tenant.is_customer:
        raise InvalidInput("Single sign-on is for customer tenants.")
    provider = IdentityProvider.objects.filter(tenant=tenant).first()
    secret = client_secret.strip() if isinstance(client_secret, str) else ""
    if provider is None and not secret:
        raise InvalidInput("Enter the client secret.", {"client_secret": ["Required."]})
    if len(secret) > 500:
        raise InvalidInput("The client secret is too long.", {"client_secret": ["Too long."]})
    new = {
        "enabled": bool(enabled),
        "issuer": _issuer(issuer),
        "client_id": _text("client_id", client_id, 255),
        "groups_claim": _text("groups_claim", groups_claim, 100),
        "role_mapping": _mapping(role_mapping, tenant),
        "domains": _domains(domains),
    }
    taken = IdentityProviderDomain.objects.filter(domain__in=new["domains"]).exclude(
        provider__tenant=tenant
    )
    if taken.exists():
        names = ", ".join(sorted(taken.values_list("domain", flat=True)))
        # Which organisation holds it is not this tenant's business.
        message = f"Another organisation signs in with {names}."
        raise InvalidInput(message, {"domains": [message]})
    old = _snapshot(provider)
    provider = provider or IdentityProvider(tenant=tenant)
    secret_changed = bool(secret) and secret != provider.client_secret
    for name in SHOWN_FIELDS:
        if name != "domains":
            setattr(provider, name, new[name])
    if secret:
        provider.client_secret = secret
    provider.updated_at = timezone.now()
    provider.save()
    if old.get("domains") != new["domains"]:
        provider.domains.exclude(domain__in=new["domains"]).delete()
        existing = set(provider.domains.values_list("domain", flat=True))
        IdentityProviderDomain.objects.bulk_create(
            [
                IdentityProviderDomain(provider=provider, domain=d)
                for d in new["domains"]
                if d not in existing
            ]
        )
    changes = [
        {"field": name, "old_value": old.get(name), "new_value": new[name]}
        for name in SHOWN_FIELDS
        if old.get(name) != new[name]
    ]
    if secret_changed:
        changes.append({"field": "client_secret", "changed": True})
    for details in changes:
        audit_record(
            tenant_id=tenant.pk,
            actor=actor,
            record_type=RecordType.SETTINGS,
            operation=Operation.SINGLE_SIGN_ON_CHANGED,
            object_type="Tenant",
            object_id=tenant.slug,
            details=details,
            client_ip=client_ip,
        )
    return provider


def provider_for_email(email: str) -> IdentityProvider | None:
    """The enabled provider whose tenant signs in the address's domain, or None."""
    if not isinstance(email, str) or "@" not in email or len(email) > 254:
        return None
    domain = email.rsplit("@", 1)[1].strip().lower()
    return (
        IdentityProvider.objects.select_related("tenant")
        .filter(enabled=True, domains__domain=domain, tenant__kind=Tenant.Kind.CUSTOMER)
        .first()
    )


# Sign-in


def _claimant(username: str, tenant: Tenant):
    """Who a refused sign-in was for, as the audit record names it (there may be no user)."""
    return SimpleNamespace(username=username[:150] or "(unknown)", tenant=tenant)


def sso_refusal_record(*, provider_id, email: str, code: str, message: str, client_ip=None):
    """Audit a refused single sign-on in the provider's tenant (in a transaction of its own)."""
    provider = IdentityProvider.objects.select_related("tenant").filter(pk=provider_id).first()
    if provider is None:
        return
    user = User.objects.filter(username=email, tenant=provider.tenant).first()
    with transaction.atomic():
        audit_record(
            tenant_id=provider.tenant_id,
            actor=user or _claimant(email, provider.tenant),
            record_type=RecordType.SIGN_IN,
            operation=Operation.SIGN_IN_FAILED,
            object_type="User",
            object_id=email[:150],
            result="failure",
            details={
                "channel": "sso",
                "issuer": provider.issuer,
                "reason": code,
                "message": message,
            },
            client_ip=client_ip,
        )


class SsoRefused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _email_of(claims: dict, provider: IdentityProvider) -> str:
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or claims.get("email_verified") is False:
        raise SsoRefused("no_email", "Your identity provider did not give a verified e-mail.")
    email = email.strip().lower()
    domain = email.rsplit("@", 1)[1]
    if not provider.domains.filter(domain=domain).exists():
        raise SsoRefused("foreign_domain", f"{email} is not an address of this organisation.")
    return email


def _roles_from(claims: dict, provider: IdentityProvider) -> set[str]:
    groups = claims.get(provider.groups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    allowed = set(roles_of_kind(provider.tenant.kind))
    return {
        provider.role_mapping[g]
        for g in groups
        if isinstance(g, str) and provider.role_mapping.get(g) in allowed
    }


@transaction.atomic
def sso_sign_in(*, provider_id, claims: dict, client_ip: str | None = None) -> User:
    """The user the provider vouched for: matched by e-mail in the provider's tenant or made
    now, its roles set from the groups claim (each change audited as on the Roles page).
    Raises SsoRefused for a deactivated user or an address this tenant does not own."""
    provider = IdentityProvider.objects.select_related("tenant").get(pk=provider_id)
    # Lock order as role_services: tenant row, then user row, then the audit chain head.
    tenant = Tenant.objects.select_for_update().get(pk=provider.tenant_id)
    email = _email_of(claims, provider)
    user = User.objects.select_for_update().filter(username=email).first()
    if user is not None and user.tenant_id != tenant.pk:
        raise SsoRefused("other_tenant", f"{email} belongs to another organisation.")
    if user is not None and not user.is_active:
        raise SsoRefused("deactivated", "Your account is deactivated. Ask your administrator.")
    base = {"channel": "sso", "issuer": provider.issuer}
    if user is None:
        user = User(username=email, email=email, tenant=tenant)
        user.first_name = str(claims.get("given_name") or claims.get("name") or "")[:150]
        user.set_unusable_password()  # signs in only through its provider
        user.save()
        audit_record(
            tenant_id=tenant.pk,
            actor=None,
            record_type=RecordType.SETTINGS,
            operation=Operation.USER_PROVISIONED,
            object_type="User",
            object_id=user.username,
            details={"user": user.username, **base},
            client_ip=client_ip,
        )
    _roles_sync(user, tenant, _roles_from(claims, provider), base, client_ip)
    audit_record(
        tenant_id=tenant.pk,
        actor=user,
        record_type=RecordType.SIGN_IN,
        operation=Operation.SIGNED_IN,
        object_type="User",
        object_id=user.username,
        details=base,
        client_ip=client_ip,
    )
    return user


def _roles_sync(user, tenant, wanted: set[str], base: dict, client_ip) -> None:
    current = set(user.groups.values_list("name", flat=True))
    added, removed = wanted - current, current - wanted
    if GLOBAL_ADMIN in removed and not (
        User.objects.filter(tenant=tenant, is_active=True, groups__name=GLOBAL_ADMIN)
        .exclude(pk=user.pk)
        .exists()
    ):
        # The tenant always keeps an active Global Administrator (as on the Roles page).
        removed.discard(GLOBAL_ADMIN)
    groups = {g.name: g for g in Group.objects.filter(name__in=added | removed)}
    for name in (added | removed) - set(groups):
        groups[name] = Group.objects.get_or_create(name=name)[0]
    user.groups.remove(*(groups[n] for n in removed))
    user.groups.add(*(groups[n] for n in added))
    changes = [(Operation.ROLE_ASSIGNED, r) for r in sorted(added)]
    changes += [(Operation.ROLE_REMOVED, r) for r in sorted(removed)]
    for operation, role in changes:
        audit_record(
            tenant_id=tenant.pk,
            actor=None,
            record_type=RecordType.SETTINGS,
            operation=operation,
            object_type="User",
            object_id=user.username,
            details={"user": user.username, "role": role, **base},
            client_ip=client_ip,
        )
    user.__dict__.pop("_lockbox_groups", None)
    if removed and not user.groups.exists():
        user_tokens_revoke(user)  # SPEC 8: a user left with no role keeps no API token
