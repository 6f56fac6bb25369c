from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from lockbox_site.read_serializers import BuiltOnce
from tenants_app.models import CloudPC

from .events import SUBSCRIBABLE
from .models import AccessRequest, Decision, Ticket
from .services.common import customer_approvals
from .services.statements import DECISION_KINDS, DECISION_TYPE
from .services.transitions import ACTIONS, allowed_actions


class TicketSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "tenant",
            "title",
            "description",
            "status",
            "created_by",
            "created_at",
            "closed_at",
        ]
        read_only_fields = fields


class TicketCreateSerializer(serializers.Serializer):
    tenant = serializers.SlugField(
        max_length=60, help_text="The customer tenant's slug, e.g. contoso"
    )
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(
        max_length=10000, required=False, allow_blank=True, default=""
    )


class StatementCloudPCSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class StatementWindowSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class DecisionStatementSerializer(serializers.Serializer):
    """The schema of a signed statement; the API serves the stored statement byte for byte."""

    type = serializers.CharField(help_text=f'Always "{DECISION_TYPE}"')
    tenant = serializers.CharField(help_text="The tenant's slug")
    tenant_id = serializers.IntegerField()
    request = serializers.IntegerField(help_text="The access request's id")
    ticket = serializers.CharField(help_text="e.g. TKT-000123")
    requester = serializers.CharField()
    cloud_pcs = StatementCloudPCSerializer(many=True, help_text="Sorted by id")
    decision = serializers.ChoiceField(choices=DECISION_KINDS)
    by = serializers.CharField(help_text='Who decided: a username or "System"')
    at = serializers.DateTimeField()
    window = StatementWindowSerializer(allow_null=True)
    comment_sha256 = serializers.CharField(help_text="SHA-256 (hex) of the UTF-8 comment")


class DecisionSerializer(BuiltOnce, serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", read_only=True)
    statement = serializers.SerializerMethodField(
        help_text="The signed statement of a customer-side decision; null for the provider's own"
    )
    jws = serializers.SerializerMethodField(
        help_text="Compact JWS (EdDSA) over the canonical statement; verify with "
        "/.well-known/lockbox-keys.json"
    )

    class Meta:
        model = Decision
        fields = [
            "stage",
            "outcome",
            "actor",
            "automatic",
            "comment",
            "created_at",
            "statement",
            "jws",
        ]
        read_only_fields = fields

    @extend_schema_field(DecisionStatementSerializer(allow_null=True))
    def get_statement(self, decision) -> dict | None:
        # As stored and signed: re-serializing could change a byte the signature covers.
        return decision.statement or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_jws(self, decision) -> str | None:
        return decision.jws or None


class CloudPCBriefSerializer(BuiltOnce, serializers.ModelSerializer):
    class Meta:
        model = CloudPC
        fields = ["id", "name", "region"]
        read_only_fields = fields


class ApprovalSerializer(BuiltOnce, serializers.Serializer):
    """One customer approval of the request (SPEC 10: a quorum needs several)."""

    by = serializers.CharField(source="actor_name")
    at = serializers.DateTimeField(source="created_at")
    comment = serializers.CharField()
    duration_minutes = serializers.IntegerField(
        allow_null=True, help_text="A shorter window this approver chose, if any"
    )


class MessageSerializer(BuiltOnce, serializers.Serializer):
    by = serializers.CharField(source="author.username")
    at = serializers.DateTimeField(source="created_at")
    kind = serializers.ChoiceField(choices=["question", "answer"])
    text = serializers.CharField()


class ReviewSerializer(BuiltOnce, serializers.Serializer):
    """The customer's review of an emergency access (SPEC 10)."""

    status = serializers.ChoiceField(
        source="review_status", choices=["pending", "accepted", "disputed", "overdue"]
    )
    due_at = serializers.DateTimeField(source="review_due_at")
    by = serializers.CharField(source="reviewed_by.username", allow_null=True, default=None)
    at = serializers.DateTimeField(source="reviewed_at", allow_null=True)
    comment = serializers.CharField(source="review_comment")


class AccessRequestSerializer(BuiltOnce, serializers.ModelSerializer):
    ticket = serializers.PrimaryKeyRelatedField(read_only=True)
    ticket_number = serializers.CharField(source="ticket.number", read_only=True)
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    requester = serializers.SlugRelatedField(slug_field="username", read_only=True)
    cloud_pcs = CloudPCBriefSerializer(many=True, read_only=True)
    decisions = DecisionSerializer(many=True, read_only=True)
    allowed_actions = serializers.SerializerMethodField(
        help_text="What you may do with this request now: POST to /api/v1/requests/{id}/"
        "{action}/ (request_info is request-info/, emergency_approve is emergency-approve/); "
        "operate means its Cloud PCs are yours to act on (/api/v1/cloud-pcs/)"
    )
    extends = serializers.IntegerField(
        source="extends_id",
        read_only=True,
        allow_null=True,
        help_text="The request this one extends (SPEC 10), or null",
    )
    approvals = serializers.SerializerMethodField(help_text="The customer approvals given so far")
    messages = MessageSerializer(many=True, read_only=True)
    review = serializers.SerializerMethodField(
        help_text="The customer's review of an emergency access; null for any other request"
    )

    class Meta:
        model = AccessRequest
        fields = [
            "id",
            "ticket",
            "ticket_number",
            "tenant",
            "requester",
            "cloud_pcs",
            "reason",
            "reason_type",
            "duration_minutes",
            "starts_at",
            "extends",
            "status",
            "auto_approved",
            "emergency",
            "created_at",
            "expires_at",
            "deadline_paused_seconds",
            "window_starts_at",
            "window_ends_at",
            "closed_at",
            "approvals_required",
            "approvals",
            "messages",
            "review",
            "decisions",
            "allowed_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(ApprovalSerializer(many=True))
    def get_approvals(self, access_request) -> list[dict]:
        return ApprovalSerializer(customer_approvals(access_request), many=True).data

    @extend_schema_field(ReviewSerializer(allow_null=True))
    def get_review(self, access_request) -> dict | None:
        if not access_request.emergency:
            return None
        return ReviewSerializer(access_request).data

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=ACTIONS)))
    def get_allowed_actions(self, access_request) -> list[str]:
        # The API passes its request; the evidence bundle, which holds the request as the API
        # shows it to the same person, passes the viewer.
        viewer = self.context.get("viewer") or getattr(self.context.get("request"), "user", None)
        if viewer is None:
            return []
        found = allowed_actions(viewer, access_request, timezone.now())
        return [action for action in ACTIONS if action in found]


class AccessRequestCreateSerializer(serializers.Serializer):
    ticket = serializers.IntegerField(min_value=1)
    cloud_pcs = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=100
    )
    reason = serializers.CharField(max_length=4000)
    reason_type = serializers.ChoiceField(
        choices=AccessRequest.ReasonType.choices,
        default=AccessRequest.ReasonType.CUSTOMER_INITIATED_SUPPORT,
    )
    duration_minutes = serializers.IntegerField(
        required=False,
        min_value=settings.LOCKBOX_MIN_ACCESS_MINUTES,
        max_value=settings.LOCKBOX_MAX_ACCESS_MINUTES,
        help_text=f"Default {settings.LOCKBOX_DEFAULT_ACCESS_MINUTES}, at most the customer's "
        "max_access_minutes",
    )
    starts_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="A scheduled start, from now to 7 days ahead: the window opens then (or at "
        "the approval, if later)",
    )


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ApproveSerializer(CommentSerializer):
    duration_minutes = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=settings.LOCKBOX_MIN_ACCESS_MINUTES,
        max_value=settings.LOCKBOX_MAX_ACCESS_MINUTES,
        help_text="A shorter window than the engineer asked for (customer approvals only); "
        "with a quorum the smallest wins",
    )


class QuestionSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=4000)


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=4000)


class ExtendSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000)
    duration_minutes = serializers.IntegerField(
        required=False,
        min_value=settings.LOCKBOX_MIN_ACCESS_MINUTES,
        max_value=settings.LOCKBOX_MAX_ACCESS_MINUTES,
        help_text=f"Default {settings.LOCKBOX_DEFAULT_ACCESS_MINUTES}",
    )


class EmergencySerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000, help_text="Why it cannot wait")


class ReviewInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["accepted", "disputed"])
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class CloudPCSerializer(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = CloudPC
        fields = ["id", "name", "tenant", "assigned_user", "region", "status", "last_restarted_at"]
        read_only_fields = fields


class CloudPCDiagnosticsSerializer(serializers.ModelSerializer):
    class Meta:
        model = CloudPC
        fields = ["id", "name", "status", "diagnostics"]
        read_only_fields = fields


class WebhookSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=SUBSCRIBABLE))
    enabled = serializers.SerializerMethodField()

    class Meta:
        from .models import Webhook

        model = Webhook
        fields = [
            "id",
            "url",
            "description",
            "events",
            "enabled",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "created_by",
        ]
        read_only_fields = fields

    def get_enabled(self, webhook) -> bool:
        return webhook.disabled_at is None


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="Shown once: the Standard Webhooks secret (whsec_...) that verifies "
        "webhook-signature",
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class WebhookInputSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE),
        required=False,
        allow_empty=False,
        help_text="The events it receives; every one if left out",
    )


class WebhookUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE), required=False, allow_empty=False
    )
    enabled = serializers.BooleanField(
        required=False, help_text="true enables an endpoint disabled after a 410 Gone"
    )


class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    event = serializers.CharField(source="payload.event")
    request_id = serializers.IntegerField(source="payload.request.id", allow_null=True)
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    attempts = serializers.IntegerField()
    response_status = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    next_attempt_at = serializers.DateTimeField(source="available_at")
