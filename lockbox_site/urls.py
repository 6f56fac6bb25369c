from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from audit_app.key_views import lockbox_keys
from lockbox_site import dashboard
from lockbox_site.web import favicon
from requests_app import webhook_views
from requests_app.urls import cloud_pc_patterns, ticket_patterns
from tenants_app import mfa_views, role_views, sso_views
from tenants_app import views as tenant_views

urlpatterns = [
    path("", dashboard.home, name="home"),
    path(".well-known/lockbox-keys.json", lockbox_keys, name="lockbox_keys"),
    # Browsers ask for /favicon.ico whatever the page says; send them to the real one.
    path("favicon.ico", favicon),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("login/sso/", sso_views.sso_start, name="sso_start"),
    path("login/sso/callback/", sso_views.sso_callback, name="sso_callback"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/security/", mfa_views.security, name="account_security"),
    path("account/security/add/", mfa_views.security_enrol, name="account_security_enrol"),
    path("account/security/confirm/", mfa_views.security_confirm, name="account_security_confirm"),
    path("account/security/remove/", mfa_views.security_remove, name="account_security_remove"),
    path("account/security/verify/", mfa_views.verify, name="mfa_verify"),
    path("settings/roles/<int:pk>/mfa/remove/", mfa_views.user_mfa_remove, name="user_mfa_remove"),
    path("settings/org/", tenant_views.org_settings, name="org_settings"),
    path(
        "settings/org/security/customer-lockbox/",
        tenant_views.lockbox_settings,
        name="lockbox_settings",
    ),
    path("settings/org/security/single-sign-on/", sso_views.sso_settings, name="sso_settings"),
    path("settings/roles/", role_views.roles, name="roles"),
    path("settings/roles/<int:pk>/", role_views.user_roles_save, name="user_roles_save"),
    path("settings/roles/<int:pk>/unlock/", role_views.user_unlock_view, name="user_unlock"),
    path("settings/webhooks/", webhook_views.webhooks, name="webhooks"),
    path("settings/webhooks/<int:pk>/delete/", webhook_views.webhook_delete, name="webhook_delete"),
    path("", include("requests_app.urls")),
    path("provider/tickets/", include(ticket_patterns)),
    path("provider/cloud-pcs/", include(cloud_pc_patterns)),
    path("audit/", include("audit_app.urls")),
    path("api/v1/", include("lockbox_site.api_urls")),
    # Google Cloud Access Approval API v1 (REST), for Google's own client (INTEROP-GOOGLE).
    path("v1/", include("lockbox_site.access_approval_urls")),
    path("admin/", admin.site.urls),
]

handler400 = "lockbox_site.error_views.bad_request"
handler403 = "lockbox_site.error_views.permission_denied"
handler404 = "lockbox_site.error_views.page_not_found"
handler500 = "lockbox_site.error_views.server_error"
