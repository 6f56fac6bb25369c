"""Talking to a tenant's OpenID Connect provider (SPEC 14), with Authlib: the authorization
code flow with PKCE (S256), then the ID token checked against the provider's JWKS (signature,
issuer, audience, expiry, nonce, at_hash).

Network only, no database: the views call these outside any transaction. Every call has a
deadline (LOCKBOX_OIDC_TIMEOUT_SECONDS); the discovery document and the key set are cached in
the shared cache (LOCKBOX_OIDC_CACHE_SECONDS), and the key set is fetched again once when a
token names a key it does not hold (the provider rotated its keys).
"""

import hashlib
from dataclasses import dataclass

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client, OAuthError
from authlib.oidc.core import CodeIDToken
from django.conf import settings
from django.core.cache import cache
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

SCOPE = "openid email profile"
# Signatures by the provider's published keys only: never HS256, whose key is the client secret.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]


class SsoError(Exception):
    """A sign-in the provider or its token made impossible; `code` goes into the audit record."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


UNREACHABLE = "Your organisation's identity provider could not be reached. Try again later."


@dataclass(frozen=True)
class Flow:
    """What one sign-in keeps in the browser's session until the provider sends it back."""

    state: str
    nonce: str
    code_verifier: str


def _timeout() -> float:
    return float(settings.LOCKBOX_OIDC_TIMEOUT_SECONDS)


def _cache_key(kind: str, url: str) -> str:
    return f"lockbox:oidc:{kind}:{hashlib.sha256(url.encode()).hexdigest()}"


def _get_json(kind: str, url: str, *, fresh: bool = False) -> dict:
    key = _cache_key(kind, url)
    cached = None if fresh else cache.get(key)
    if cached is not None:
        return cached
    try:
        response = httpx.get(url, timeout=_timeout(), follow_redirects=False)
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SsoError("provider_unreachable", UNREACHABLE) from exc
    if not isinstance(body, dict):
        raise SsoError(
            "provider_invalid", "Your organisation's identity provider answered wrongly."
        )
    cache.set(key, body, settings.LOCKBOX_OIDC_CACHE_SECONDS)
    return body


def discovery(issuer: str) -> dict:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    metadata = _get_json("discovery", url)
    if metadata.get("issuer") != issuer.rstrip("/") and metadata.get("issuer") != issuer:
        raise SsoError("issuer_mismatch", "The identity provider is not the configured issuer.")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(name), str):
            raise SsoError("provider_invalid", f"The identity provider names no {name}.")
    return metadata


def _client(provider, redirect_uri: str) -> OAuth2Client:
    return OAuth2Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        scope=SCOPE,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=_timeout(),
    )


def authorization_url(provider, redirect_uri: str, *, login_hint: str = "") -> tuple[str, Flow]:
    """Where to send the browser, and what to keep until it comes back."""
    metadata = discovery(provider.issuer)
    flow = Flow(
        state=generate_token(32), nonce=generate_token(32), code_verifier=generate_token(48)
    )
    extra = {"login_hint": login_hint} if login_hint else {}
    with _client(provider, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"],
            state=flow.state,
            code_verifier=flow.code_verifier,
            nonce=flow.nonce,
            **extra,
        )
    return url, flow


def _decode(id_token: str, jwks_uri: str, algorithms: list[str]):
    registry = JWSRegistry(algorithms=algorithms)
    try:
        return jwt.decode(
            id_token, KeySet.import_key_set(_get_json("jwks", jwks_uri)), registry=registry
        )
    except InvalidKeyIdError:
        fresh = KeySet.import_key_set(_get_json("jwks", jwks_uri, fresh=True))
        return jwt.decode(id_token, fresh, registry=registry)


def signed_in_claims(provider, flow: Flow, *, code: str, redirect_uri: str) -> dict:
    """Exchange the code (with the PKCE verifier) and return the ID token's checked claims."""
    metadata = discovery(provider.issuer)
    try:
        with _client(provider, redirect_uri) as client:
            token = client.fetch_token(
                metadata["token_endpoint"], code=code, code_verifier=flow.code_verifier
            )
    except httpx.HTTPError as exc:
        raise SsoError("provider_unreachable", UNREACHABLE) from exc
    except OAuthError as exc:
        message = f"The identity provider refused the sign-in ({exc.error})."
        raise SsoError("token_refused", message) from exc
    if "id_token" not in token:
        raise SsoError("no_id_token", "The identity provider sent no ID token.")
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [alg for alg in ALGORITHMS if alg in offered]
    try:
        decoded = _decode(token["id_token"], metadata["jwks_uri"], algorithms)
    except JoseError as exc:
        raise SsoError(
            "bad_signature",
            "The identity provider's token is not signed by any of its published keys.",
        ) from exc
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        # The audience explicitly: Authlib alone accepts any `aud` when `azp` names us.
        {
            "iss": {"essential": True, "values": [metadata["issuer"]]},
            "aud": {"essential": True, "values": [provider.client_id]},
        },
        {
            "nonce": flow.nonce,
            "client_id": provider.client_id,
            "access_token": token.get("access_token"),
        },
    )
    try:
        claims.validate(leeway=60)
    except JoseError as exc:
        name = getattr(exc, "claim", "") or ""
        codes = {"aud": "wrong_audience", "azp": "wrong_audience", "nonce": "nonce_mismatch"}
        code = codes.get(name, "invalid_token")
        raise SsoError(code, f"The identity provider's token is not valid here ({exc}).") from exc
    return dict(claims)
