from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from lockbox_site.api_docs import ERRORS
from lockbox_site.errors import InvalidInput, NotAllowed, NotFound
from lockbox_site.renderers import FastJSONRenderer
from lockbox_site.web import client_ip
from tenants_app.roles import Cap, can

from .export import audit_csv_response
from .export_jsonl import CONTENT_TYPE as JSONL_CONTENT_TYPE
from .export_jsonl import audit_jsonl_response
from .export_ocsf import audit_ocsf_response
from .filters import AuditRecordFilter
from .models import AuditCheckpoint, AuditRecord
from .policies import (
    retention_policy_create,
    retention_policy_delete,
    retention_policy_update,
)
from .search import AuditSearchBackend
from .selectors import audit_records_for_user, checkpoints_for_user, retention_policies_for_user
from .serializers import (
    AuditCheckpointSerializer,
    AuditRecordSerializer,
    RetentionPolicySerializer,
)


class AuditCursorPagination(CursorPagination):
    # Stable under concurrent inserts: a page never repeats or skips a record.
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


EXPORT_FORMATS = ("csv", "jsonl", "ocsf")
# A verifiable export is a contiguous run of the chain: only a time span may narrow it.
JSONL_PARAMETERS = {"format", "start", "end"}


class ExportNegotiation(DefaultContentNegotiation):
    """The export's `format` names its file (csv or jsonl), not one of DRF's renderers; the file
    bypasses renderers, so only the errors are rendered, as JSON whatever Accept asks for."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AuditRecordViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AuditRecordSerializer
    filterset_class = AuditRecordFilter
    filter_backends = [AuditSearchBackend]
    pagination_class = AuditCursorPagination

    def get_queryset(self):
        return audit_records_for_user(self.request.user)

    def paginate_queryset(self, queryset):
        # A page is rendered from the record's values: no model instance per record. For the
        # list the queryset is a SearchPage, its statement compiled once per filter shape.
        return super().paginate_queryset(queryset.values(*AuditRecordSerializer.ROW))

    def get_serializer_context(self):
        # The caller's tenant (already loaded by the capability check) names every record the
        # selector returns, so the serializer takes its slug from here instead of a join.
        return {**super().get_serializer_context(), "tenant": _tenant_of(self.request)}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=EXPORT_FORMATS,
                default="csv",
                description="csv: the records the search's filters match. jsonl: a contiguous "
                "run of the hash chain that verifies offline (only start and end may narrow it). "
                "ocsf: the records the filters match as OCSF 1.5.0 API Activity events, JSON "
                "Lines, the request id in metadata.correlation_uid (for SIEMs).",
            ),
            OpenApiParameter(
                "start", OpenApiTypes.DATETIME, description="From the first record at or after"
            ),
            OpenApiParameter(
                "end", OpenApiTypes.DATETIME, description="To the last record at or before"
            ),
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, JSONL_CONTENT_TYPE): OpenApiTypes.STR,
            **ERRORS,
        },
    )
    @action(
        detail=False,
        methods=["get"],
        renderer_classes=[FastJSONRenderer],
        content_negotiation_class=ExportNegotiation,
    )
    def export(self, request):
        export_format = request.query_params.get("format", "csv")
        if export_format not in EXPORT_FORMATS:
            raise ValidationError({"format": [f"One of: {', '.join(EXPORT_FORMATS)}."]})
        if export_format == "jsonl":
            return self._export_jsonl(request)
        queryset = self.filter_queryset(self.get_queryset())
        if export_format == "ocsf":
            self._require_search(request)
            return audit_ocsf_response(queryset, request.user.tenant.slug)
        return audit_csv_response(queryset, request.user.tenant.slug)

    @staticmethod
    def _require_search(request):
        if not can(request.user, Cap.SEARCH_AUDIT):
            raise NotAllowed(
                "Only a Global Administrator or an Audit Reader exports the audit log."
            )

    def _export_jsonl(self, request):
        self._require_search(request)
        others = sorted(set(request.query_params) - JSONL_PARAMETERS)
        if others:
            raise InvalidInput(
                "format=jsonl exports a contiguous run of the audit chain: only start and end "
                f"may narrow it, not {', '.join(others)}.",
                {"parameters": others},
            )
        filterset = AuditRecordFilter(request.query_params, queryset=AuditRecord.objects.none())
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        span = filterset.form.cleaned_data
        return audit_jsonl_response(request.user.tenant, span.get("start"), span.get("end"))


def _tenant_of(request):
    """The signed-in user's tenant; None for anonymous callers and schema generation."""
    return getattr(getattr(request, "user", None), "tenant", None)


class CheckpointCursorPagination(CursorPagination):
    ordering = ("-seq", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


@extend_schema_view(
    # 404: a cursor that is not one of ours.
    list=extend_schema(
        responses={200: AuditCheckpointSerializer(many=True), 403: ERRORS[403], 404: ERRORS[404]}
    )
)
class AuditCheckpointViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's tenant's signed checkpoints (SPEC 11), newest first."""

    serializer_class = AuditCheckpointSerializer
    pagination_class = CheckpointCursorPagination
    filter_backends = []
    queryset = AuditCheckpoint.objects.none()  # the model, for the schema

    def get_queryset(self):
        return checkpoints_for_user(self.request.user)

    @extend_schema(responses={200: AuditCheckpointSerializer, 403: ERRORS[403], 404: ERRORS[404]})
    @action(detail=False, methods=["get"])
    def latest(self, request):
        checkpoint = self.get_queryset().first()
        if checkpoint is None:
            raise NotFound("No checkpoint has been issued for this tenant yet.")
        return Response(AuditCheckpointSerializer(checkpoint).data)


@extend_schema_view(
    create=extend_schema(responses={201: RetentionPolicySerializer, **ERRORS}),
    update=extend_schema(responses={200: RetentionPolicySerializer, **ERRORS}),
    partial_update=extend_schema(responses={200: RetentionPolicySerializer, **ERRORS}),
    destroy=extend_schema(responses={204: None, **ERRORS}),
    retrieve=extend_schema(responses={200: RetentionPolicySerializer, **ERRORS}),
)
class RetentionPolicyViewSet(viewsets.ModelViewSet):
    serializer_class = RetentionPolicySerializer
    pagination_class = None

    def get_queryset(self):
        return retention_policies_for_user(self.request.user)

    def create(self, request):
        data = RetentionPolicySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy = retention_policy_create(
            actor=request.user, data=data.validated_data, client_ip=client_ip(request)
        )
        return Response(RetentionPolicySerializer(policy).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        self.get_object()  # another tenant's policy is a 404 before any permission check
        data = RetentionPolicySerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        policy = retention_policy_update(
            actor=request.user,
            policy_id=pk,
            data=data.validated_data,
            partial=partial,
            client_ip=client_ip(request),
        )
        return Response(RetentionPolicySerializer(policy).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    def destroy(self, request, pk=None):
        self.get_object()
        retention_policy_delete(actor=request.user, policy_id=pk, client_ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
