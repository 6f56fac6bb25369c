"""The signed statement of a customer-side decision (SPEC 11, `lockbox.decision/v1`).

Built in this one place, from the request locked by the transition, inside its transaction and
at the transition's own moment: what is signed is exactly what was saved (`at` is the
Decision's created_at, `window` the window as saved). Signing is local CPU work, no I/O.
"""

import hashlib

from audit_app.signing import sign

from ..models import AccessRequest, Decision
from ..selectors import request_cloud_pcs

DECISION_TYPE = "lockbox.decision/v1"

_Stage, _Outcome = Decision.Stage, Decision.Outcome

# The decisions that are signed, by (stage, outcome, automatic), and what each is called in
# the statement. A new kind of decision is one line here.
SIGNED_DECISIONS = {
    (_Stage.CUSTOMER.value, _Outcome.APPROVED.value, False): "approved",
    (_Stage.CUSTOMER.value, _Outcome.DENIED.value, False): "denied",
    (_Stage.REVOCATION.value, _Outcome.REVOKED.value, False): "revoked",
    # Lockbox off: the system approves in the customer's place.
    (_Stage.CUSTOMER.value, _Outcome.APPROVED.value, True): "auto_approved",
    # SPEC 10: a Support Manager's emergency access, and the customer's review of it.
    (_Stage.EMERGENCY.value, _Outcome.APPROVED.value, False): "emergency_approved",
    (_Stage.REVIEW.value, _Outcome.ACCEPTED.value, False): "review_accepted",
    (_Stage.REVIEW.value, _Outcome.DISPUTED.value, False): "review_disputed",
}
# One approval of a quorum that is not complete yet: signed, like the approval that completes it.
APPROVAL_ADDED = "approval_added"
DECISION_KINDS = (*dict.fromkeys(SIGNED_DECISIONS.values()), APPROVAL_ADDED)


def signed_kind(decision: Decision, access_request: AccessRequest | None = None) -> str | None:
    # str(): a TextChoices member hashes by its name, not its value.
    kind = SIGNED_DECISIONS.get((str(decision.stage), str(decision.outcome), decision.automatic))
    if (
        kind == "approved"
        and access_request is not None
        and access_request.status != AccessRequest.Status.APPROVED
    ):
        return APPROVAL_ADDED
    return kind


def _cloud_pcs(access_request: AccessRequest) -> list:
    """By id; read once and kept on the request (the API's response shows them too)."""
    return sorted(request_cloud_pcs(access_request), key=lambda pc: pc.pk)


def decision_statement(access_request: AccessRequest, decision: Decision, kind: str) -> dict:
    window = None
    if access_request.window_starts_at is not None:
        window = {
            "starts_at": access_request.window_starts_at.isoformat(),
            "ends_at": access_request.window_ends_at.isoformat(),
        }
    return {
        "type": DECISION_TYPE,
        "tenant": access_request.tenant.slug,
        "tenant_id": access_request.tenant_id,
        "request": access_request.pk,
        "ticket": access_request.ticket.number,
        "requester": access_request.requester.username,
        "cloud_pcs": [{"id": pc.pk, "name": pc.name} for pc in _cloud_pcs(access_request)],
        "decision": kind,
        "by": decision.actor_name,
        "at": decision.created_at.isoformat(),
        "window": window,
        "comment_sha256": hashlib.sha256(decision.comment.encode()).hexdigest(),
    }


def sign_decision(access_request: AccessRequest, decision: Decision) -> None:
    """Fill in the statement and its JWS, if this kind of decision is signed."""
    kind = signed_kind(decision, access_request)
    if kind is None:
        return
    decision.statement = decision_statement(access_request, decision, kind)
    decision.jws = sign(decision.statement)
