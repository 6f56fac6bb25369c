from django.contrib import admin

from .models import AuditChainHead, AuditPrunedRange, AuditRecord, RetentionPolicy


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(admin.ModelAdmin):
    """Read-only here: policy changes go through the audited Audit retention policies page."""

    list_display = ["name", "tenant", "priority", "duration"]
    list_filter = ["tenant"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(_ReadOnly):
    list_display = ["tenant", "last_seq", "last_hash"]


@admin.register(AuditPrunedRange)
class AuditPrunedRangeAdmin(_ReadOnly):
    list_display = ["tenant", "first_seq", "last_seq", "created_at"]
