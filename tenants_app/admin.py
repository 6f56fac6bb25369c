"""Staff's Django admin: every change that a customer must be able to see goes through the same
audited service as the customer's own pages (roles, unlock, plan); the rest is read-only."""

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from knox.models import AuthToken

from lockbox_site.admin import ReadOnlyAdmin
from lockbox_site.errors import ApplicationError
from lockbox_site.web import client_ip

from .models import CloudPC, Tenant, User
from .policy import POLICY_FIELDS
from .role_services import user_active_set, user_roles_diff, user_roles_set, user_unlock
from .services import tenant_plan_change

PLAN_FIELDS = ("plan", "compliance_addon")


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "plan", "compliance_addon", "lockbox_enabled"]
    list_filter = ["kind", "plan"]
    prepopulated_fields = {"slug": ["name"]}
    # The setting and policy change only through their audited service (the Customer Lockbox page / API).
    readonly_fields = [
        "lockbox_enabled",
        *POLICY_FIELDS,
        "lockbox_updated_at",
        "lockbox_updated_by",
        # A security setting: it gets an audited service before anyone may change it here.
        "idle_timeout_minutes",
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # Roles, tickets and the API all hang on a tenant's kind and slug.
            fields += ["kind", "slug"]
        return fields

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None else super().get_prepopulated_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        others = [name for name in form.changed_data if name not in PLAN_FIELDS]
        if others:
            obj.save(update_fields=others)
        if set(PLAN_FIELDS) & set(form.changed_data):
            # The plan decides whether Customer Lockbox is available: audited in the tenant.
            tenant_plan_change(
                actor=request.user,
                tenant_id=obj.pk,
                plan=form.cleaned_data["plan"],
                compliance_addon=form.cleaned_data["compliance_addon"],
                client_ip=client_ip(request),
            )


class UserChangeForm(BaseUserAdmin.form):
    def clean_groups(self):
        groups = self.cleaned_data["groups"]
        # An early, friendly answer; the service checks again under its locks.
        try:
            user_roles_diff(user=self.instance, roles=[group.name for group in groups])
        except ApplicationError as exc:
            raise ValidationError(exc.extra.get("roles") or exc.message) from None
        return groups


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    list_display = ["username", "tenant", "is_staff", "is_active"]
    list_filter = ["tenant", "groups", "is_staff"]
    fieldsets = [*BaseUserAdmin.fieldsets, ("Tenant", {"fields": ["tenant"]})]
    add_fieldsets = [*BaseUserAdmin.add_fieldsets, ("Tenant", {"fields": ["tenant"]})]
    actions = ["unlock_sign_in", "deactivate_users", "reactivate_users"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # Moving a user would carry their roles into another tenant, unseen by both.
            fields.append("tenant")
            # Who may act changes only through the audited actions below.
            fields.append("is_active")
            if obj.tenant.kind == Tenant.Kind.CUSTOMER:
                # A customer's user name is who its audit records say acted: not staff's to edit.
                fields += ["username", "email"]
        return fields

    def has_delete_permission(self, request, obj=None):
        # Deleting drops the user's roles without a record: deactivate the user instead.
        return False

    def user_change_password(self, request, id, form_url=""):
        # A password staff set for a customer's user lets staff sign in as, say, its approver.
        # Customers keep their own credentials; staff may deactivate (audited) instead.
        user = self.get_object(request, unquote(id))
        if user is not None and user.tenant.kind == Tenant.Kind.CUSTOMER:
            raise PermissionDenied("Staff do not set a customer user's password.")
        return super().user_change_password(request, id, form_url)

    def save_related(self, request, form, formsets, change):
        # Roles change only through the audited service, never through save_m2m.
        groups = form.cleaned_data.pop("groups", None)
        super().save_related(request, form, formsets, change)
        if groups is None or not change:
            return
        try:
            user_roles_set(
                actor=request.user,
                user_id=form.instance.pk,
                roles=[group.name for group in groups],
                client_ip=client_ip(request),
                as_staff=True,
            )
        except ApplicationError as exc:
            # Refused under the service's locks (a concurrent change): keep nothing of this save.
            transaction.set_rollback(True)
            request._lockbox_refused = exc.message

    def response_change(self, request, obj):
        refused = getattr(request, "_lockbox_refused", None)
        if refused:
            self.message_user(request, f"Nothing was saved: {refused}", messages.ERROR)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    @admin.action(
        description="End the sign-in lockout of the selected users", permissions=["change"]
    )
    def unlock_sign_in(self, request, queryset):
        for user in queryset:
            user_unlock(
                actor=request.user, user_id=user.pk, client_ip=client_ip(request), as_staff=True
            )
        self.message_user(request, "Sign-in lockouts ended.")

    def _set_active(self, request, queryset, active: bool):
        for user in queryset:
            try:
                user_active_set(
                    actor=request.user, user_id=user.pk, active=active, client_ip=client_ip(request)
                )
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)

    @admin.action(description="Deactivate the selected users (audited)", permissions=["change"])
    def deactivate_users(self, request, queryset):
        self._set_active(request, queryset, False)

    @admin.action(description="Reactivate the selected users (audited)", permissions=["change"])
    def reactivate_users(self, request, queryset):
        self._set_active(request, queryset, True)


@admin.register(CloudPC)
class CloudPCAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "assigned_user", "region", "status"]
    list_filter = ["tenant", "status", "region"]

    def get_readonly_fields(self, request, obj=None):
        # Status changes through the audited restart; a granted Cloud PC never changes tenant.
        return ["status", "last_restarted_at"] + (["tenant"] if obj is not None else [])


# A group's name is the role the code relies on, and deleting one would drop every member's
# role unaudited: staff may look only.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(ReadOnlyAdmin, BaseGroupAdmin):
    pass


class AccessAttemptAdmin(AxesAccessAttemptAdmin):
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Deleting an attempt would end a lockout without the `SignInUnlocked` record: use the users'
# "End the sign-in lockout" action instead.
if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)
    admin.site.register(AccessAttempt, AccessAttemptAdmin)


class AuthTokenAdmin(admin.ModelAdmin):
    """Staff may see and revoke API tokens, never mint one: knox's own admin creates a token for
    any user and shows it, which would let staff act as a customer's approver unseen."""

    list_display = ["token_key", "user", "created", "expiry"]
    search_fields = ["token_key", "user__username"]
    fields = ["token_key", "user", "created", "expiry"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)
admin.site.register(AuthToken, AuthTokenAdmin)
from . import mfa_admin  # noqa: E402,F401  (second factors: read-only)
