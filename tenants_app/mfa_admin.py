"""The admin of second factors: staff may look, never mint or edit one.

django-otp's own admins let staff create a TOTP device (and see its key) or recovery codes for
any user, which would let them pass a customer's step-up unseen; a user's authenticator is
removed only through tenants_app.mfa_services (the user, or the tenant's Global Administrator).
"""

from django.contrib import admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from lockbox_site.admin import ReadOnlyAdmin

from .models import TokenSecondFactor


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
