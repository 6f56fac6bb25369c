from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from lockbox_site.api_docs import ERRORS
from lockbox_site.errors import NotFound
from lockbox_site.web import client_ip

from .export import audit_csv_response
from .filters import AuditRecordFilter
from .models import AuditCheckpoint
from .policies import (
    retention_policy_create,
    retention_policy_delete,
    retention_policy_update,
)
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


class AuditRecordViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AuditRecordSerializer
    filterset_class = AuditRecordFilter
    pagination_class = AuditCursorPagination

    def get_queryset(self):
        return audit_records_for_user(self.request.user).select_related("tenant")

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"])
    def export(self, request):
        queryset = self.filter_queryset(self.get_queryset().select_related(None))
        return audit_csv_response(queryset, request.user.tenant.slug)


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
