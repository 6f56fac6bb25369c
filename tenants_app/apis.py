from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from lockbox_site.api_docs import error
from lockbox_site.errors import NotFound
from lockbox_site.web import client_ip

from .roles import group_names
from .services import lockbox_setting_change


class TokenView(ObtainAuthToken):
    """Exchange a user name and password for an API token (throttled against guessing)."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth-token"
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES  # ObtainAuthToken's own are unbounded

    @extend_schema(
        request=inline_serializer(
            "TokenRequest",
            {"username": serializers.CharField(), "password": serializers.CharField()},
        ),
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            400: error("Wrong user name or password"),
            429: error("Too many attempts"),
        },
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except ValidationError:
            # django-axes marks the DRF request it was handed; say "locked", not "wrong password".
            if getattr(request, "axes_locked_out", False):
                return Response(
                    {"detail": "Too many failed sign-ins from this address; try again later."},
                    status=429,
                )
            raise


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.CharField()
    tenant = serializers.CharField(source="tenant.slug")
    tenant_name = serializers.CharField(source="tenant.name")
    tenant_kind = serializers.CharField(source="tenant.kind")
    groups = serializers.SerializerMethodField()

    def get_groups(self, user) -> list[str]:
        return sorted(group_names(user))


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class LockboxSettingSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    available = serializers.BooleanField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)
    updated_by = serializers.CharField(read_only=True, allow_null=True)


def _setting(tenant) -> dict:
    return {
        "enabled": tenant.lockbox_enabled,
        "available": tenant.lockbox_available,
        "updated_at": tenant.lockbox_updated_at,
        "updated_by": tenant.lockbox_updated_by.username if tenant.lockbox_updated_by_id else None,
    }


class StrictBooleanField(serializers.BooleanField):
    """JSON true/false only: a typo such as "yes please" must not flip a security setting."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class LockboxSettingInput(serializers.Serializer):
    enabled = StrictBooleanField()


class LockboxSettingView(APIView):
    """The tenant's `Require approval for all data access requests` setting."""

    def _tenant(self, request):
        if not request.user.tenant.is_customer:
            raise NotFound("Provider tenants have no Customer Lockbox setting.")
        return request.user.tenant

    @extend_schema(responses=LockboxSettingSerializer)
    def get(self, request):
        return Response(LockboxSettingSerializer(_setting(self._tenant(request))).data)

    @extend_schema(request=LockboxSettingInput, responses=LockboxSettingSerializer)
    def put(self, request):
        self._tenant(request)
        data = LockboxSettingInput(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = lockbox_setting_change(
            actor=request.user, enabled=data.validated_data["enabled"], client_ip=client_ip(request)
        )
        return Response(LockboxSettingSerializer(_setting(tenant)).data)
