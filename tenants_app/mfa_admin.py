"""The admin of second factors and identity providers: staff may look, never mint or edit.

django-otp's own admins let staff create a TOTP device (and see its key) or recovery codes for
any user, which would let them pass a customer's step-up unseen; a user's authenticator is
removed only through tenants_app.mfa_services (the user, or the tenant's Global Administrator).
"""

from django.contrib import admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from lockbox_site.admin import ReadOnlyAdmin

from .models import IdentityProvider, IdentityProviderDomain, TokenSecondFactor


class DeviceAdmin(ReadOnlyAdmin):
    list_display = ["user", "name", "confirmed"]
    fields = ["user", "name", "confirmed"]
    search_fields = ["user__username"]


for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, DeviceAdmin)


@admin.register(TokenSecondFactor)
class TokenSecondFactorAdmin(ReadOnlyAdmin):
    list_display = ["token", "verified_at"]


@admin.register(IdentityProvider)
class IdentityProviderAdmin(ReadOnlyAdmin):
    """Staff look here; they change a tenant's provider through identity_provider_set (as_staff),
    never the row, and never see the client secret."""

    list_display = ["tenant", "issuer", "client_id", "enabled"]
    fields = ["tenant", "enabled", "issuer", "client_id", "groups_claim", "role_mapping"]


@admin.register(IdentityProviderDomain)
class IdentityProviderDomainAdmin(ReadOnlyAdmin):
    list_display = ["domain", "provider"]
