"""Audit records about webhooks, and the one change delivery itself makes to a webhook:
disabling an endpoint that answered 410 Gone (imported by the outbox, so it imports no
other service)."""

import hashlib
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from audit_app.models import Operation, RecordType
from audit_app.services import audit_record

from ..models import Webhook


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


def webhook_audit(webhook: Webhook, *, actor, operation, client_ip=None, **details) -> None:
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
            **details,
        },
        client_ip=client_ip,
    )


@transaction.atomic
def webhook_disable_gone(*, webhook_id, status: int) -> bool:
    """The endpoint answered 410 Gone: stop sending to it (SPEC 12), as the system, audited.
    Returns False if it was already disabled (another delivery got there first)."""
    now = timezone.now()
    reason = f"The endpoint answered HTTP {status} Gone."
    changed = Webhook.objects.filter(pk=webhook_id, disabled_at__isnull=True).update(
        disabled_at=now, disabled_reason=reason
    )
    if changed:
        webhook = Webhook.objects.get(pk=webhook_id)
        webhook_audit(webhook, actor=None, operation=Operation.WEBHOOK_DISABLED, status=status)
    return bool(changed)
