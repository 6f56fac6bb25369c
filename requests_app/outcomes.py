"""What a decision did, in one sentence for the message after it ("Request 7 approved; access
until 07:31"), in the user's time zone."""

from django.utils import timezone

from lockbox_site.timezones import local

from .models import AccessRequest
from .services.common import customer_approvals

S = AccessRequest.Status


def _time(moment) -> str:
    today = timezone.localdate()
    return local(moment, "H:i" if timezone.localtime(moment).date() == today else "j M H:i")


def _approved(access_request: AccessRequest) -> str:
    pk = access_request.pk
    if access_request.status == S.PENDING_CUSTOMER:
        approvals = len(customer_approvals(access_request))
        if approvals:
            return (
                f"Request {pk}: your approval is recorded ({approvals} of "
                f"{access_request.approvals_required} approvals)."
            )
        return f"Request {pk} approved internally; it now waits for the customer."
    if access_request.status == S.APPROVED and access_request.window_ends_at:
        if access_request.window_starts_at and access_request.window_starts_at > timezone.now():
            return (
                f"Request {pk} approved; access from {_time(access_request.window_starts_at)} "
                f"until {_time(access_request.window_ends_at)}."
            )
        return f"Request {pk} approved; access until {_time(access_request.window_ends_at)}."
    return f"Request {pk}: {access_request.get_status_display().lower()}."


def outcome_message(access_request: AccessRequest, action: str) -> str:
    pk = access_request.pk
    if action == "approve":
        return _approved(access_request)
    if action == "emergency":
        return _approved(access_request).replace("approved;", "emergency access granted;")
    if action == "revoke" and access_request.closed_at:
        return f"Request {pk} revoked; access ended at {_time(access_request.closed_at)}."
    sentences = {
        "deny": f"Request {pk} denied.",
        "cancel": f"Request {pk} cancelled.",
        "revoke": f"Request {pk} revoked.",
        "ask": f"Request {pk}: your question was sent to the engineer.",
        "answer": f"Request {pk}: your answer was sent.",
        "extend": f"Request {pk} asks for {access_request.duration_minutes} more minutes.",
        "review": f"Request {pk}: the emergency access is {access_request.review_status}.",
    }
    return sentences.get(action, f"Request {pk}: {access_request.get_status_display().lower()}.")


def access_ended_message(access_request: AccessRequest) -> str:
    """Why a grant's access is not open: revoked by whom, ended when, or not yet started."""
    if access_request.status == S.REVOKED:
        revocation = access_request.decisions.filter(outcome="revoked").last()
        who = revocation.actor_name if revocation else "the customer"
        when = access_request.closed_at or access_request.window_ends_at
        return f"Access ended: revoked by {who} at {_time(when)}."
    if access_request.window_ends_at and access_request.window_ends_at <= timezone.now():
        return f"Access ended at {_time(access_request.window_ends_at)}."
    if access_request.window_starts_at:
        return f"Access opens at {_time(access_request.window_starts_at)}."
    return f"No access: the request is {access_request.get_status_display().lower()}."
