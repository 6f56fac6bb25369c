from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import CloudPC, Tenant, User


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "plan", "compliance_addon", "lockbox_enabled"]
    list_filter = ["kind", "plan"]
    prepopulated_fields = {"slug": ["name"]}
    # The setting changes only through its audited service (the Customer Lockbox page / API).
    readonly_fields = ["lockbox_enabled", "lockbox_updated_at", "lockbox_updated_by"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "tenant", "is_staff", "is_active"]
    list_filter = ["tenant", "groups", "is_staff"]
    fieldsets = [*BaseUserAdmin.fieldsets, ("Tenant", {"fields": ["tenant"]})]
    add_fieldsets = [*BaseUserAdmin.add_fieldsets, ("Tenant", {"fields": ["tenant"]})]


@admin.register(CloudPC)
class CloudPCAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "assigned_user", "region", "status"]
    list_filter = ["tenant", "status", "region"]
