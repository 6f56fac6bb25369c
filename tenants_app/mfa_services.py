"""Authenticators (TOTP, django-otp) and their recovery codes: the one writer of both.

Enrolment is two steps, as authenticator apps expect: `totp_enrol_start` makes an unconfirmed
device whose key the user scans or types, `totp_enrol_confirm` checks a first code from it and
hands out recovery codes (django-otp's static device), shown only then. `mfa_verify` checks a
code for step-up or for an API sign-in with `otp`. Wrong codes throttle the device
(django-otp: after n wrong codes in a row every code is refused for OTP_TOTP_THROTTLE_FACTOR *
2**(n-1) seconds), so a code cannot be guessed; a used code is never accepted again.

A device is verified under its row lock and the outcome committed before any error is raised:
the throttle's count and the last accepted time step must survive a refusal, and two requests
racing with the same code must not both pass.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit_app.models import Operation, RecordType
from audit_app.refusals import refusals_audited
from audit_app.services import audit_record
from lockbox_site.errors import InvalidInput, InvalidState, NotFound, TooManyAttempts
from lockbox_site.ids import as_id

from .mfa import require_step_up
from .models import Tenant, User
from .roles import Cap, require

RECOVERY_CODES = 10
WRONG_CODE = "That code is not right, or it was used already. Enter the current code."
NOT_ENROLLED = "You have no authenticator yet: add one under My account > Security."


def _code(code) -> str:
    if not isinstance(code, str) or not code.strip() or len(code) > 32:
        raise InvalidInput("Enter the code from your authenticator.", {"code": ["Required."]})
    return "".join(code.split())


def _locked_message(info: dict | None) -> str:
    until = (info or {}).get("locked_until")
    if until is None:
        return "Too many wrong codes: try again later."
    seconds = max(1, int((until - timezone.now()).total_seconds()) + 1)
    return f"Too many wrong codes: try again in {seconds} seconds."


def mfa_status(user) -> dict:
    static = StaticDevice.objects.filter(user_id=user.pk).first()
    return {
        "enrolled": TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists(),
        "recovery_codes_left": static.token_set.count() if static else 0,
    }


@transaction.atomic
def totp_enrol_start(*, user) -> TOTPDevice:
    """A new unconfirmed authenticator for `user` (any earlier unconfirmed one is dropped)."""
    User.objects.select_for_update().get(pk=user.pk)
    if TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists():
        raise InvalidState("You already have an authenticator: remove it to add another.")
    TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)


def totp_enrol_confirm(*, user, code, client_ip: str | None = None) -> list[str]:
    """Confirm the unconfirmed authenticator with a first code; returns the recovery codes."""
    code = _code(code)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user_id=user.pk, confirmed=False)
        device = device.first()
        if device is None:
            raise InvalidState("Start adding an authenticator first.")
        allowed, info = device.verify_is_allowed()
        if allowed and device.verify_token(code):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _recovery_codes_issue(user)
            _audit(user, user, Operation.MFA_ENROLLED, client_ip, {"recovery_codes": len(codes)})
            return codes
    if not allowed:
        raise TooManyAttempts(_locked_message(info))
    raise InvalidInput(WRONG_CODE, {"code": [WRONG_CODE]})


def _recovery_codes_issue(user) -> list[str]:
    StaticDevice.objects.filter(user_id=user.pk).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes")
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def mfa_verify(*, user, code, client_ip: str | None = None, channel: str = "web") -> datetime:
    """Check a code from the user's authenticator, or one of its recovery codes (each works
    once); returns when it was verified. A wrong code is audited and counts toward the
    throttle; while throttled every code is refused (429) and nothing is written."""
    code = _code(code)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user_id=user.pk, confirmed=True)
        device = device.first()
        if device is None:
            raise InvalidState(NOT_ENROLLED)
        allowed, info = device.verify_is_allowed()
        if not allowed:
            verified = False
        elif code.isdigit():
            verified = device.verify_token(code)  # counts a failure itself
        else:
            static = StaticDevice.objects.select_for_update().filter(user_id=user.pk).first()
            verified = static is not None and static.verify_token(code)
            if not verified:
                device.throttle_increment()  # a wrong recovery code is a wrong code too
        if verified:
            return timezone.now()
        if allowed:
            _audit(
                user,
                user,
                Operation.MFA_VERIFICATION_FAILED,
                client_ip,
                {"channel": channel, "failures": device.throttling_failure_count},
                result="failure",
            )
    if not allowed:
        raise TooManyAttempts(_locked_message(info))
    raise InvalidInput(WRONG_CODE, {"code": [WRONG_CODE]})


def _audit(user, actor, operation, client_ip, details, result="success"):
    audit_record(
        tenant_id=user.tenant_id,
        actor=actor,
        record_type=RecordType.SIGN_IN,
        operation=operation,
        object_type="User",
        object_id=user.username,
        result=result,
        details={"user": user.username, **details},
        client_ip=client_ip,
    )


def _user_in_actor_tenant(kwargs):
    actor = kwargs["actor"]
    username = (
        User.objects.filter(pk=as_id(kwargs["user_id"]), tenant_id=actor.tenant_id)
        .values_list("username", flat=True)
        .first()
    )
    return None if username is None else (actor.tenant_id, username, {"user": username})


@refusals_audited(
    operation=Operation.MFA_REMOVED,
    object_type="User",
    locate=_user_in_actor_tenant,
    record_type=RecordType.SIGN_IN,
)
@transaction.atomic
def mfa_remove(*, actor, user_id, client_ip: str | None = None) -> User:
    """Remove a user's authenticator and recovery codes: the user's own, or, as the tenant's
    Global Administrator, another user's (say, a lost phone). Audited when there was one."""
    own = as_id(user_id) == actor.pk
    if not own:
        require(
            actor,
            Cap.MANAGE_ROLES,
            "Only a Global Administrator can remove another user's authenticator.",
        )
    try:
        user = User.objects.select_for_update().get(pk=as_id(user_id), tenant_id=actor.tenant_id)
    except User.DoesNotExist:
        raise NotFound("No such user.") from None
    # Removing a second factor is a security change like any other the tenant guards.
    require_step_up(actor, Tenant.objects.get(pk=actor.tenant_id))
    removed, _ = TOTPDevice.objects.filter(user_id=user.pk).delete()
    StaticDevice.objects.filter(user_id=user.pk).delete()
    if removed:
        _audit(user, actor, Operation.MFA_REMOVED, client_ip, {"by_administrator": not own})
    return user
