"""E-mail notifications about requests, written to the outbox with the change that causes them.

The webhook events of the same changes are written by transitions._tell, beside these.
"""

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

from tenants_app.models import User
from tenants_app.policy import tenant_policy
from tenants_app.roles import APPROVER, GLOBAL_ADMIN

from ..models import AccessRequest, OutboxMessage
from .outbox import outbox_enqueue

# The request page's path, reversed once per script prefix and URLconf with a marker id and cut
# at its last occurrence (a script prefix may hold the same digits): reverse() cost each
# decision's e-mail 0.09 ms of CPU (issue 17).
_MARKER = "7340000301"
_PATHS: dict = {}


def _request_url(access_request: AccessRequest) -> str:
    key = (get_script_prefix(), get_urlconf())
    pieces = _PATHS.get(key)
    if pieces is None:
        pieces = _PATHS[key] = reverse("requests:detail", args=[int(_MARKER)]).rsplit(_MARKER, 1)
    return settings.LOCKBOX_BASE_URL + str(int(access_request.pk)).join(pieces)


def _addresses(tenant_id: int, groups: list[str]) -> list[str]:
    return list(
        User.objects.filter(tenant_id=tenant_id, is_active=True, groups__name__in=groups)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )


def _facts(access_request: AccessRequest) -> str:
    ticket = access_request.ticket
    starts = ""
    if access_request.starts_at is not None:
        starts = f"Starts at: {access_request.starts_at:%Y-%m-%d %H:%M} UTC\n"
    extends = ""
    if access_request.extends_id is not None:
        extends = f"Extends request: {access_request.extends_id}\n"
    return (
        f"Ticket: {ticket.number} ({ticket.title})\n"
        f"Engineer: {access_request.requester.username}\n"
        f"Reason type: {access_request.reason_type}\n"
        f"Reason: {access_request.reason}\n"
        f"Duration: {access_request.duration_minutes} minutes\n{starts}{extends}"
    )


def _approver_message(access_request: AccessRequest, kind: str) -> tuple[str, str]:
    number = access_request.pk
    if kind == "emergency":
        return (
            f"Emergency access granted to your content: request {number}",
            "A Microsoft Support Manager granted emergency access to your content without "
            "waiting for your approval, because your organization allows it for production "
            "alerts.\n\n"
            f"{_facts(access_request)}"
            f"Access until: {access_request.window_ends_at:%Y-%m-%d %H:%M} UTC\n"
            f"Review it by: {access_request.review_due_at:%Y-%m-%d %H:%M} UTC\n\n"
            "You can revoke it at any time, and review it (accept or dispute) here: "
            f"{_request_url(access_request)}\n",
        )
    if kind == "answered":
        answer = access_request.messages.order_by("-created_at", "-id").first()
        return (
            f"Customer Lockbox request {number}: the engineer answered your question",
            f"{_facts(access_request)}\nAnswer: {answer.text if answer else ''}\n\n"
            f"Decide before: {access_request.expires_at:%Y-%m-%d %H:%M} UTC\n"
            f"Review it: {_request_url(access_request)}\n",
        )
    approvals = ""
    if access_request.approvals_required > 1:
        approvals = f"Approvals required: {access_request.approvals_required}\n"
    return (
        f"Customer Lockbox request {number} awaits your approval",
        f"A Microsoft support engineer ({access_request.requester.username}) asks for "
        f"access to your content.\n\n{_facts(access_request)}{approvals}"
        f"Decide before: {access_request.expires_at:%Y-%m-%d %H:%M} UTC\n\n"
        f"Review it: {_request_url(access_request)}\n",
    )


def notify_approvers(access_request: AccessRequest, kind: str = "pending") -> None:
    """Tell the tenant's approvers, and the policy's extra addresses (SPEC 9)."""
    recipients = _addresses(access_request.tenant_id, [GLOBAL_ADMIN, APPROVER])
    extra = tenant_policy(access_request.tenant).notification_emails
    known = {address.lower() for address in recipients}
    recipients = sorted(recipients + [a for a in extra if a.lower() not in known])
    if not recipients:
        return
    subject, body = _approver_message(access_request, kind)
    outbox_enqueue(
        kind=OutboxMessage.Kind.EMAIL,
        tenant_id=access_request.tenant_id,
        payload={
            "to": recipients,
            "subject": subject,
            "body": body,
            "event": f"request.{access_request.status}",
            "request_id": access_request.pk,
        },
    )


def notify_global_admins(access_request: AccessRequest, subject: str) -> None:
    recipients = sorted(_addresses(access_request.tenant_id, [GLOBAL_ADMIN]))
    if not recipients:
        return
    outbox_enqueue(
        kind=OutboxMessage.Kind.EMAIL,
        tenant_id=access_request.tenant_id,
        payload={
            "to": recipients,
            "subject": f"{subject}: request {access_request.pk}",
            "body": (
                f"The emergency access of request {access_request.pk} was due for review by "
                f"{access_request.review_due_at:%Y-%m-%d %H:%M} UTC and nobody has reviewed "
                f"it.\n\n{_facts(access_request)}\n"
                f"Review it: {_request_url(access_request)}\n"
            ),
            "event": "request.review_overdue",
            "request_id": access_request.pk,
        },
    )


def notify_requester(access_request: AccessRequest, outcome: str) -> None:
    email = access_request.requester.email
    if not email:
        return
    body = (
        f"Your access request {access_request.pk} for ticket "
        f"{access_request.ticket.number} is now {outcome}.\n\n"
    )
    if access_request.status == AccessRequest.Status.INFO_REQUESTED:
        question = access_request.messages.order_by("-created_at", "-id").first()
        body += f"Question: {question.text if question else ''}\n\n"
    outbox_enqueue(
        kind=OutboxMessage.Kind.EMAIL,
        tenant_id=access_request.tenant_id,
        payload={
            "to": [email],
            "subject": f"Access request {access_request.pk}: {outcome}",
            "body": body + f"{_request_url(access_request)}\n",
            "event": f"request.{access_request.status}",
            "request_id": access_request.pk,
        },
    )
