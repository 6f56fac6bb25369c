"""The webhook event types (SPEC 12): what an endpoint may choose, and their CloudEvents type.

A new event is one line here and one `webhooks_enqueue(access_request, name)` where it
happens; request statuses are told as `request.<status>` (services.notifications).
"""

CLOUDEVENT_PREFIX = "com.lockbox."

REQUEST_EVENTS = (
    "request.pending_customer",
    "request.approved",
    "request.denied",
    "request.cancelled",
    "request.expired",
    "request.revoked",
    # SPEC 10 (richer decisions): sent once those transitions exist.
    "request.info_requested",
    "request.info_provided",
    "request.emergency_access",
    "request.review_overdue",
    "access.closed",
)
TENANT_EVENTS = ("audit.checkpoint",)
# What an endpoint subscribes to. `webhook.test` is sent on demand to one endpoint, whatever
# it chose.
SUBSCRIBABLE = (*REQUEST_EVENTS, *TENANT_EVENTS)
TEST_EVENT = "webhook.test"


def cloudevent_type(event: str) -> str:
    return CLOUDEVENT_PREFIX + event


def cloudevent(*, delivery_id: str, payload: dict, source: str) -> dict:
    """The CloudEvents 1.0 structured JSON event for one outbox payload
    ({"event", "occurred_at", **data}); its id is the delivery's (the `webhook-id`)."""
    event = {
        "specversion": "1.0",
        "id": delivery_id,
        "source": source,
        "type": cloudevent_type(payload["event"]),
        "time": payload["occurred_at"],
        "datacontenttype": "application/json",
        "data": {k: v for k, v in payload.items() if k not in ("event", "occurred_at")},
    }
    request = payload.get("request")
    if isinstance(request, dict) and "id" in request:
        event["subject"] = str(request["id"])
    return event
