"""Lockbox objects as Google's v1 JSON: ApprovalRequest (INTEROP-GOOGLE 6) and
AccessApprovalSettings (9). lowerCamelCase names, RFC 3339 times, enums as numbers or names."""

import base64
from datetime import datetime, timedelta

from audit_app.signing import verify_keys
from requests_app.models import AccessRequest, Decision

from .states import State, state_of

Status = AccessRequest.Status

# Lockbox's reason types are Google's AccessReason.Type, one for one (SPEC 10).
REASON_TYPES = {
    AccessRequest.ReasonType.CUSTOMER_INITIATED_SUPPORT: ("CUSTOMER_INITIATED_SUPPORT", 1),
    AccessRequest.ReasonType.PROVIDER_INITIATED_SERVICE: ("GOOGLE_INITIATED_SERVICE", 2),
    AccessRequest.ReasonType.PROVIDER_INITIATED_REVIEW: ("GOOGLE_INITIATED_REVIEW", 3),
    AccessRequest.ReasonType.THIRD_PARTY_DATA_REQUEST: ("THIRD_PARTY_DATA_REQUEST", 4),
    AccessRequest.ReasonType.RESPONSE_TO_PRODUCTION_ALERT: (
        "GOOGLE_RESPONSE_TO_PRODUCTION_ALERT",
        5,
    ),
}
BLOCK_ALL = ("BLOCK_ALL", 1)
APPROVED_STATUSES = (Status.APPROVED, Status.COMPLETED, Status.REVOKED)


def rfc3339(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def enum(value: tuple[str, int], as_int: bool):
    return value[1] if as_int else value[0]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


APPROVING_STAGES = (Decision.Stage.CUSTOMER, Decision.Stage.EMERGENCY)


def _approval(access_request: AccessRequest) -> Decision | None:
    """The approval that approved it: a quorum's last, the system's (Lockbox off), or an
    emergency approval (SPEC 10)."""
    approvals = [
        decision
        for decision in access_request.decisions.all()  # prefetched, in time order
        if decision.stage in APPROVING_STAGES and decision.outcome == Decision.Outcome.APPROVED
    ]
    return approvals[-1] if approvals else None


def signature_info(decision: Decision | None) -> dict | None:
    """The approval's Ed25519 signature, checkable with openssl as Google documents:
    `serializedApprovalRequest` is the JWS signing input (base64url header "." base64url
    statement), `signature` the raw signature over exactly those bytes."""
    if decision is None or not decision.jws:
        return None
    header, payload, signature = decision.jws.split(".")
    key = verify_keys().get(decision.key_id)
    info = {
        "signature": _b64(_unb64url(signature)),
        "serializedApprovalRequest": _b64(f"{header}.{payload}".encode()),
    }
    if key is not None:
        info["googlePublicKeyPem"] = key.as_pem(private=False).decode()
    return info


def _approved_end(access_request: AccessRequest, decision: Decision | None):
    """The end of the window as approved; a revocation does not change it (the signed
    statement keeps the window the approval gave)."""
    window = (decision.statement or {}).get("window") if decision else None
    if window and window.get("ends_at"):
        return datetime.fromisoformat(window["ends_at"])
    return access_request.window_starts_at + timedelta(minutes=access_request.duration_minutes)


def _dismiss_time(access_request: AccessRequest):
    if access_request.status in (Status.DENIED, Status.CANCELLED):
        return access_request.closed_at
    return access_request.expires_at  # expired, or overdue and not yet swept


def approval_request_json(access_request: AccessRequest, prefix: str, now, *, enums_int: bool):
    """`prefix` is the parent as the caller named it (organizations/x or projects/x)."""
    duration = timedelta(minutes=access_request.duration_minutes)
    slug = access_request.tenant.slug
    pcs = sorted(access_request.cloud_pcs.all(), key=lambda pc: pc.pk)
    reason = REASON_TYPES.get(
        access_request.reason_type, REASON_TYPES["customer_initiated_support"]
    )
    body = {
        "name": f"{prefix}/approvalRequests/{access_request.pk}",
        "requestedResourceName": ",".join(f"organizations/{slug}/cloudPcs/{pc.pk}" for pc in pcs),
        "requestedResourceProperties": {"excludesDescendants": True},
        "requestedReason": {
            "type": enum(reason, enums_int),
            "detail": f"Case Number: {access_request.ticket.number}. {access_request.reason}",
        },
        "requestTime": rfc3339(access_request.created_at),
    }
    state = state_of(access_request, now)
    if access_request.status in APPROVED_STATUSES:
        decision = _approval(access_request)
        approve = {
            "approveTime": rfc3339(access_request.window_starts_at),
            "expireTime": rfc3339(_approved_end(access_request, decision)),
            "autoApproved": access_request.auto_approved,
        }
        if access_request.status == Status.REVOKED:
            approve["invalidateTime"] = rfc3339(access_request.closed_at)
        info = signature_info(decision)
        if info is not None:
            approve["signatureInfo"] = info
        body["requestedExpiration"] = rfc3339(access_request.window_starts_at + duration)
        body["approve"] = approve
    elif state == State.DISMISSED:
        dismissed_at = _dismiss_time(access_request)
        body["requestedExpiration"] = rfc3339(dismissed_at + duration)
        body["dismiss"] = {
            "dismissTime": rfc3339(dismissed_at),
            "implicit": access_request.status != Status.DENIED,
        }
    else:  # pending: "approve now" would end then (a scheduled window opens later)
        body["requestedExpiration"] = rfc3339(max(now, access_request.starts_at or now) + duration)
    return body


def settings_json(tenant, prefix: str, *, enums_int: bool) -> dict:
    enrolled = []
    if tenant.lockbox_enabled and tenant.lockbox_available:
        enrolled = [{"cloudProduct": "all", "enrollmentLevel": enum(BLOCK_ALL, enums_int)}]
    return {
        "name": f"{prefix}/accessApprovalSettings",
        "notificationEmails": list(tenant.notification_emails or []),
        "enrolledServices": enrolled,
        "enrolledAncestor": False,
        "activeKeyVersion": "",
        "ancestorHasActiveKeyVersion": False,
        "invalidKeyVersion": False,
    }
