"""The signing key: generated once for development, published as a JWKS, rotated by files."""

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.exceptions import ImproperlyConfigured
from joserfc.jwk import OKPKey

from audit_app import signing


@pytest.fixture
def fresh_keys(settings, tmp_path):
    settings.LOCKBOX_SIGNING_KEY_FILE = str(tmp_path / "signing-key.pem")
    settings.LOCKBOX_SIGNING_KEY_GENERATE = True
    settings.LOCKBOX_VERIFY_KEY_FILES = []
    signing.signing_key.cache_clear()
    signing.verify_keys.cache_clear()
    yield tmp_path
    signing.signing_key.cache_clear()
    signing.verify_keys.cache_clear()


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_a_signature_verifies_with_nothing_but_the_published_jwks(client, fresh_keys):
    token = signing.sign({"b": 2, "a": "é"})
    response = client.get("/.well-known/lockbox-keys.json")
    assert response.status_code == 200
    [jwk] = response.json()["keys"]
    assert (jwk["kty"], jwk["crv"], jwk["alg"]) == ("OKP", "Ed25519", "EdDSA")
    header, payload, signature = token.split(".")
    assert json.loads(_b64(header)) == {"alg": "EdDSA", "kid": jwk["kid"], "typ": "JWT"}
    assert _b64(payload) == '{"a":"é","b":2}'.encode()
    public = Ed25519PublicKey.from_public_bytes(_b64(jwk["x"]))
    public.verify(_b64(signature), f"{header}.{payload}".encode())  # raises if it does not
    assert (fresh_keys / "signing-key.pem").stat().st_mode & 0o777 == 0o600


def test_the_key_is_generated_once_and_kept(fresh_keys):
    first = signing.key_id()
    signing.signing_key.cache_clear()
    signing.verify_keys.cache_clear()
    assert signing.key_id() == first


def test_an_explicit_key_file_must_exist(settings, fresh_keys):
    settings.LOCKBOX_SIGNING_KEY_GENERATE = False
    settings.LOCKBOX_SIGNING_KEY_FILE = str(fresh_keys / "missing.pem")
    with pytest.raises(ImproperlyConfigured, match="does not exist"):
        signing.sign({})


def test_an_older_key_still_verifies_and_a_foreign_key_does_not(settings, fresh_keys):
    old_token = signing.sign({"n": 1})
    old_pem = fresh_keys / "old.pem"
    (fresh_keys / "signing-key.pem").rename(old_pem)
    signing.signing_key.cache_clear()
    signing.verify_keys.cache_clear()
    settings.LOCKBOX_VERIFY_KEY_FILES = [str(old_pem)]
    assert signing.verify(old_token) == {"n": 1}  # rotated, still verifies
    assert len(signing.jwks()["keys"]) == 2
    foreign = OKPKey.generate_key("Ed25519")
    from joserfc import jws

    forged = jws.serialize_compact(
        {"alg": "EdDSA", "kid": signing.key_id()}, b'{"n":1}', foreign, algorithms=["EdDSA"]
    )
    with pytest.raises(signing.SignatureInvalid):
        signing.verify(forged)
    with pytest.raises(signing.SignatureInvalid):
        signing.verify("not.a.jws")


def _joserfc_sign(payload) -> str:
    from joserfc import jws

    key = signing.signing_key()
    header = {"alg": "EdDSA", "kid": key.thumbprint(), "typ": "JWT"}
    return jws.serialize_compact(header, signing.canonical(payload), key, algorithms=["EdDSA"])


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"b": 2, "a": "é", "nested": {"z": [1, None, True], "emoji": "🔐"}},
        {"text": "x" * 5000, "quote": '"\\/\n'},
    ],
)
def test_a_signature_is_the_bytes_joserfc_makes(fresh_keys, payload):
    """sign() makes the compact JWS itself (issue 17): byte for byte joserfc's, and it verifies."""
    token = signing.sign(payload)
    assert token == _joserfc_sign(payload)
    assert signing.verify(token) == payload


def test_a_new_signing_key_signs_at_once(settings, fresh_keys):
    first = signing.sign({"n": 1})
    (fresh_keys / "signing-key.pem").rename(fresh_keys / "old.pem")
    signing.signing_key.cache_clear()
    signing.verify_keys.cache_clear()
    second = signing.sign({"n": 1})
    assert second.split(".")[0] != first.split(".")[0]  # another kid
    assert second == _joserfc_sign({"n": 1})
