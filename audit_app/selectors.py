from django.db.models import QuerySet

from tenants_app.roles import Cap, can

from .models import AuditRecord, RetentionPolicy


def audit_records_for_user(user) -> QuerySet[AuditRecord]:
    """Only the caller's tenant, and only for those who may search the audit log."""
    if not can(user, Cap.SEARCH_AUDIT):
        return AuditRecord.objects.none()
    return AuditRecord.objects.filter(tenant_id=user.tenant_id).order_by("-created_at", "-id")


def retention_policies_for_user(user) -> QuerySet[RetentionPolicy]:
    if not can(user, Cap.SEARCH_AUDIT):
        return RetentionPolicy.objects.none()
    return RetentionPolicy.objects.filter(tenant_id=user.tenant_id).order_by("priority")
