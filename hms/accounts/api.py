from django.contrib.auth import authenticate
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from hms.accounts.api_auth import BearerTokenAuthentication, HasRolePermission
from hms.accounts.middleware import two_factor_exempt
from hms.accounts.services import api_token_issue, api_token_revoke
from hms.accounts.throttle import SIGN_IN_REFUSED, sign_in_throttled
from hms.core.api import json_error
from hms.core.audit import audit_record
from hms.core.permissions import ROLE_PERMISSIONS, Role


class TokenRequest(serializers.Serializer):
    email = serializers.EmailField(max_length=254)  # longer ones overflowed the lockout table
    password = serializers.CharField(trim_whitespace=False, max_length=1024)
    otp = serializers.RegexField(r"^\d{6}$", required=False, help_text="TOTP code, if 2FA is on")


class TokenResponse(serializers.Serializer):
    token = serializers.CharField()
    token_type = serializers.CharField()
    expires_at = serializers.DateTimeField()


class TokenView(APIView):
    """POST: exchange email + password (+ TOTP code when 2FA is on) for a bearer token.
    DELETE: revoke the bearer token the request is sent with."""

    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [HasRolePermission]
    required_perms = {"post": "public", "delete": "signed_in"}

    @extend_schema(request=TokenRequest, responses={200: TokenResponse}, auth=[])
    def post(self, request):
        if sign_in_throttled(request._request):
            return json_error("rate_limited", SIGN_IN_REFUSED, 429)
        body = TokenRequest(data=request.data)
        body.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=body.validated_data["email"],
            password=body.validated_data["password"],
        )
        if getattr(request._request, "axes_locked_out", False):
            return json_error("locked_out", "Too many failed sign-in attempts; try later.", 429)
        if user is None:
            return json_error("invalid_credentials", "The email or password is not right.", 401)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is not None:
            code = body.validated_data.get("otp")
            if not code:
                return json_error("otp_required", "Send the 6-digit code as `otp`.", 401)
            if not device.verify_token(code):
                audit_record(action="auth.2fa_failed", actor=user, obj=user)
                return json_error("otp_invalid", "The 6-digit code is not right.", 401)
        elif user.role == Role.ADMIN and not two_factor_exempt(user):
            return json_error(
                "two_factor_required", "Administrators must turn on two-factor sign-in first.", 403
            )
        secret, token = api_token_issue(user=user, two_factor=device is not None)
        return Response({"token": secret, "token_type": "Bearer", "expires_at": token.expires_at})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        api_token_revoke(user=request.user, token_id=request.auth.pk)
        return Response(status=204)


class MeResponse(serializers.Serializer):
    id = serializers.CharField()
    email = serializers.EmailField()
    given_name = serializers.CharField()
    family_name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    role_label = serializers.CharField()
    permissions = serializers.ListField(child=serializers.CharField())


class MeView(APIView):
    """The signed-in user, their role and what the role allows."""

    permission_classes = [HasRolePermission]
    required_perm = "signed_in"

    @extend_schema(responses={200: MeResponse})
    def get(self, request):
        user = request.user
        return Response(
            MeResponse(
                {
                    "id": str(user.pk),
                    "email": user.email,
                    "given_name": user.given_name,
                    "family_name": user.family_name,
                    "role": user.role,
                    "role_label": user.role_label,
                    "permissions": sorted(ROLE_PERMISSIONS[Role(user.role)]),
                }
            ).data
        )
