from datetime import UTC, datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from tenants_app.models import Tenant

from .checkpoints import checkpoint_as_json
from .models import AuditRecord, Operation, RecordType, RetentionPolicy


class AuditRecordListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        as_json = self.child.record_as_json()  # once per page, not once per record
        iterable = data.all() if isinstance(data, models.manager.BaseManager) else data
        return [as_json(record) for record in iterable]


class AuditRecordSerializer(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = AuditRecord
        fields = [
            "id",
            "created_at",
            "tenant",
            "record_type",
            "operation",
            "actor",
            "actor_type",
            "object_type",
            "object_id",
            "result",
            "client_ip",
            "details",
            "request_id",
            "seq",
            "hash",
        ]
        read_only_fields = fields
        list_serializer_class = AuditRecordListSerializer

    # The columns a record's JSON is made from, field for field (the tenant as its id): a page
    # is fetched as these values (no model instances) and rendered from them; a model instance
    # works too (one record, anywhere).
    ROW = tuple("tenant_id" if name == "tenant" else name for name in Meta.fields)

    def to_representation(self, record):
        return self.record_as_json()(record)

    def record_as_json(self):
        """record (a model instance or a dict of ROW) -> its JSON, value for value what the
        fields above return (tests/audit/test_search_shape.py pins it).

        The fields are the record's documented shape (OpenAPI reads them), but rendering a page
        through them (15 field objects built per request, then a lookup, a None check and a call
        per field per record) cost more CPU than the search's SQL. What does not change within a
        page is taken once: the tenant's slug (a search only ever sees the caller's tenant, given
        in the context, so there is no join per record; any other tenant's is read once) and the
        active time zone DRF renders datetimes in."""
        tenant = self.context.get("tenant")
        slugs = {tenant.pk: tenant.slug} if tenant is not None else {}
        created_at = _datetime_as_drf_renders(
            serializers.DateTimeField(
                default_timezone=timezone.get_current_timezone() if settings.USE_TZ else None
            )
        )

        pairs = list(zip(self.Meta.fields, self.ROW, strict=True))

        def as_json(record):
            if not isinstance(record, dict):
                record = {name: getattr(record, name) for name in self.ROW}
            slug = slugs.get(record["tenant_id"])
            if slug is None:
                slug = Tenant.objects.values_list("slug", flat=True).get(pk=record["tenant_id"])
                slugs[record["tenant_id"]] = slug
            out = {name: record[column] for name, column in pairs}
            out["created_at"] = created_at(out["created_at"])
            out["tenant"] = slug
            return out

        return as_json


def _datetime_as_drf_renders(field):
    """field.to_representation, with DRF's common case (an aware datetime as ISO 8601 in the
    field's time zone) taken without its per-value lookups of the format and the zone; anything
    else (naive values, other formats, overflows) goes to DRF itself."""
    zone = getattr(field, "timezone", None)
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if zone is None or not isinstance(output_format, str) or output_format.lower() != ISO_8601:
        return field.to_representation

    # In a zone that is UTC, a UTC value (what the database gives) renders as itself.
    utc = zone is UTC or getattr(zone, "key", None) in ("UTC", "Etc/UTC")

    def render(value):
        if type(value) is not datetime or value.utcoffset() is None:
            return field.to_representation(value)
        if utc and value.tzinfo is UTC:
            text = value.isoformat()
            return text[:-6] + "Z"
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:
            return field.to_representation(value)
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return render


class RetentionPolicySerializer(serializers.ModelSerializer):
    record_types = serializers.ListField(
        child=serializers.ChoiceField(choices=RecordType.choices), required=False
    )
    operations = serializers.ListField(
        child=serializers.ChoiceField(choices=Operation.choices), required=False
    )
    priority = serializers.IntegerField(min_value=1, max_value=10000)

    class Meta:
        model = RetentionPolicy
        fields = [
            "id",
            "name",
            "description",
            "record_types",
            "operations",
            "duration",
            "priority",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class AuditCheckpointSerializer(serializers.Serializer):
    """A signed checkpoint as every surface carries it (checkpoint_as_json); the fields repeat
    the signed statement for reading, and a verifier trusts only the JWS."""

    kind = serializers.CharField(read_only=True, help_text='Always "checkpoint".')
    tenant = serializers.CharField(read_only=True, help_text="The tenant's slug.")
    tenant_id = serializers.IntegerField(read_only=True)
    seq = serializers.IntegerField(read_only=True, help_text="The last chain position covered.")
    hash = serializers.CharField(read_only=True, help_text="That record's hash.")
    issued_at = serializers.DateTimeField(read_only=True)
    previous = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="sha256 (hex) of the previous checkpoint's JWS; null for the first.",
    )
    jws = serializers.CharField(
        read_only=True, help_text="Compact JWS (EdDSA) over the lockbox.checkpoint/v1 statement."
    )

    def to_representation(self, checkpoint):
        return checkpoint_as_json(checkpoint, checkpoint.tenant)
