"""The transactional outbox: messages written with the change, delivered by Celery afterwards.

Delivery never holds a lock or a transaction across the network. A worker claims a message with
one conditional UPDATE (a lease until `claimed_until`), commits, sends with no transaction open,
then records the result with an UPDATE that only succeeds while it still holds the claim. A
worker that dies mid-send leaves its claim; when the lease ends the flush job delivers again.

So delivery is at least once, not exactly once: a worker killed after the endpoint answered but
before the result was recorded means a second send. The outbox id is the idempotency key for
receivers: the e-mail's Message-ID and the webhook's X-Lockbox-Delivery header (and body `id`).

The outbox's own back-off (attempts, available_at, LOCKBOX_OUTBOX_MAX_ATTEMPTS) is the only
retry: Celery tasks do not retry. An endpoint's Retry-After lengthens that back-off (never
shortens it); a 410 Gone disables the endpoint and ends the message's attempts (SPEC 12).
"""

import logging
import time
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from lockbox_site.celery import app as celery_app
from lockbox_site.compiled import insert

from ..models import OutboxMessage
from .webhook_audit import webhook_disable_gone
from .webhook_http import DeliveryError, post_event

GONE = 410

logger = logging.getLogger(__name__)

# The Celery task that delivers one message, published by name: tasks import services, never
# the other way round.
DELIVER_TASK = "requests_app.tasks.deliver_outbox_message"
MAX_BACKOFF_SECONDS = 3600
# A flush stops starting deliveries after this long and leaves the rest to the next run.
FLUSH_BUDGET_SECONDS = 120


def delivery_deadline_seconds() -> int:
    """The longest one delivery may take: the total webhook deadline or the SMTP timeout."""
    return max(settings.EMAIL_TIMEOUT, settings.LOCKBOX_WEBHOOK_TIMEOUT_SECONDS)


def deliver_time_limits() -> tuple[int, int]:
    """(soft, hard) Celery time limits of one delivery task: they end a stuck SMTP exchange."""
    deadline = delivery_deadline_seconds()
    return deadline + 5, deadline + 15


def flush_time_limits() -> tuple[int, int]:
    soft = FLUSH_BUDGET_SECONDS + deliver_time_limits()[1]
    return soft, soft + 30


def claim_seconds() -> int:
    """A claim outlives the hard time limit, so a live worker never loses it mid-send."""
    return deliver_time_limits()[1] + 30


def outbox_enqueue(
    *, kind: str, tenant_id: int | None, payload: dict, webhook=None
) -> OutboxMessage:
    """Write the message in the caller's transaction and hand it to Celery after commit."""
    message = OutboxMessage(
        kind=kind,
        tenant_id=tenant_id,
        payload=payload,
        available_at=timezone.now(),
        webhook=webhook,
    )
    insert(message)  # every decision writes one or more: the statement is built once
    transaction.on_commit(lambda: outbox_dispatch(message.pk))
    return message


# After a failed publish this process stops trying for a while: the message is safe in the
# outbox and the flush job delivers it, so a broker outage must not slow every request down.
BROKER_BACKOFF_SECONDS = 10
_broker_down_until = 0.0


def outbox_dispatch(message_id) -> None:
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        return
    try:
        celery_app.send_task(DELIVER_TASK, args=[str(message_id)], retry=False)
    except Exception:  # the broker is down: the message waits in the outbox for flush_outbox
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning("Broker unavailable; outbox message %s left for the flush job", message_id)


def _claim(message_id) -> tuple[OutboxMessage, object] | None:
    """Take the message for one attempt (a short transaction of its own), or None."""
    now = timezone.now()
    lease = now + timedelta(seconds=claim_seconds())
    claimed = (
        OutboxMessage.objects.filter(
            pk=message_id,
            sent_at__isnull=True,
            attempts__lt=settings.LOCKBOX_OUTBOX_MAX_ATTEMPTS,
        )
        # A first attempt goes at once (no clock comparison with the web server that wrote
        # it); a retry waits for its back-off.
        .filter(Q(attempts=0) | Q(available_at__lte=now))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=lease, attempts=F("attempts") + 1)
    )
    if claimed != 1:
        return None
    message = OutboxMessage.objects.select_related("webhook").get(pk=message_id)
    return message, lease


def _send(message: OutboxMessage) -> int | None:
    """Send one message; returns the HTTP status for a webhook, raises on failure."""
    payload = message.payload
    if message.kind == OutboxMessage.Kind.WEBHOOK:
        if message.webhook is None:
            raise DeliveryError("the webhook was deleted")
        if message.webhook.disabled_at is not None:
            raise DeliveryError(f"the webhook is disabled: {message.webhook.disabled_reason}")
        return post_event(
            url=message.webhook.url,
            secret=message.webhook.secret,
            delivery_id=str(message.pk),
            payload=payload,
        )
    if message.kind == OutboxMessage.Kind.EMAIL:
        # Django's SMTP backend applies EMAIL_TIMEOUT to each socket operation; the task's
        # time limits bound the whole exchange.
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
    """Make one attempt to send the message. Returns True if this call sent it."""
    claim = _claim(message_id)
    if claim is None:
        return False  # sent, being sent, waiting for its back-off, or out of attempts
    message, lease = claim
    held = OutboxMessage.objects.filter(pk=message.pk, claimed_until=lease, sent_at__isnull=True)
    try:
        status = _send(message)  # no transaction is open here
    except Exception as exc:  # SoftTimeLimitExceeded too: it is recorded like any failure
        error = f"{type(exc).__name__}: {exc}"[:2000]
        status = getattr(exc, "status", None)
        delay = min(MAX_BACKOFF_SECONDS, 2**message.attempts * 10)
        delay = max(delay, getattr(exc, "retry_after", None) or 0)
        final = {}
        if status == GONE or (message.webhook is not None and message.webhook.disabled_at):
            final = {"attempts": settings.LOCKBOX_OUTBOX_MAX_ATTEMPTS}  # never again
        held.update(
            claimed_until=None,
            last_error=error,
            response_status=status,
            available_at=timezone.now() + timedelta(seconds=delay),
            **final,
        )
        if status == GONE and message.webhook_id is not None:
            webhook_disable_gone(webhook_id=message.webhook_id, status=status)
        logger.warning("Outbox message %s failed: %s", message.pk, error)
        if isinstance(exc, SoftTimeLimitExceeded):
            raise  # the task's time is up: stop here, not at the next message
        return False
    if not held.update(claimed_until=None, sent_at=timezone.now(), response_status=status):
        logger.warning("Outbox message %s was sent after its claim ran out", message.pk)
    return True


def outbox_flush(*, grace_seconds: int | None = None, limit: int = 500) -> int:
    """Deliver what is due and was not delivered (a broker outage, a failed send, a crash)."""
    if grace_seconds is None:
        grace_seconds = settings.LOCKBOX_OUTBOX_GRACE_SECONDS
    now = timezone.now()
    due = OutboxMessage.objects.filter(
        sent_at__isnull=True,
        available_at__lte=now - timedelta(seconds=grace_seconds),
        attempts__lt=settings.LOCKBOX_OUTBOX_MAX_ATTEMPTS,
    ).filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    ids = list(due.order_by("available_at").values_list("pk", flat=True)[:limit])
    stop_at = time.monotonic() + FLUSH_BUDGET_SECONDS
    sent = 0
    for message_id in ids:
        if time.monotonic() > stop_at:
            break
        sent += outbox_deliver(message_id=message_id)
    return sent
