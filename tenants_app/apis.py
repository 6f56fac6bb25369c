from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from lockbox_site.api_docs import error
from lockbox_site.errors import InvalidInput, NotFound
from lockbox_site.web import client_ip

from . import policy
from .authentication import TokenAuthentication
from .mfa_services import mfa_verify
from .models import Tenant
from .roles import group_names
from .services import lockbox_setting_change
from .throttles import SignInRateThrottle
from .tokens import token_issue, token_revoke, user_tokens_revoke

LOCKED_OUT = "Too many failed sign-ins from this address; try again later."


class TokenInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    otp = serializers.CharField(
        max_length=32,
        required=False,
        help_text="A code from the user's authenticator (or a recovery code): the token may "
        "then make the changes a tenant requires a second factor for (SPEC 14).",
    )

    def validate(self, attrs):
        # django-axes refuses a locked-out user name + address here, before the password is
        # checked, and counts the failure; Django's signal audits it (tenants_app.signals).
        otp = attrs.pop("otp", None)
        user = authenticate(request=self.context["request"], **attrs)
        if user is None:
            raise serializers.ValidationError(
                "Unable to log in with provided credentials.", code="authorization"
            )
        return {"user": user, "otp": otp}


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
            400: error("Wrong user name or password, or a wrong `otp`"),
            409: error("`otp` given by a user with no authenticator"),
            429: error("Too many attempts, or too many wrong codes"),
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
        user, otp = data.validated_data["user"], data.validated_data["otp"]
        verified_at = None
        if otp is not None:
            # After the password, so a code is never checked for someone who is not the user.
            verified_at = mfa_verify(
                user=user, code=otp, client_ip=client_ip(request), channel="api"
            )
        instance, token = token_issue(user, second_factor_at=verified_at)
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


def _policy_fields() -> dict:
    """The policy's fields as the API shows them, bounds and all (OpenAPI reads these)."""
    low, high = policy.access_minutes_bounds()
    return {
        "required_approvals": serializers.IntegerField(
            min_value=policy.APPROVALS[0], max_value=policy.APPROVALS[1]
        ),
        "pending_ttl_hours": serializers.IntegerField(
            min_value=policy.PENDING_TTL_HOURS[0], max_value=policy.PENDING_TTL_HOURS[1]
        ),
        "max_access_minutes": serializers.IntegerField(min_value=low, max_value=high),
        "require_decision_comment": serializers.BooleanField(),
        "allow_emergency_access": serializers.BooleanField(),
        "require_mfa_for_decisions": serializers.BooleanField(),
        "notification_emails": serializers.ListField(
            child=serializers.EmailField(max_length=policy.EMAIL_MAX_LENGTH),
            max_length=policy.MAX_NOTIFICATION_EMAILS,
        ),
    }


class LockboxSettingSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    available = serializers.BooleanField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)
    updated_by = serializers.CharField(read_only=True, allow_null=True)

    def get_fields(self):
        return {**super().get_fields(), **_policy_fields()}


def _setting(tenant) -> dict:
    effective = policy.tenant_policy(tenant)
    return {
        "enabled": tenant.lockbox_enabled,
        "available": tenant.lockbox_available,
        "updated_at": tenant.lockbox_updated_at,
        "updated_by": tenant.lockbox_updated_by.username if tenant.lockbox_updated_by_id else None,
        # What is enforced: within the deployment's bounds even if those narrowed since.
        **{name: getattr(effective, name) for name in policy.POLICY_FIELDS},
        "notification_emails": list(effective.notification_emails),
    }


class LockboxSettingInput(serializers.Serializer):
    """What a PUT may hold: any of these (at least one); the others stay as they are.

    Documentation only: the service checks every value, strictly typed (JSON true/false,
    whole numbers), so the API and the web panel give the same per-field messages. The read-only
    fields of the answer may be sent back (a GET, edited, PUT) and are ignored; any other field
    is a 400, so a misspelt setting is not silently dropped.
    """

    enabled = serializers.BooleanField(required=False)

    def get_fields(self):
        fields = {**super().get_fields(), **_policy_fields()}
        for field in fields.values():
            field.required = False
        return fields


ECHOED = {"available", "updated_at", "updated_by"}


class LockboxSettingView(APIView):
    """The tenant's `Require approval for all data access requests` setting and its Lockbox
    policy (SPEC 9). PUT changes only the fields it holds."""

    def _tenant(self, request):
        if not request.user.tenant.is_customer:
            raise NotFound("Provider tenants have no Customer Lockbox setting.")
        # Read afresh, with who changed it last, rather than the user's cached tenant.
        return Tenant.objects.select_related("lockbox_updated_by").get(pk=request.user.tenant_id)

    @extend_schema(responses=LockboxSettingSerializer)
    def get(self, request):
        return Response(LockboxSettingSerializer(_setting(self._tenant(request))).data)

    @extend_schema(
        request=LockboxSettingInput,
        responses={
            200: LockboxSettingSerializer,
            400: error("A field is not valid (named), or Customer Lockbox is not on the plan"),
            403: error("Only a Global Administrator changes it"),
            404: error("Provider tenants have no Customer Lockbox setting"),
        },
    )
    def put(self, request):
        self._tenant(request)
        if not isinstance(request.data, dict):
            raise InvalidInput("Send a JSON object of settings.")
        changes = {name: value for name, value in request.data.items() if name not in ECHOED}
        tenant = lockbox_setting_change(
            actor=request.user, client_ip=client_ip(request), changes=changes
        )
        return Response(LockboxSettingSerializer(_setting(tenant)).data)
