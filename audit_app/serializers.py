from rest_framework import serializers

from .models import AuditRecord, Operation, RecordType, RetentionPolicy


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
