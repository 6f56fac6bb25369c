"""Get and Update AccessApprovalSettings (INTEROP-GOOGLE 9): the tenant's Customer Lockbox
setting and its notification addresses, changed through `lockbox_setting_change`."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from rest_framework.response import Response

from lockbox_site.web import client_ip
from tenants_app import policy
from tenants_app.models import Tenant
from tenants_app.roles import Cap, can
from tenants_app.services import LockboxUnavailable, lockbox_setting_change

from .errors import RpcError, invalid
from .resources import settings_json
from .views import AccessApprovalView

MASK_PATHS = {
    "notificationEmails": "notification_emails",
    "notification_emails": "notification_emails",
    "enrolledServices": "enabled",
    "enrolled_services": "enabled",
}
MAX_ENROLLED_SERVICES = 10


def _mask(raw: str | None) -> list[str]:
    """The fields to replace; without a mask, only notificationEmails (as Google documents)."""
    if raw is None or not raw.strip():
        return ["notification_emails"]
    fields = []
    for path in raw.split(","):
        field = MASK_PATHS.get(path.strip())
        if field is None:
            raise invalid(
                f"updateMask path {path.strip()!r} cannot be updated.", "INVALID_UPDATE_MASK"
            )
        if field not in fields:
            fields.append(field)
    return fields


def _enrolled(value) -> bool:
    """[] turns Lockbox off; entries that are all {cloudProduct: "all", BLOCK_ALL} turn it on."""
    bad = invalid(
        'enrolledServices must be [] or entries of cloudProduct "all" with enrollmentLevel '
        "BLOCK_ALL (Lockbox covers all Cloud PCs or none).",
        "INVALID_ENROLLED_SERVICES",
    )
    if value is None:
        return False
    if not isinstance(value, list) or len(value) > MAX_ENROLLED_SERVICES:
        raise bad
    for entry in value:
        if not isinstance(entry, dict) or entry.get("cloudProduct") != "all":
            raise bad
        level = entry.get("enrollmentLevel", entry.get("enrollment_level"))
        if level not in (None, 1, "BLOCK_ALL"):
            raise bad
    return bool(value)


def _emails(value) -> list[str]:
    """Stripped, duplicates (any case) dropped keeping the first, each a valid address."""
    bad = invalid(
        f"notificationEmails must be at most {policy.MAX_NOTIFICATION_EMAILS} valid addresses.",
        "INVALID_NOTIFICATION_EMAILS",
    )
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad
    clean, seen = [], set()
    for item in value:
        if not isinstance(item, str):
            raise bad
        address = item.strip()
        try:
            if not address or len(address) > policy.EMAIL_MAX_LENGTH:
                raise ValidationError("length")
            validate_email(address)
        except ValidationError:
            raise bad from None
        if address.lower() not in seen:
            seen.add(address.lower())
            clean.append(address)
    if len(clean) > policy.MAX_NOTIFICATION_EMAILS:
        raise bad
    return clean


class SettingsView(AccessApprovalView):
    def get(self, request, kind, tenant):
        _, prefix = self.parent(kind, tenant)
        fresh = Tenant.objects.get(pk=request.user.tenant_id)
        return Response(settings_json(fresh, prefix, enums_int=self.enums_int()))

    def patch(self, request, kind, tenant):
        _, prefix = self.parent(kind, tenant)
        if not can(request.user, Cap.MANAGE_LOCKBOX_SETTING):
            # The service refuses first thing, and audits the refused attempt.
            lockbox_setting_change(actor=request.user, client_ip=client_ip(request), changes={})
        body = request.data if isinstance(request.data, dict) else None
        if body is None:
            raise invalid("Send an AccessApprovalSettings object.", "INVALID_ARGUMENT")
        if body.get("activeKeyVersion") or body.get("active_key_version"):
            raise invalid("Lockbox has no customer keys.", "INVALID_ARGUMENT")
        changes = {}
        for field in _mask(request.query_params.get("updateMask")):
            if field == "enabled":
                changes["enabled"] = _enrolled(
                    body.get("enrolledServices", body.get("enrolled_services"))
                )
            else:
                changes[field] = _emails(
                    body.get("notificationEmails", body.get("notification_emails"))
                )
        try:
            updated = lockbox_setting_change(
                actor=request.user, client_ip=client_ip(request), changes=changes
            )
        except LockboxUnavailable as exc:
            raise RpcError(
                400, "FAILED_PRECONDITION", exc.message, "LOCKBOX_NOT_AVAILABLE"
            ) from None
        return Response(settings_json(updated, prefix, enums_int=self.enums_int()))

    def delete(self, request, kind, tenant):
        self.parent(kind, tenant)
        raise RpcError(
            501,
            "UNIMPLEMENTED",
            "Turn Customer Lockbox off with an Update whose enrolledServices is [].",
            "UNIMPLEMENTED",
        )
