"""Step-up MFA (SPEC 14): whether an actor's second factor is fresh enough for a change its
tenant guards.

Authentication marks the user object: the web session with when a code was last verified
(`tenants_app.mfa_middleware`), an API token with itself (`tenants_app.authentication`). The
services call `step_up_refusal` after their permission check, so the web, the API and any later
surface get the same rule from one place.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from lockbox_site.errors import StepUpRequired

from .models import TokenSecondFactor

# Set on the user object by authentication; read only here.
VERIFIED_AT = "lockbox_mfa_verified_at"
AUTH_TOKEN = "lockbox_auth_token"

REASON_WEB = (
    "Your organisation requires a code from your authenticator, verified in the last "
    "{minutes} minutes, for this change."
)
REASON_API = (
    "Your organisation requires a second factor for this change: sign in again with "
    "POST /api/v1/auth/token/ giving `otp`, a code from your authenticator."
)


def step_up_window() -> timedelta:
    return timedelta(minutes=settings.LOCKBOX_STEP_UP_MINUTES)


def step_up_refusal(actor, tenant) -> StepUpRequired | None:
    """Why `actor` must verify a second factor before changing `tenant`'s guarded things, or
    None. `tenant` should be the row the service locked, so the setting is read as it stands."""
    if actor is None or not getattr(tenant, "require_mfa_for_decisions", False):
        return None
    token = getattr(actor, AUTH_TOKEN, None)
    if token is not None:
        if TokenSecondFactor.objects.filter(token_id=token.pk).exists():
            return None
        return StepUpRequired(REASON_API, {"reason": "mfa_required"})
    verified_at = getattr(actor, VERIFIED_AT, None)
    if verified_at is not None and timezone.now() - verified_at <= step_up_window():
        return None
    minutes = settings.LOCKBOX_STEP_UP_MINUTES
    return StepUpRequired(REASON_WEB.format(minutes=minutes), {"reason": "mfa_required"})


def require_step_up(actor, tenant) -> None:
    refusal = step_up_refusal(actor, tenant)
    if refusal is not None:
        raise refusal


def has_authenticator(user) -> bool:
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()
