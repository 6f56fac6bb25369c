"""Lockbox's Ed25519 signing key: it signs decisions, checkpoints and pruned ranges as compact
JWS (`EdDSA`), so a customer can check them offline with the public keys alone (SPEC 11).

The key is `LOCKBOX_SIGNING_KEY_FILE` (PEM). Under `make run` it is generated once, under
`var/`; a key file named explicitly must exist. Older keys listed in
`LOCKBOX_VERIFY_KEY_FILES` (PEM, private or public) still verify and stay in the JWKS.
"""

import json
import os
import warnings
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from joserfc.util import urlsafe_b64encode

ALGORITHM = "EdDSA"  # SPEC 11 names it; RFC 9864's "Ed25519" means the same signature

# joserfc warns that RFC 9864 deprecates the name "EdDSA"; the signature is the same Ed25519.
warnings.filterwarnings("ignore", message="EdDSA is deprecated", module="joserfc")


class SignatureInvalid(Exception):
    pass


def canonical(payload) -> bytes:
    """The bytes that are signed: sorted keys, no spaces, UTF-8 (what the verifier re-derives)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _generate(path: Path) -> None:
    key = OKPKey.generate_key("Ed25519")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once keep one key, the other's write fails here.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.as_pem(private=True))


def _load(path: Path) -> OKPKey:
    try:
        key = OKPKey.import_key(path.read_bytes())
    except OSError as exc:
        raise ImproperlyConfigured(f"Cannot read the signing key {path}: {exc}") from None
    if key.as_dict(private=False).get("crv") != "Ed25519":
        raise ImproperlyConfigured(f"{path} is not an Ed25519 key.")
    return key


@cache
def signing_key() -> OKPKey:
    path = Path(settings.LOCKBOX_SIGNING_KEY_FILE)
    if not path.exists():
        if not settings.LOCKBOX_SIGNING_KEY_GENERATE:
            raise ImproperlyConfigured(f"LOCKBOX_SIGNING_KEY_FILE {path} does not exist.")
        _generate(path)
    return _load(path)


@cache
def verify_keys() -> dict[str, OKPKey]:
    """Every key that verifies, by kid: the signing key and the older ones."""
    keys = [signing_key()] + [_load(Path(p)) for p in settings.LOCKBOX_VERIFY_KEY_FILES]
    return {key.thumbprint(): key for key in keys}


def key_id() -> str:
    return signing_key().thumbprint()


def _header(key: OKPKey) -> dict:
    return {"alg": ALGORITHM, "kid": key.thumbprint(), "typ": "JWT"}


# (key, its protected header segment, the raw Ed25519 key) for the key signing now.
_signer: tuple | None = None


def _signer_for(key: OKPKey) -> tuple:
    global _signer
    if _signer is None or _signer[0] is not key:
        # joserfc's own header segment for this key, taken from one signature it makes.
        token = jws.serialize_compact(_header(key), b"", key, algorithms=[ALGORITHM])
        _signer = (key, token.split(".")[0].encode(), key.private_key)
    return _signer


def sign(payload) -> str:
    """A compact JWS over the canonical JSON of payload (RFC 7515 7.1).

    The bytes joserfc's serialize_compact gives (Ed25519 is deterministic; tests compare
    them), without its per-call header checks, registry and key thumbprint, which cost each
    decision more than the signature (issue 17): the header segment is made once per key."""
    _, header, raw = _signer_for(signing_key())
    signing_input = header + b"." + urlsafe_b64encode(canonical(payload))
    return (signing_input + b"." + urlsafe_b64encode(raw.sign(signing_input))).decode("ascii")


def verify(token: str) -> dict:
    """The payload of a JWS made by one of our keys; SignatureInvalid otherwise."""
    try:
        kid = jws.extract_compact(token.encode()).headers().get("kid")
        key = verify_keys().get(kid)
        if key is None:
            raise SignatureInvalid("signed by a key that is not ours")
        result = jws.deserialize_compact(token, key, algorithms=[ALGORITHM])
    except (JoseError, ValueError, TypeError, AttributeError) as exc:
        raise SignatureInvalid(str(exc) or type(exc).__name__) from None
    return json.loads(result.payload)


def jwks() -> dict:
    """The public keys as a JWKS (RFC 7517), for `/.well-known/lockbox-keys.json`."""
    return {
        "keys": [
            {**key.as_dict(private=False), "kid": kid, "use": "sig", "alg": ALGORITHM}
            for kid, key in verify_keys().items()
        ]
    }
