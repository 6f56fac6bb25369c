"""Webhooks: registration (audited, address-checked) and tenant events queued in the outbox."""

import base64
import secrets
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit_app.checkpoints import checkpoint_as_json
from audit_app.models import AuditCheckpoint, Operation
from audit_app.refusals import actor_tenant, refusals_audited
from lockbox_site.compiled import Compiled
from lockbox_site.errors import InvalidInput, InvalidState, NotFound
from lockbox_site.ids import as_id
from tenants_app.mfa import require_step_up
from tenants_app.models import Tenant
from tenants_app.roles import Cap, require

from ..events import SUBSCRIBABLE, TEST_EVENT
from ..models import AccessRequest, OutboxMessage, Webhook
from .outbox import outbox_dispatch, outbox_enqueue
from .webhook_audit import webhook_audit
from .webhook_http import AddressRefused, DeliveryError, resolve_checked

MAX_WEBHOOKS_PER_TENANT = 10
# Query parameters whose values look like credentials; they are masked in audit records.
_SECRET_PARAMS = ("token", "secret", "key", "password", "passwd", "pwd", "auth", "sig", "code")


def _clean_url(url) -> str:
    if not isinstance(url, str) or len(url) > 500:
        raise InvalidInput("Give a URL of at most 500 characters.", {"url": ["Enter a valid URL."]})
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput("The URL must start with https://.", {"url": ["Enter a valid URL."]})
    if parts.scheme == "http" and not settings.LOCKBOX_WEBHOOK_ALLOW_PRIVATE:
        raise InvalidInput("Webhooks must use https://.", {"url": ["Use https://."]})
    return url.strip()


def _check_target(url: str) -> None:
    """Refuse, at registration, an endpoint that delivery would refuse (it checks again)."""
    if settings.LOCKBOX_WEBHOOK_ALLOW_PRIVATE:
        return
    deadline = time.monotonic() + settings.LOCKBOX_WEBHOOK_TIMEOUT_SECONDS
    try:
        resolve_checked(url, deadline=deadline)
    except AddressRefused as exc:
        message = f"The endpoint {exc}: webhooks reach public internet addresses only."
        raise InvalidInput(message, {"url": [message]}) from None
    except DeliveryError as exc:
        message = f"The endpoint's address: {exc}."
        raise InvalidInput(message, {"url": [message]}) from None


def _webhook_of_actor(kwargs):
    actor, webhook_id = kwargs["actor"], as_id(kwargs["webhook_id"])
    if not Webhook.objects.filter(pk=webhook_id, tenant_id=actor.tenant_id).exists():
        return None
    return actor.tenant_id, webhook_id, {}


@refusals_audited(
    operation=Operation.WEBHOOK_REGISTERED, object_type="Webhook", locate=actor_tenant
)
def webhook_create(*, actor, url, description="", events=None, client_ip=None) -> Webhook:
    """Register an endpoint for `events` (default: every subscribable event)."""
    require(actor, Cap.MANAGE_WEBHOOKS, "Only a Global Administrator manages webhooks.")
    require_step_up(actor, actor.tenant)
    url = _clean_url(url)
    description = _clean_description(description)
    events = list(SUBSCRIBABLE) if events is None else _clean_events(events)
    _check_target(url)  # a DNS lookup: before the transaction, never inside it
    return _webhook_create(
        actor=actor, url=url, description=description, events=events, client_ip=client_ip
    )


def _clean_description(description) -> str:
    if not isinstance(description, str) or len(description) > 200:
        raise InvalidInput("The description must be text of at most 200 characters.")
    return description.strip()


def _clean_events(events) -> list[str]:
    """At least one known event, each once, in the catalogue's order."""
    if not isinstance(events, list | tuple) or not events:
        raise InvalidInput("Choose at least one event.", {"events": ["Choose at least one."]})
    unknown = sorted({str(e) for e in events} - set(SUBSCRIBABLE))
    if unknown:
        message = f"Unknown events: {', '.join(unknown)}."
        raise InvalidInput(message, {"events": [message]})
    return [event for event in SUBSCRIBABLE if event in events]


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@transaction.atomic
def _webhook_create(*, actor, url, description, events, client_ip) -> Webhook:
    # The tenant's row lock makes the count and the insert one step: concurrent registrations
    # cannot pass the limit together.
    Tenant.objects.select_for_update().get(pk=actor.tenant_id)
    if Webhook.objects.filter(tenant_id=actor.tenant_id).count() >= MAX_WEBHOOKS_PER_TENANT:
        raise InvalidInput(f"A tenant can register at most {MAX_WEBHOOKS_PER_TENANT} webhooks.")
    webhook = Webhook.objects.create(
        tenant_id=actor.tenant_id,
        url=url,
        description=description,
        secret=new_secret(),
        events=events,
        created_by=actor,
    )
    webhook_audit(
        webhook,
        actor=actor,
        operation=Operation.WEBHOOK_REGISTERED,
        client_ip=client_ip,
        events=webhook.events,
    )
    return webhook


@refusals_audited(
    operation=Operation.WEBHOOK_DELETED, object_type="Webhook", locate=_webhook_of_actor
)
@transaction.atomic
def webhook_delete(*, actor, webhook_id, client_ip=None) -> None:
    try:
        webhook = Webhook.objects.select_for_update().get(pk=webhook_id, tenant_id=actor.tenant_id)
    except (Webhook.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such webhook.") from None
    require(actor, Cap.MANAGE_WEBHOOKS, "Only a Global Administrator manages webhooks.")
    require_step_up(actor, actor.tenant)
    webhook_audit(webhook, actor=actor, operation=Operation.WEBHOOK_DELETED, client_ip=client_ip)
    webhook.delete()


def _locked_webhook(actor, webhook_id) -> Webhook:
    """The actor's tenant's webhook, locked; another tenant's is a 404 before any 403."""
    try:
        webhook = Webhook.objects.select_for_update().get(pk=webhook_id, tenant_id=actor.tenant_id)
    except (Webhook.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such webhook.") from None
    require(actor, Cap.MANAGE_WEBHOOKS, "Only a Global Administrator manages webhooks.")
    return webhook


@refusals_audited(
    operation=Operation.WEBHOOK_UPDATED, object_type="Webhook", locate=_webhook_of_actor
)
@transaction.atomic
def webhook_update(
    *, actor, webhook_id, events=None, description=None, enabled=None, client_ip=None
) -> Webhook:
    """Change the events an endpoint receives, its description, or enable it again after a
    410 (None: unchanged). Audited with the old and new values; a no-op writes nothing."""
    webhook = _locked_webhook(actor, webhook_id)
    require_step_up(actor, actor.tenant)  # as registering and deleting an endpoint do
    old = {"events": webhook.events, "description": webhook.description}
    old["enabled"] = webhook.disabled_at is None
    new = dict(old)
    if events is not None:
        new["events"] = _clean_events(events)
    if description is not None:
        new["description"] = _clean_description(description)
    if enabled is not None:
        if not isinstance(enabled, bool):
            raise InvalidInput("enabled must be true or false.")
        new["enabled"] = enabled
    changed = {name: {"old": old[name], "new": new[name]} for name in old if old[name] != new[name]}
    if not changed:
        return webhook
    webhook.events, webhook.description = new["events"], new["description"]
    if new["enabled"] != old["enabled"]:
        webhook.disabled_at = None if new["enabled"] else timezone.now()
        webhook.disabled_reason = "" if new["enabled"] else "Disabled by an administrator."
    webhook.save(update_fields=["events", "description", "disabled_at", "disabled_reason"])
    webhook_audit(
        webhook,
        actor=actor,
        operation=Operation.WEBHOOK_UPDATED,
        client_ip=client_ip,
        changes=changed,
    )
    return webhook


def _require_enabled(webhook: Webhook) -> None:
    if webhook.disabled_at is not None:
        raise InvalidState(
            f"This webhook is disabled ({webhook.disabled_reason}); enable it first.",
            {"disabled_at": webhook.disabled_at.isoformat()},
        )


@refusals_audited(
    operation=Operation.WEBHOOK_TESTED, object_type="Webhook", locate=_webhook_of_actor
)
@transaction.atomic
def webhook_test(*, actor, webhook_id, client_ip=None) -> OutboxMessage:
    """Send `webhook.test` to this one endpoint, whatever events it chose, through the outbox."""
    webhook = _locked_webhook(actor, webhook_id)
    _require_enabled(webhook)
    payload = _payload(
        TEST_EVENT,
        {
            "webhook": {"id": webhook.pk, "description": webhook.description},
            "sent_by": actor.username,
        },
    )
    message = outbox_enqueue(
        kind=OutboxMessage.Kind.WEBHOOK,
        tenant_id=webhook.tenant_id,
        payload=payload,
        webhook=webhook,
    )
    webhook_audit(
        webhook,
        actor=actor,
        operation=Operation.WEBHOOK_TESTED,
        client_ip=client_ip,
        delivery=str(message.pk),
    )
    return message


@refusals_audited(
    operation=Operation.WEBHOOK_DELIVERY_RETRIED, object_type="Webhook", locate=_webhook_of_actor
)
@transaction.atomic
def webhook_delivery_retry(*, actor, webhook_id, delivery_id, client_ip=None) -> OutboxMessage:
    """Replay one delivery: the same message (same `webhook-id`, so a receiver that already
    has it can tell) goes again through the outbox, with fresh attempts."""
    webhook = _locked_webhook(actor, webhook_id)
    _require_enabled(webhook)
    try:
        message = OutboxMessage.objects.select_for_update().get(pk=delivery_id, webhook=webhook)
    except (OutboxMessage.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound("No such delivery.") from None
    now = timezone.now()
    if message.claimed_until is not None and message.claimed_until > now:
        raise InvalidState("This delivery is being sent right now.")
    previous = {"sent_at": message.sent_at, "attempts": message.attempts}
    OutboxMessage.objects.filter(pk=message.pk).update(
        sent_at=None,
        attempts=0,
        available_at=now,
        last_error="",
        response_status=None,
        claimed_until=None,
    )
    webhook_audit(
        webhook,
        actor=actor,
        operation=Operation.WEBHOOK_DELIVERY_RETRIED,
        client_ip=client_ip,
        delivery=str(message.pk),
        event=message.payload.get("event", ""),
        previous_attempts=previous["attempts"],
        was_delivered=previous["sent_at"] is not None,
    )
    transaction.on_commit(lambda: outbox_dispatch(message.pk))
    message.refresh_from_db()
    return message


def _payload(event: str, data: dict) -> dict:
    # Delivery adds the outbox message's "id" (webhook_http.post_event).
    return {"event": event, "occurred_at": timezone.now().isoformat(), **data}


def event_payload(access_request: AccessRequest, event: str) -> dict:
    return _payload(
        event,
        {
            "request": {
                "id": access_request.pk,
                "tenant": access_request.tenant.slug,
                "ticket": access_request.ticket.number,
                "requester": access_request.requester.username,
                "status": access_request.status,
                "auto_approved": access_request.auto_approved,
                "reason": access_request.reason,
                "reason_type": access_request.reason_type,
                "duration_minutes": access_request.duration_minutes,
                "expires_at": access_request.expires_at.isoformat(),
                "starts_at": _iso(access_request.starts_at),
                "window_starts_at": _iso(access_request.window_starts_at),
                "window_ends_at": _iso(access_request.window_ends_at),
                "extends": access_request.extends_id,
                "approvals_required": access_request.approvals_required,
                "emergency": access_request.emergency,
                "review_status": access_request.review_status or None,
            }
        },
    )


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


# Read by every decision: compiled once (lockbox_site.compiled).
_ENABLED = Compiled(
    lambda tenant_id: Webhook.objects.filter(tenant_id=tenant_id, disabled_at__isnull=True)
)


def _enqueue(tenant_id: int, payload: dict) -> int:
    """To each enabled endpoint of the tenant that chose this event. (Up to ten endpoints:
    the choice is checked here rather than with a JSON lookup SQLite lacks.)"""
    hooks = [webhook for webhook in _ENABLED.rows(tenant_id) if payload["event"] in webhook.events]
    for webhook in hooks:
        outbox_enqueue(
            kind=OutboxMessage.Kind.WEBHOOK,
            tenant_id=tenant_id,
            payload=payload,
            webhook=webhook,
        )
    return len(hooks)


def webhooks_enqueue(access_request: AccessRequest, event: str) -> int:
    """One outbox message per registered webhook of the request's tenant, in this transaction."""
    if not getattr(access_request, "webhooks_exist", True):
        return 0  # the transition's locking read found no enabled webhook (common.py)
    return _enqueue(access_request.tenant_id, event_payload(access_request, event))


def tenant_event_enqueue(tenant_id: int, event: str, data: dict) -> int:
    """An event about the tenant rather than one request: `{"id", "event", "occurred_at",
    **data}` to each of its webhooks, through the outbox, in the caller's transaction."""
    return _enqueue(tenant_id, _payload(event, data))


def checkpoint_webhooks_enqueue(sender, *, checkpoint: AuditCheckpoint, tenant: Tenant, **kwargs):
    """Receiver of audit_app's checkpoint_issued: the customer keeps copies we cannot change."""
    tenant_event_enqueue(
        tenant.pk, "audit.checkpoint", {"checkpoint": checkpoint_as_json(checkpoint, tenant)}
    )
