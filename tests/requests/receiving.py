"""What a webhook receiver does with a delivery: verify it with the `standardwebhooks` package
and parse it with the `cloudevents` SDK (as the README's receiver does)."""

from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from standardwebhooks import Webhook as StandardWebhook


def receive(secret: str, headers: dict, body: bytes):
    """The verified CloudEvent; raises WebhookVerificationError if the signature is wrong."""
    StandardWebhook(secret).verify(body, headers)
    return from_http_event(
        HTTPMessage(headers={k.lower(): v for k, v in headers.items()}, body=body)
    )
