"""Webhooks: registration (audited, address-checked) and tenant events queued in the outbox."""

import hashlib
import secrets
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit_app.checkpoints import checkpoint_as_json
from audit_app.models import AuditCheckpoint, Operation, RecordType
from audit_app.refusals import actor_tenant, refusals_audited
from audit_app.services import audit_record
from lockbox_site.errors import InvalidInput, NotFound
from lockbox_site.ids import as_id
from tenants_app.mfa import require_step_up
from tenants_app.models import Tenant
from tenants_app.roles import Cap, require

from ..models import AccessRequest, OutboxMessage, Webhook
from .outbox import outbox_enqueue
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


def redact_url(url: str) -> str:
    """What an audit record keeps of an endpoint URL: its origin only.

    Secrets hide anywhere in a URL (user:password@, a path like Slack's /services/T/B/SECRET,
    ;params, any query name, the fragment): masking a list of them leaks the rest, so the
    record keeps scheme, host and port, and `url_sha256` tells which URL it was.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}/…"


def _audit(webhook: Webhook, *, actor, operation, client_ip):
    audit_record(
        tenant_id=webhook.tenant_id,
        actor=actor,
        record_type=RecordType.SETTINGS,
        operation=operation,
        object_type="Webhook",
        object_id=webhook.pk,
        details={
            "url": redact_url(webhook.url),
            "url_sha256": hashlib.sha256(webhook.url.encode()).hexdigest(),
            "description": webhook.description,
        },
        client_ip=client_ip,
    )


def _webhook_of_actor(kwargs):
    actor, webhook_id = kwargs["actor"], as_id(kwargs["webhook_id"])
    if not Webhook.objects.filter(pk=webhook_id, tenant_id=actor.tenant_id).exists():
        return None
    return actor.tenant_id, webhook_id, {}


@refusals_audited(
    operation=Operation.WEBHOOK_REGISTERED, object_type="Webhook", locate=actor_tenant
)
def webhook_create(*, actor, url, description="", client_ip=None) -> Webhook:
    require(actor, Cap.MANAGE_WEBHOOKS, "Only a Global Administrator manages webhooks.")
    require_step_up(actor, actor.tenant)
    url = _clean_url(url)
    if not isinstance(description, str) or len(description) > 200:
        raise InvalidInput("The description must be text of at most 200 characters.")
    _check_target(url)  # a DNS lookup: before the transaction, never inside it
    return _webhook_create(actor=actor, url=url, description=description, client_ip=client_ip)


@transaction.atomic
def _webhook_create(*, actor, url, description, client_ip) -> Webhook:
    # The tenant's row lock makes the count and the insert one step: concurrent registrations
    # cannot pass the limit together.
    Tenant.objects.select_for_update().get(pk=actor.tenant_id)
    if Webhook.objects.filter(tenant_id=actor.tenant_id).count() >= MAX_WEBHOOKS_PER_TENANT:
        raise InvalidInput(f"A tenant can register at most {MAX_WEBHOOKS_PER_TENANT} webhooks.")
    webhook = Webhook.objects.create(
        tenant_id=actor.tenant_id,
        url=url,
        description=description.strip(),
        secret=secrets.token_hex(32),
        created_by=actor,
    )
    _audit(webhook, actor=actor, operation=Operation.WEBHOOK_REGISTERED, client_ip=client_ip)
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
    _audit(webhook, actor=actor, operation=Operation.WEBHOOK_DELETED, client_ip=client_ip)
    webhook.delete()


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


def _enqueue(tenant_id: int, payload: dict) -> int:
    hooks = list(Webhook.objects.filter(tenant_id=tenant_id))
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
