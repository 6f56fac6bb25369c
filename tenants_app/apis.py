from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from lockbox_site.api_docs import error
from lockbox_site.errors import NotFound
from lockbox_site.web import client_ip

from .authentication import TokenAuthentication
from .roles import group_names
from .services import lockbox_setting_change
from .throttles import SignInRateThrottle
from .tokens import token_issue, token_revoke, user_tokens_revoke

LOCKED_OUT = "Too many failed sign-ins from this address; try again later."


class TokenInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)

    def validate(self, attrs):
        # django-axes refuses a locked-out user name + address here, before the password is
        # checked, and counts the failure; Django's signal audits it (tenants_app.signals).
        user = authenticate(request=self.context["request"], **attrs)
        if user is None:
            raise serializers.ValidationError(
                "Unable to log in with provided credentials.", code="authorization"
            )
        return {"user": user}


class TokenOutput(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField()


class TokenView(APIView):
    """Exchange a user name and password for a new API token (throttled against guessing)."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = [SignInRateThrottle]
    throttle_scope = "auth-token"

    @extend_schema(
        request=TokenInput,
        responses={
            200: TokenOutput,
            400: error("Wrong user name or password"),
            429: error("Too many attempts"),
        },
        auth=[],
    )
    def post(self, request):
        data = TokenInput(data=request.data, context={"request": request})
        if not data.is_valid():
            # django-axes marks the DRF request it was handed; say "locked", not "wrong password".
            if getattr(request, "axes_locked_out", False):
                return Response({"detail": LOCKED_OUT}, status=429)
            return Response(data.errors, status=400)
        user = data.validated_data["user"]
        instance, token = token_issue(user)
        # As the web sign-in does: axes clears the failure count, Django sets last_login.
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response(TokenOutput({"token": token, "expiry": instance.expiry}).data)


SIGNED_OUT = {204: OpenApiResponse(description="Signed out"), 401: error("Not signed in")}


class LogoutView(APIView):
    """Revoke the token this request is authenticated with."""

    authentication_classes = [TokenAuthentication]

    @extend_schema(request=None, responses=SIGNED_OUT)
    def post(self, request):
        token_revoke(request.auth)
        return Response(status=204)


class LogoutAllView(APIView):
    """Revoke every token of the signed-in user (from a token or a web session)."""

    authentication_classes = [TokenAuthentication, SessionAuthentication]

    @extend_schema(request=None, responses=SIGNED_OUT)
    def post(self, request):
        user_tokens_revoke(request.user)
        return Response(status=204)


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
