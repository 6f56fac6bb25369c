"""API token authentication: knox's hashed, expiring tokens under `Token` or `Bearer`."""

import binascii
from hmac import compare_digest

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header

from lockbox_site.compiled import Compiled

from .mfa import AUTH_TOKEN
from .roles import remember_groups, with_group_names
from .tokens import token_revoke

# The token with its user, the user's tenant and groups in one statement, compiled once
# (issue 17): every API request reads it, and every permission check reads the tenant and groups.
_TOKENS = Compiled(
    lambda key: with_group_names(
        AuthToken.objects.filter(token_key=key).select_related("user", "user__tenant"),
        user_ref="user_id",
    )
)

SCHEMES = (b"token", b"bearer")


class TokenAuthentication(KnoxTokenAuthentication):
    """`Authorization: Token <t>` or `Authorization: Bearer <t>` (any case of the scheme)."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in SCHEMES:
            return None  # another scheme, or none: leave it to the next authenticator
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header.")
        if not parts[1].isascii():
            # knox decodes the token as UTF-8; a Latin-1 header byte would be a 500 there.
            raise exceptions.AuthenticationFailed("Invalid token.")
        user, auth_token = self.authenticate_credentials(parts[1])
        # Step-up MFA asks the token whether it was obtained with `otp` (tenants_app.mfa).
        setattr(user, AUTH_TOKEN, auth_token)
        return user, auth_token

    def authenticate_credentials(self, token):
        """knox's own check (a token key may be shared, so each candidate's digest is compared),
        reading the candidates through the compiled statement."""
        token = token.decode("utf-8")
        for auth_token in _TOKENS.rows(token[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(token)
            except (TypeError, binascii.Error):
                raise exceptions.AuthenticationFailed("Invalid token.") from None
            if compare_digest(digest, auth_token.digest):
                remember_groups(auth_token.user, auth_token)
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed("Invalid token.")

    def _cleanup_token(self, auth_token) -> bool:
        # knox also loads and prunes every other token of the user on each request; expired
        # tokens are pruned at the next sign-in instead (token_issue), so a read stays a read.
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            token_revoke(auth_token)
            return True
        return False


class TokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI description: a bearer token (`Token <t>` is accepted too)."""

    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from POST /api/v1/auth/token/, sent as "
            "`Authorization: Bearer <token>` or `Authorization: Token <token>`.",
        }
