"""My authenticator over the API (SPEC 14): enrol, confirm with a first code, remove."""

from base64 import b32encode

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from lockbox_site.api_docs import error
from lockbox_site.web import client_ip

from .mfa_services import mfa_remove, mfa_status, totp_enrol_confirm, totp_enrol_start


class TotpEnrolment(serializers.Serializer):
    secret = serializers.CharField(help_text="The key, base32, for typing into the app.")
    otpauth_uri = serializers.CharField(help_text="The otpauth:// URI a QR code carries.")


class TotpStatus(serializers.Serializer):
    enrolled = serializers.BooleanField()
    recovery_codes_left = serializers.IntegerField()


class CodeInput(serializers.Serializer):
    code = serializers.CharField(max_length=32)


class RecoveryCodes(serializers.Serializer):
    recovery_codes = serializers.ListField(
        child=serializers.CharField(),
        help_text="Each works once in place of a code; shown only now.",
    )


class TotpView(APIView):
    @extend_schema(responses=TotpStatus)
    def get(self, request):
        return Response(TotpStatus(mfa_status(request.user)).data)

    @extend_schema(
        request=None,
        responses={201: TotpEnrolment, 409: error("An authenticator is already enrolled")},
    )
    def post(self, request):
        device = totp_enrol_start(user=request.user)
        body = {"secret": b32encode(device.bin_key).decode(), "otpauth_uri": device.config_url}
        return Response(TotpEnrolment(body).data, status=201)

    @extend_schema(
        request=None,
        responses={
            204: OpenApiResponse(description="Removed (or there was none)"),
            403: error("The tenant requires a second factor for this change"),
        },
    )
    def delete(self, request):
        mfa_remove(actor=request.user, user_id=request.user.pk, client_ip=client_ip(request))
        return Response(status=204)


class TotpConfirmView(APIView):
    @extend_schema(
        request=CodeInput,
        responses={
            200: RecoveryCodes,
            400: error("The code is wrong or was used already"),
            409: error("No enrolment was started"),
            429: error("Too many wrong codes"),
        },
    )
    def post(self, request):
        data = CodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        codes = totp_enrol_confirm(
            user=request.user, code=data.validated_data["code"], client_ip=client_ip(request)
        )
        return Response(RecoveryCodes({"recovery_codes": codes}).data)
