from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from audit_app.apis import AuditCheckpointViewSet, AuditRecordViewSet, RetentionPolicyViewSet
from requests_app.apis import AccessRequestViewSet, CloudPCViewSet, TicketViewSet, WebhookViewSet
from tenants_app.apis import LockboxSettingView, LogoutAllView, LogoutView, MeView, TokenView
from tenants_app.mfa_apis import TotpConfirmView, TotpView
from tenants_app.user_apis import UserViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("tickets", TicketViewSet, basename="ticket")
router.register("requests", AccessRequestViewSet, basename="access-request")
router.register("cloud-pcs", CloudPCViewSet, basename="cloud-pc")
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("users", UserViewSet, basename="user")
router.register("audit/records", AuditRecordViewSet, basename="audit-record")
router.register("audit/checkpoints", AuditCheckpointViewSet, basename="audit-checkpoint")
router.register("audit/retention-policies", RetentionPolicyViewSet, basename="retention-policy")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("auth/logout/", LogoutView.as_view(), name="api-logout"),
    path("auth/logout-all/", LogoutAllView.as_view(), name="api-logout-all"),
    path("me/", MeView.as_view(), name="api-me"),
    path("me/mfa/totp/", TotpView.as_view(), name="api-mfa-totp"),
    path("me/mfa/totp/confirm/", TotpConfirmView.as_view(), name="api-mfa-totp-confirm"),
    path("settings/lockbox/", LockboxSettingView.as_view(), name="api-lockbox-setting"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    *router.urls,
]
