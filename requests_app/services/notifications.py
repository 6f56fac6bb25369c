"""E-mail notifications about requests, written to the outbox with the change that causes them."""

from django.conf import settings
from django.urls import reverse

from tenants_app.models import User
from tenants_app.roles import APPROVER, GLOBAL_ADMIN

from ..models import AccessRequest, OutboxMessage
from .outbox import outbox_enqueue
from .webhooks import webhooks_enqueue


def _request_url(access_request: AccessRequest) -> str:
    return settings.LOCKBOX_BASE_URL + reverse("requests:detail", args=[access_request.pk])


def notify_approvers(access_request: AccessRequest) -> None:
    webhooks_enqueue(access_request, "request.pending_customer")
    recipients = sorted(
        User.objects.filter(
            tenant_id=access_request.tenant_id,
            is_active=True,
            groups__name__in=[GLOBAL_ADMIN, APPROVER],
        )
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    if not recipients:
        return
    ticket = access_request.ticket
    outbox_enqueue(
        kind=OutboxMessage.Kind.EMAIL,
        tenant_id=access_request.tenant_id,
        payload={
            "to": recipients,
            "subject": f"Customer Lockbox request {access_request.pk} awaits your approval",
            "body": (
                f"A Microsoft support engineer ({access_request.requester.username}) asks for "
                f"access to your content for ticket {ticket.number} ({ticket.title}).\n\n"
                f"Reason type: {access_request.reason_type}\n"
                f"Reason: {access_request.reason}\n"
                f"Duration: {access_request.duration_minutes} minutes\n"
                f"Decide before: {access_request.expires_at:%Y-%m-%d %H:%M} UTC\n\n"
                f"Review it: {_request_url(access_request)}\n"
            ),
            "event": "request.pending_customer",
            "request_id": access_request.pk,
        },
    )


def notify_requester(access_request: AccessRequest, outcome: str) -> None:
    if access_request.reached_customer_at is not None:
        # A request the customer never saw (SPEC 8) is not told to the customer's webhooks.
        webhooks_enqueue(access_request, f"request.{access_request.status}")
    email = access_request.requester.email
    if not email:
        return
    outbox_enqueue(
        kind=OutboxMessage.Kind.EMAIL,
        tenant_id=access_request.tenant_id,
        payload={
            "to": [email],
            "subject": f"Access request {access_request.pk}: {outcome}",
            "body": (
                f"Your access request {access_request.pk} for ticket "
                f"{access_request.ticket.number} is now {outcome}.\n\n"
                f"{_request_url(access_request)}\n"
            ),
            "event": f"request.{access_request.status}",
            "request_id": access_request.pk,
        },
    )
