"""Compact JWS (EdDSA over Ed25519) verification against a JWKS, with `cryptography` only."""

import base64
import binascii
import hashlib
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ALGORITHM = "EdDSA"


class KeysError(Exception):
    """The keys file is not a usable JWKS (a usage error, not a failed verification)."""


class SignatureInvalid(Exception):
    pass


def canonical(obj) -> bytes:
    """The bytes Lockbox signs: sorted keys, no spaces, UTF-8 (not ASCII-escaped)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or "=" in text:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def thumbprint(jwk: dict) -> str:
    """RFC 7638 thumbprint of an OKP key: what Lockbox uses as `kid`."""
    members = {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}
    digest = hashlib.sha256(json.dumps(members, sort_keys=True, separators=(",", ":")).encode())
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def load_jwks(document) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 keys of a JWKS (or of a single JWK), by kid and by thumbprint."""
    if isinstance(document, dict) and "keys" in document:
        entries = document["keys"]
    elif isinstance(document, dict) and "kty" in document:
        entries = [document]
    else:
        raise KeysError('not a JWKS (expected {"keys": [...]})')
    if not isinstance(entries, list):
        raise KeysError('"keys" is not a list')
    keys: dict[str, Ed25519PublicKey] = {}
    for entry in entries:
        if (
            not isinstance(entry, dict)
            or entry.get("kty") != "OKP"
            or entry.get("crv") != "Ed25519"
        ):
            continue  # other key types are not Lockbox's signing keys
        if "d" in entry:
            raise KeysError("the keys file holds a private key; use the public JWKS")
        try:
            raw = b64url_decode(entry["x"])
            key = Ed25519PublicKey.from_public_bytes(raw)
        except (KeyError, ValueError, TypeError, binascii.Error) as exc:
            raise KeysError(f"a key's x is not a valid Ed25519 public key ({exc})") from None
        keys[thumbprint(entry)] = key
        if isinstance(entry.get("kid"), str):
            keys[entry["kid"]] = key
    if not keys:
        raise KeysError("no Ed25519 keys in the keys file")
    return keys


def verify(token, keys: dict[str, Ed25519PublicKey]) -> dict:
    """The JSON payload of a compact JWS signed by one of keys; SignatureInvalid otherwise."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise SignatureInvalid("not a compact JWS")
    header_b64, payload_b64, signature_b64 = token.split(".")
    try:
        header = json.loads(b64url_decode(header_b64))
        payload_bytes = b64url_decode(payload_b64)
        signature = b64url_decode(signature_b64)
    except (ValueError, binascii.Error):
        raise SignatureInvalid("not a compact JWS (bad base64url or header)") from None
    if not isinstance(header, dict) or header.get("alg") != ALGORITHM:
        raise SignatureInvalid(f"algorithm is not {ALGORITHM}")
    if header.get("crit"):
        raise SignatureInvalid("unsupported critical header parameters")
    kid = header.get("kid")
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise SignatureInvalid(f"signed by a key that is not in the keys file (kid {kid!r})")
    try:
        key.verify(signature, f"{header_b64}.{payload_b64}".encode("ascii"))
    except (InvalidSignature, UnicodeEncodeError):
        raise SignatureInvalid(f"signature does not verify with key {kid}") from None
    try:
        payload = json.loads(payload_bytes)
    except ValueError:
        raise SignatureInvalid("signed payload is not JSON") from None
    if not isinstance(payload, dict):
        raise SignatureInvalid("signed payload is not a JSON object")
    return payload


def same_statement(payload: dict, statement) -> bool:
    """Whether a signed payload says exactly what the readable copy says (types included:
    canonical bytes tell 1 from true and 1.0, which == does not)."""
    return canonical(payload) == canonical(statement)
