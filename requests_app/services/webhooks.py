"""Webhooks: registration (audited) and signed delivery of request events through the outbox."""

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit_app.models import Operation, RecordType
from audit_app.refusals import actor_tenant, refusals_audited
from audit_app.services import audit_record
from lockbox_site.errors import InvalidInput, NotFound
from lockbox_site.ids import as_int
from tenants_app.roles import Cap, require

from ..models import AccessRequest, OutboxMessage, Webhook

SIGNATURE_HEADER = "X-Lockbox-Signature"
MAX_WEBHOOKS_PER_TENANT = 10


class DeliveryError(Exception):
    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", so a captured body cannot be replayed later."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _check_public(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        raise DeliveryError(f"cannot resolve {host}") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            raise DeliveryError(f"{host} resolves to a non-public address")


def _clean_url(url) -> str:
    if not isinstance(url, str) or len(url) > 500:
        raise InvalidInput("Give a URL of at most 500 characters.", {"url": ["Enter a valid URL."]})
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput("The URL must start with https://.", {"url": ["Enter a valid URL."]})
    if parts.scheme == "http" and not settings.LOCKBOX_WEBHOOK_ALLOW_PRIVATE:
        raise InvalidInput("Webhooks must use https://.", {"url": ["Use https://."]})
    return url.strip()


def _audit(webhook: Webhook, *, actor, operation, client_ip):
    audit_record(
        tenant_id=webhook.tenant_id,
        actor=actor,
        record_type=RecordType.SETTINGS,
        operation=operation,
        object_type="Webhook",
        object_id=webhook.pk,
        details={"url": webhook.url, "description": webhook.description},
        client_ip=client_ip,
    )


def _webhook_of_actor(kwargs):
    actor, webhook_id = kwargs["actor"], as_int(kwargs["webhook_id"])
    if not Webhook.objects.filter(pk=webhook_id, tenant_id=actor.tenant_id).exists():
        return None
    return actor.tenant_id, webhook_id, {}


@refusals_audited(
    operation=Operation.WEBHOOK_REGISTERED, object_type="Webhook", locate=actor_tenant
)
@transaction.atomic
def webhook_create(*, actor, url, description="", client_ip=None) -> Webhook:
    require(actor, Cap.MANAGE_WEBHOOKS, "Only a Global Administrator manages webhooks.")
    url = _clean_url(url)
    if not isinstance(description, str) or len(description) > 200:
        raise InvalidInput("The description must be text of at most 200 characters.")
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
    _audit(webhook, actor=actor, operation=Operation.WEBHOOK_DELETED, client_ip=client_ip)
    webhook.delete()


def event_payload(access_request: AccessRequest, event: str) -> dict:
    return {
        "event": event,
        "occurred_at": timezone.now().isoformat(),
        "request": {
            "id": access_request.pk,
            "tenant": access_request.tenant.slug,
            "ticket": access_request.ticket.number,
            "requester": access_request.requester.username,
            "status": access_request.status,
            "auto_approved": access_request.auto_approved,
            "reason": access_request.reason,
            "duration_minutes": access_request.duration_minutes,
            "expires_at": access_request.expires_at.isoformat(),
            "window_ends_at": access_request.window_ends_at.isoformat()
            if access_request.window_ends_at
            else None,
        },
    }


def webhooks_enqueue(access_request: AccessRequest, event: str) -> int:
    """One outbox message per registered webhook of the request's tenant, in this transaction."""
    from .notifications import outbox_enqueue

    payload = event_payload(access_request, event)
    hooks = list(Webhook.objects.filter(tenant_id=access_request.tenant_id))
    for webhook in hooks:
        outbox_enqueue(
            kind=OutboxMessage.Kind.WEBHOOK,
            tenant_id=access_request.tenant_id,
            payload=payload,
            webhook=webhook,
        )
    return len(hooks)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect could point a public URL at an internal address: treat it as a failure.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def webhook_send(message: OutboxMessage) -> int:
    """POST the signed event; returns the HTTP status, raises DeliveryError otherwise."""
    webhook = message.webhook
    if webhook is None:
        raise DeliveryError("the webhook was deleted")
    if not settings.LOCKBOX_WEBHOOK_ALLOW_PRIVATE:
        _check_public(webhook.url)
    body = json.dumps({"id": str(message.pk), **message.payload}, sort_keys=True).encode()
    timestamp = str(int(timezone.now().timestamp()))
    request = urllib.request.Request(
        webhook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Lockbox-Webhooks/1",
            "X-Lockbox-Event": message.payload["event"],
            "X-Lockbox-Delivery": str(message.pk),
            "X-Lockbox-Timestamp": timestamp,
            SIGNATURE_HEADER: sign(webhook.secret, timestamp, body),
        },
    )
    try:
        with _opener.open(request, timeout=settings.LOCKBOX_WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}", status=exc.code) from None
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(str(getattr(exc, "reason", exc))) from None
