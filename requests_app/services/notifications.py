"""E-mail notifications through a transactional outbox: written with the change, sent by Celery."""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from tenants_app.models import User
from tenants_app.roles import APPROVER, GLOBAL_ADMIN

from ..models import AccessRequest, OutboxMessage
from .webhooks import webhook_send, webhooks_enqueue

logger = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 3600


def _request_url(access_request: AccessRequest) -> str:
    return settings.LOCKBOX_BASE_URL + reverse("requests:detail", args=[access_request.pk])


def outbox_enqueue(
    *, kind: str, tenant_id: int | None, payload: dict, webhook=None
) -> OutboxMessage:
    """Write the message in the caller's transaction and hand it to Celery after commit."""
    message = OutboxMessage.objects.create(
        kind=kind,
        tenant_id=tenant_id,
        payload=payload,
        available_at=timezone.now(),
        webhook=webhook,
    )
    transaction.on_commit(lambda: outbox_dispatch(message.pk))
    return message


# After a failed publish this process stops trying for a while: the message is safe in the
# outbox and the flush job delivers it, so a broker outage must not slow every request down.
BROKER_BACKOFF_SECONDS = 10
_broker_down_until = 0.0


def outbox_dispatch(message_id) -> None:
    global _broker_down_until
    from ..tasks import deliver_outbox_message

    if time.monotonic() < _broker_down_until:
        return
    try:
        deliver_outbox_message.apply_async(args=[str(message_id)], retry=False)
    except Exception:  # the broker is down: the message waits in the outbox for flush_outbox
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning("Broker unavailable; outbox message %s left for the flush job", message_id)


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


def _send(message: OutboxMessage) -> int | None:
    """Send one message; returns the HTTP status for a webhook, raises on failure."""
    payload = message.payload
    if message.kind == OutboxMessage.Kind.WEBHOOK:
        return webhook_send(message)
    if message.kind == OutboxMessage.Kind.EMAIL:
        EmailMessage(
            subject=payload["subject"],
            body=payload["body"],
            to=payload["to"],
            # The outbox id as Message-ID lets a mail system drop a redelivered duplicate.
            headers={"Message-ID": f"<{message.pk}@lockbox>"},
        ).send()
        return None
    raise ValueError(f"Unknown outbox kind {message.kind!r}")


def outbox_deliver(*, message_id) -> bool:
    """Send one message once. Returns True if this call sent it.

    The row lock is held while sending, so two workers handed the same message (a redelivery
    after a crash, or the flush job racing the on-commit dispatch) cannot both send it.
    """
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, sent_at__isnull=True)
            .first()
        )
        if message is None:
            return False
        try:
            status = _send(message)
        except Exception as exc:
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            message.response_status = getattr(exc, "status", None)
            delay = min(MAX_BACKOFF_SECONDS, 2**message.attempts * 10)
            message.available_at = timezone.now() + timedelta(seconds=delay)
            message.save(
                update_fields=["attempts", "last_error", "response_status", "available_at"]
            )
            logger.warning("Outbox message %s failed: %s", message.pk, message.last_error)
            return False
        message.attempts += 1
        message.sent_at = timezone.now()
        message.response_status = status
        message.save(update_fields=["attempts", "sent_at", "response_status"])
        return True


def outbox_flush(*, grace_seconds: int | None = None, limit: int = 500) -> int:
    """Deliver what is due and was not delivered (a broker outage, a failed send)."""
    if grace_seconds is None:
        grace_seconds = settings.LOCKBOX_OUTBOX_GRACE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    due = OutboxMessage.objects.filter(
        sent_at__isnull=True,
        available_at__lte=cutoff,
        attempts__lt=settings.LOCKBOX_OUTBOX_MAX_ATTEMPTS,
    )
    ids = list(due.order_by("available_at").values_list("pk", flat=True)[:limit])
    return sum(outbox_deliver(message_id=message_id) for message_id in ids)
