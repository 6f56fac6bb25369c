from django.db.models import QuerySet

from tenants_app.roles import Cap, can, require

from .models import AuditCheckpoint, AuditRecord, RetentionPolicy


def audit_records_for_user(user) -> QuerySet[AuditRecord]:
    """Only the caller's tenant, and only for those who may search the audit log."""
    if not can(user, Cap.SEARCH_AUDIT):
        return AuditRecord.objects.none()
    return tenant_audit_records(user.tenant_id)


TENANT_ORDER = ("-created_at", "-id")


def tenant_audit_records(tenant_id) -> QuerySet[AuditRecord]:
    """One tenant's records, newest first (the search's compiled page starts from this too)."""
    return AuditRecord.objects.filter(tenant_id=tenant_id).order_by(*TENANT_ORDER)


def retention_policies_for_user(user) -> QuerySet[RetentionPolicy]:
    if not can(user, Cap.SEARCH_AUDIT):
        return RetentionPolicy.objects.none()
    return RetentionPolicy.objects.filter(tenant_id=user.tenant_id).order_by("priority")


def checkpoints_for_user(user) -> QuerySet[AuditCheckpoint]:
    """The caller's tenant's checkpoints, newest first; 403 for those who may not search audit."""
    require(
        user,
        Cap.SEARCH_AUDIT,
        "Only a Global Administrator or an Audit Reader sees the audit log's checkpoints.",
    )
    return (
        AuditCheckpoint.objects.filter(tenant_id=user.tenant_id)
        .select_related("tenant")
        .order_by("-seq", "-id")
    )
