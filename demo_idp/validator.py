"""The claims the provider puts in ID tokens, and the faults the tests ask of it.

`fault` in the directory file makes the provider misbehave as a broken or hostile one would,
so Lockbox's refusals are tested against real tokens: `wrong_audience` issues the ID token to
another client, `foreign_key` signs it with a key that is not in the provider's JWKS (with the
published key's id).
"""

import json
from urllib.parse import urlsplit

from jwcrypto import jwk, jwt
from oauth2_provider.oauth2_validators import OAuth2Validator

from . import directory

_FOREIGN_KEY = jwk.JWK.generate(kty="RSA", size=2048)


def _same(given: str, known: str) -> bool:
    if given == known:
        return True
    a, b = urlsplit(given), urlsplit(known)
    loopback = ("127.0.0.1", "localhost", "::1")
    return (
        a.scheme == b.scheme == "http"
        and a.hostname == b.hostname
        and a.hostname in loopback
        and (a.path, a.query) == (b.path, b.query)
    )


class DirectoryValidator(OAuth2Validator):
    oidc_claim_scope = None  # every claim below goes into the ID token

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        """Read from the directory at each sign-in, like the groups: a test serving Lockbox on
        a port it learns late can add its callback without restarting the provider. A loopback
        callback matches on any port (RFC 8252, 7.3), so `make run PORT=…` signs in too."""
        for client in directory.read()["clients"]:
            if client["client_id"] == client_id:
                return any(_same(redirect_uri, known) for known in client["redirect_uris"])
        return False

    def get_additional_claims(self, request):
        entry = directory.read()["users"].get(request.user.username, {})
        return {
            "email": request.user.email,
            "email_verified": True,
            "name": entry.get("name", ""),
            "groups": list(entry.get("groups", [])),
        }

    def finalize_id_token(self, id_token, token, token_handler, request):
        fault = directory.read().get("fault")
        if fault == "wrong_audience":
            id_token["aud"] = "another-application"
        signed = super().finalize_id_token(id_token, token, token_handler, request)
        if fault != "foreign_key":
            return signed
        parsed = jwt.JWT(jwt=signed, key=request.client.jwk_key)
        forged = jwt.JWT(header=parsed.header, claims=json.loads(parsed.claims))
        forged.make_signed_token(_FOREIGN_KEY)
        return forged.serialize()
