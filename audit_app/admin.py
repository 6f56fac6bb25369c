from django.contrib import admin

from lockbox_site.admin import ReadOnlyAdmin

from .models import AuditChainHead, AuditCheckpoint, AuditPrunedRange, AuditRecord, RetentionPolicy


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    """Read-only: audit records are written only with the change they record."""

    list_display = [
        "created_at",
        "tenant",
        "operation",
        "actor",
        "object_type",
        "object_id",
        "result",
    ]
    list_filter = ["tenant", "record_type", "operation", "result"]
    search_fields = ["actor", "object_id"]


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(ReadOnlyAdmin):
    """Read-only here: policy changes go through the audited Audit retention policies page."""

    list_display = ["name", "tenant", "priority", "duration"]
    list_filter = ["tenant"]


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "last_seq", "last_hash"]


@admin.register(AuditPrunedRange)
class AuditPrunedRangeAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "first_seq", "last_seq", "created_at"]


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "seq", "issued_at"]
    list_filter = ["tenant"]
