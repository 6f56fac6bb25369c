import base64
import binascii
import json
import uuid

from django.conf import settings
from django.db import models

from lockbox_site.model_loading import LoadedPlainly
from tenants_app.models import CloudPC, Tenant


class Ticket(LoadedPlainly):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETED = "completed", "Completed"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="tickets")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tickets"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def number(self) -> str:
        return f"TKT-{self.pk:06d}"

    @staticmethod
    def pk_from_number(number: str) -> int | None:
        digits = number.strip().upper().removeprefix("TKT-")
        return int(digits) if digits.isdigit() else None


class AccessRequestQuerySet(models.QuerySet):
    def open_at(self, moment):
        """THE grant rule: approved, and the moment inside its window (start included, end not)."""
        return self.filter(
            status=AccessRequest.Status.APPROVED,
            window_starts_at__lte=moment,
            window_ends_at__gt=moment,
        )


class AccessRequest(LoadedPlainly):
    class Status(models.TextChoices):
        PENDING_INTERNAL = "pending_internal", "Pending internal approval"
        PENDING_CUSTOMER = "pending_customer", "Pending customer approval"
        INFO_REQUESTED = "info_requested", "Information requested"
        APPROVED = "approved", "Approved"
        DENIED = "denied", "Denied"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"
        COMPLETED = "completed", "Completed"

    class ReasonType(models.TextChoices):
        """SPEC 10: why the provider asks, as Google Access Approval types it."""

        CUSTOMER_INITIATED_SUPPORT = "customer_initiated_support", "Customer-initiated support"
        PROVIDER_INITIATED_SERVICE = "provider_initiated_service", "Provider-initiated service"
        PROVIDER_INITIATED_REVIEW = "provider_initiated_review", "Provider-initiated review"
        RESPONSE_TO_PRODUCTION_ALERT = (
            "response_to_production_alert",
            "Response to a production alert",
        )
        THIRD_PARTY_DATA_REQUEST = "third_party_data_request", "Third-party data request"

    class ReviewStatus(models.TextChoices):
        """SPEC 10: the customer's review of an emergency access."""

        NONE = "", "None"
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DISPUTED = "disputed", "Disputed"
        OVERDUE = "overdue", "Overdue"

    # Waiting for a decision. The deadline runs in the first two; a question stops it.
    PENDING = (Status.PENDING_INTERNAL, Status.PENDING_CUSTOMER, Status.INFO_REQUESTED)
    DEADLINE_RUNS = (Status.PENDING_INTERNAL, Status.PENDING_CUSTOMER)
    OPEN = (*PENDING, Status.APPROVED)

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="access_requests")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="access_requests")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_requests"
    )
    cloud_pcs = models.ManyToManyField(CloudPC, related_name="access_requests")
    reason = models.TextField()
    reason_type = models.CharField(
        max_length=40, choices=ReasonType.choices, default=ReasonType.CUSTOMER_INITIATED_SUPPORT
    )
    duration_minutes = models.PositiveIntegerField()
    # SPEC 10: a scheduled window opens no earlier than this (an extension: its parent's end).
    starts_at = models.DateTimeField(null=True, blank=True)
    extends = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="extensions"
    )
    # The tenant's required_approvals when the request was made: a policy change does not move
    # the goalposts of a request already waiting.
    approvals_required = models.PositiveSmallIntegerField(default=1)
    # While a question waits (info_requested), the deadline is stopped with this much left.
    deadline_paused_seconds = models.PositiveIntegerField(null=True, blank=True)
    emergency = models.BooleanField(default=False)
    review_status = models.CharField(
        max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.NONE, blank=True
    )
    review_due_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING_INTERNAL
    )
    auto_approved = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(help_text="Deadline for a pending decision")
    window_starts_at = models.DateTimeField(null=True, blank=True)
    window_ends_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Set at internal approval: until then the request is the provider's business alone and
    # invisible to the customer (SPEC 8); once set it stays, whatever happens next.
    reached_customer_at = models.DateTimeField(null=True, blank=True)

    objects = AccessRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweep's two scans (services.sweeps): overdue pending and ended windows.
            models.Index(fields=["status", "expires_at"], name="accessreq_status_expires"),
            models.Index(fields=["status", "window_ends_at"], name="accessreq_status_window"),
            # The customer's list: one tenant, one stage, newest first. The id completes the
            # list's order, so a page is read off the index and stops at its LIMIT (issue 17:
            # without it a stage of 10,000 requests was sorted whole for every page).
            models.Index(
                fields=["tenant", "status", "-created_at", "-id"], name="accessreq_tenant_page"
            ),
            models.Index(fields=["requester", "-created_at"], name="accessreq_requester"),
            # The sweep's scan for emergency reviews that fell due.
            models.Index(fields=["review_status", "review_due_at"], name="accessreq_review_due"),
        ]

    def __str__(self):
        return f"Request {self.pk} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status in self.PENDING

    def deadline_passed(self, moment) -> bool:
        """Past the decision deadline; never while a question stops it (SPEC 10)."""
        return self.status != self.Status.INFO_REQUESTED and self.expires_at <= moment

    def window_open_at(self, moment) -> bool:
        """The grant rule of AccessRequestQuerySet.open_at, for this one object."""
        return (
            self.status == self.Status.APPROVED
            and self.window_starts_at is not None
            and self.window_starts_at <= moment < self.window_ends_at
        )


class Decision(LoadedPlainly):
    class Stage(models.TextChoices):
        INTERNAL = "internal", "Internal (Support Manager)"
        CUSTOMER = "customer", "Customer"
        REVOCATION = "revocation", "Revocation"
        CANCELLATION = "cancellation", "Cancellation"
        EMERGENCY = "emergency", "Emergency access (Support Manager)"
        REVIEW = "review", "Review of an emergency access"

    class Outcome(models.TextChoices):
        APPROVED = "approved"
        DENIED = "denied"
        REVOKED = "revoked"
        CANCELLED = "cancelled"
        ACCEPTED = "accepted"
        DISPUTED = "disputed"

    access_request = models.ForeignKey(
        AccessRequest, on_delete=models.CASCADE, related_name="decisions"
    )
    stage = models.CharField(max_length=12, choices=Stage.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    automatic = models.BooleanField(default=False)
    comment = models.TextField(blank=True)
    # An approval may shorten the window (SPEC 10): at most what was asked; the smallest wins.
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    # A customer-side decision's signed statement (SPEC 11, lockbox.decision/v1) and its
    # compact JWS; empty for the provider's own decisions (internal, cancellation).
    statement = models.JSONField(default=dict, blank=True)
    jws = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.stage} {self.outcome}"

    @property
    def actor_name(self) -> str:
        return self.actor.username if self.actor_id else "System"

    @property
    def key_id(self) -> str:
        """The kid in the JWS header: which of the published keys signed it ("" if unsigned)."""
        header = self.jws.split(".", 1)[0]
        if not header:
            return ""
        try:
            decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
        except (binascii.Error, ValueError):
            return ""
        return decoded.get("kid", "") if isinstance(decoded, dict) else ""


class RequestMessage(LoadedPlainly):
    """The question-and-answer thread on a request (SPEC 10, `messages`)."""

    class Kind(models.TextChoices):
        QUESTION = "question"
        ANSWER = "answer"

    access_request = models.ForeignKey(
        AccessRequest, on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.kind} on request {self.access_request_id}"


def all_webhook_events() -> list[str]:
    from .events import SUBSCRIBABLE

    return list(SUBSCRIBABLE)


class Webhook(models.Model):
    """A customer's endpoint that receives Standard Webhooks-signed CloudEvents (SPEC 12)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # `whsec_` + base64 of the key (Standard Webhooks). Older secrets were 64 hex characters;
    # migration 0009_webhook_standard prefixed them, which keeps the same key bytes for a receiver's library.
    secret = models.CharField(max_length=80, editable=False)
    events = models.JSONField(default=all_webhook_events, help_text="The event types it receives")
    # Set when the endpoint answered 410 Gone: nothing more is sent until it is enabled again.
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.url


class OutboxMessage(models.Model):
    """A notification written in the transaction that caused it; Celery delivers it later."""

    class Kind(models.TextChoices):
        EMAIL = "email"
        WEBHOOK = "webhook"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    tenant = models.ForeignKey(Tenant, null=True, on_delete=models.CASCADE, related_name="+")
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    available_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    webhook = models.ForeignKey(
        Webhook, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    response_status = models.PositiveIntegerField(null=True, blank=True)
    # The worker sending the message holds it until then (services/outbox.py); a lease that ran
    # out is a worker that died mid-send, and the flush job delivers the message again.
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # flush_outbox scans unsent messages that are due.
            models.Index(
                fields=["available_at"],
                condition=models.Q(sent_at__isnull=True),
                name="outbox_unsent_due",
            )
        ]

    def __str__(self):
        return f"{self.kind} {self.id}"
