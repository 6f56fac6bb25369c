from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from lockbox_site.api_docs import ERRORS, STATE_ERRORS
from lockbox_site.errors import NotAllowed, NotFound
from lockbox_site.web import client_ip
from tenants_app.models import CloudPC
from tenants_app.roles import Cap, can

from . import services
from .evidence import evidence_response
from .filters import AccessRequestFilter
from .models import Webhook
from .selectors import (
    access_requests_for_user,
    cloud_pcs_for_user,
    tickets_for_user,
    with_relations,
)
from .serializers import (
    AccessRequestCreateSerializer,
    AccessRequestSerializer,
    AnswerSerializer,
    ApproveSerializer,
    CloudPCDiagnosticsSerializer,
    CloudPCSerializer,
    CommentSerializer,
    EmergencySerializer,
    ExtendSerializer,
    QuestionSerializer,
    ReviewInputSerializer,
    TicketCreateSerializer,
    TicketSerializer,
    WebhookCreatedSerializer,
    WebhookDeliverySerializer,
    WebhookInputSerializer,
    WebhookSerializer,
    WebhookUpdateSerializer,
)


@extend_schema_view(
    list=extend_schema(responses=TicketSerializer(many=True)),
    retrieve=extend_schema(responses={200: TicketSerializer, **ERRORS}),
)
class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = TicketSerializer
    filterset_fields = ["status"]

    def get_queryset(self):
        return tickets_for_user(self.request.user).order_by("-created_at", "-id")

    @extend_schema(request=TicketCreateSerializer, responses={201: TicketSerializer, **ERRORS})
    def create(self, request):
        data = TicketCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = services.ticket_open(
            actor=request.user,
            tenant_slug=data.validated_data["tenant"],
            title=data.validated_data["title"],
            description=data.validated_data["description"],
        )
        return Response(TicketSerializer(ticket).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: TicketSerializer, **STATE_ERRORS})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        ticket = services.ticket_close(
            actor=request.user, ticket_id=pk, client_ip=client_ip(request)
        )
        return Response(TicketSerializer(ticket).data)


class EvidenceSerializer(serializers.Serializer):
    """The evidence bundle's shape, for the API docs (the document is written by
    requests_app.evidence; its lines are those of the format=jsonl audit export)."""

    format = serializers.CharField(help_text="lockbox-evidence/v1")
    request = AccessRequestSerializer()
    decisions = serializers.ListField(
        child=serializers.DictField(), help_text="Each signed decision's statement and JWS"
    )
    records = serializers.ListField(
        child=serializers.DictField(),
        help_text="The tenant's chain from the request's first record to its last, every record "
        "between included (as the format=jsonl audit export writes them)",
    )
    pruned = serializers.ListField(
        child=serializers.DictField(), help_text="Ranges inside the run that retention deleted"
    )
    checkpoint = serializers.DictField(
        allow_null=True, help_text="A signed checkpoint whose seq covers the run's last record"
    )
    keys = serializers.DictField(help_text="The JWKS that verifies the signatures")


TRANSITION_SCHEMA = extend_schema(
    request=CommentSerializer, responses={200: AccessRequestSerializer, **STATE_ERRORS}
)


@extend_schema_view(
    list=extend_schema(responses=AccessRequestSerializer(many=True)),
    retrieve=extend_schema(responses={200: AccessRequestSerializer, **ERRORS}),
)
class AccessRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = AccessRequestSerializer
    filterset_class = AccessRequestFilter

    def get_queryset(self):
        return access_requests_for_user(self.request.user).order_by("-created_at", "-id")

    def _respond(self, access_request, code=status.HTTP_200_OK):
        with_relations(access_request)
        serializer = AccessRequestSerializer(access_request, context=self.get_serializer_context())
        return Response(serializer.data, status=code)

    @extend_schema(
        request=AccessRequestCreateSerializer,
        responses={201: AccessRequestSerializer, **STATE_ERRORS},
    )
    def create(self, request):
        data = AccessRequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        access_request = services.access_request_create(
            actor=request.user,
            ticket_id=data.validated_data["ticket"],
            cloud_pc_ids=data.validated_data["cloud_pcs"],
            reason=data.validated_data["reason"],
            reason_type=data.validated_data["reason_type"],
            duration_minutes=data.validated_data.get("duration_minutes"),
            starts_at=data.validated_data.get("starts_at"),
            client_ip=client_ip(request),
        )
        return self._respond(access_request, status.HTTP_201_CREATED)

    def _act(self, request, pk, service, serializer_class=CommentSerializer, **kwargs):
        """Validate the body, run one service function, return the request."""
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        access_request = service(
            actor=request.user,
            access_request_id=pk,
            client_ip=client_ip(request),
            **data.validated_data,
            **kwargs,
        )
        return self._respond(access_request)

    @extend_schema(responses={200: EvidenceSerializer, **ERRORS})
    @action(detail=True, methods=["get"])
    def evidence(self, request, pk=None):
        """The request's evidence bundle: verify it offline with lockbox-verify."""
        return evidence_response(self.get_object(), request.user)

    @extend_schema(
        request=ApproveSerializer, responses={200: AccessRequestSerializer, **STATE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve: a manager's internal approval, or one customer approval (the last one of
        the tenant's quorum approves the request; duration_minutes may shorten the window)."""
        return self._act(
            request, pk, services.access_request_decide, ApproveSerializer, approve=True
        )

    @TRANSITION_SCHEMA
    @action(detail=True, methods=["post"])
    def deny(self, request, pk=None):
        return self._act(request, pk, services.access_request_decide, approve=False)

    @TRANSITION_SCHEMA
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._act(request, pk, services.access_request_cancel)

    @TRANSITION_SCHEMA
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke an approved access (open or scheduled), and its extensions with it."""
        return self._act(request, pk, services.access_request_revoke)

    @extend_schema(
        request=QuestionSerializer, responses={200: AccessRequestSerializer, **STATE_ERRORS}
    )
    @action(detail=True, methods=["post"], url_path="request-info")
    def request_info(self, request, pk=None):
        """Ask the engineer a question: the request waits (info_requested), its deadline stops."""
        return self._act(request, pk, services.access_request_request_info, QuestionSerializer)

    @extend_schema(
        request=AnswerSerializer, responses={200: AccessRequestSerializer, **STATE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        """The engineer's answer: back to pending_customer with the time that was left."""
        return self._act(request, pk, services.access_request_answer, AnswerSerializer)

    @extend_schema(
        request=ExtendSerializer, responses={201: AccessRequestSerializer, **STATE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        """Ask for more time: a new request (extends: id) starting where this window ends."""
        data = ExtendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        extension = services.access_request_extend(
            actor=request.user,
            access_request_id=pk,
            client_ip=client_ip(request),
            **data.validated_data,
        )
        return self._respond(extension, status.HTTP_201_CREATED)

    @extend_schema(
        request=EmergencySerializer, responses={200: AccessRequestSerializer, **STATE_ERRORS}
    )
    @action(detail=True, methods=["post"], url_path="emergency-approve")
    def emergency_approve(self, request, pk=None):
        """Break-glass by a Support Manager, where the tenant allows it (SPEC 10)."""
        return self._act(
            request, pk, services.access_request_emergency_approve, EmergencySerializer
        )

    @extend_schema(
        request=ReviewInputSerializer, responses={200: AccessRequestSerializer, **STATE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """The customer's review of an emergency access: accepted or disputed."""
        return self._act(request, pk, services.access_request_review, ReviewInputSerializer)


@extend_schema_view(list=extend_schema(responses=CloudPCSerializer(many=True)))
class CloudPCViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """A customer admin's own Cloud PCs; for an engineer, each access is an audited action."""

    serializer_class = CloudPCSerializer

    def get_queryset(self):
        return cloud_pcs_for_user(self.request.user).order_by("name", "id")

    def _operate(self, request, pk, action_name):
        if can(request.user, Cap.REQUEST_ACCESS):
            cloud_pc, _grant = services.cloud_pc_operate(
                actor=request.user, cloud_pc_id=pk, action=action_name, client_ip=client_ip(request)
            )
            return cloud_pc
        try:
            cloud_pc = cloud_pcs_for_user(request.user).get(pk=pk)
        except (CloudPC.DoesNotExist, ValueError, TypeError):
            raise NotFound("No such Cloud PC.") from None
        if action_name == "restart":
            raise NotAllowed(
                "Only a support engineer with an approved grant can restart a Cloud PC."
            )
        return cloud_pc

    @extend_schema(responses={200: CloudPCSerializer, **ERRORS})
    def retrieve(self, request, pk=None):
        return Response(CloudPCSerializer(self._operate(request, pk, "view")).data)

    @extend_schema(responses={200: CloudPCDiagnosticsSerializer, **ERRORS})
    @action(detail=True, methods=["get"])
    def diagnostics(self, request, pk=None):
        return Response(
            CloudPCDiagnosticsSerializer(self._operate(request, pk, "diagnostics")).data
        )

    @extend_schema(request=None, responses={200: CloudPCSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def restart(self, request, pk=None):
        return Response(CloudPCSerializer(self._operate(request, pk, "restart")).data)


@extend_schema_view(
    list=extend_schema(responses=WebhookSerializer(many=True)),
    retrieve=extend_schema(responses={200: WebhookSerializer, **ERRORS}),
)
class WebhookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A Global Administrator's webhooks; each receives signed request events."""

    serializer_class = WebhookSerializer
    pagination_class = None

    def get_queryset(self):
        if not can(self.request.user, Cap.MANAGE_WEBHOOKS):
            return Webhook.objects.none()
        return Webhook.objects.filter(tenant_id=self.request.user.tenant_id).select_related(
            "created_by"
        )

    @extend_schema(
        request=WebhookInputSerializer, responses={201: WebhookCreatedSerializer, **ERRORS}
    )
    def create(self, request):
        data = WebhookInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        webhook = services.webhook_create(
            actor=request.user, client_ip=client_ip(request), **data.validated_data
        )
        return Response(WebhookCreatedSerializer(webhook).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, **ERRORS})
    def destroy(self, request, pk=None):
        services.webhook_delete(actor=request.user, webhook_id=pk, client_ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=WebhookUpdateSerializer, responses={200: WebhookSerializer, **ERRORS})
    def partial_update(self, request, pk=None):
        """Change the events, the description, or enable an endpoint again after a 410."""
        data = WebhookUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        webhook = services.webhook_update(
            actor=request.user, webhook_id=pk, client_ip=client_ip(request), **data.validated_data
        )
        return Response(WebhookSerializer(webhook).data)

    @extend_schema(responses={200: WebhookDeliverySerializer(many=True), **ERRORS})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        webhook = self.get_object()
        latest = webhook.deliveries.order_by("-created_at")[:100]
        return Response(WebhookDeliverySerializer(latest, many=True).data)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer, **STATE_ERRORS})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Send a `webhook.test` event to this endpoint (queued; see its deliveries)."""
        message = services.webhook_test(
            actor=request.user, webhook_id=pk, client_ip=client_ip(request)
        )
        return Response(WebhookDeliverySerializer(message).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer, **STATE_ERRORS})
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery>[0-9a-fA-F-]{36})/retry",
    )
    def retry(self, request, pk=None, delivery=None):
        """Replay one delivery: the same event and webhook-id, sent again with fresh attempts."""
        message = services.webhook_delivery_retry(
            actor=request.user, webhook_id=pk, delivery_id=delivery, client_ip=client_ip(request)
        )
        return Response(WebhookDeliverySerializer(message).data, status=status.HTTP_202_ACCEPTED)
