"""The per-tenant hash chain, re-derived exactly as the server computes it.

hash = sha256_hex(prev_hash + payload), payload = the JSON of the record's hashed fields plus
`tenant_id`, keys sorted, no spaces, ASCII-escaped (json.dumps' default ensure_ascii=True).
`created_at` is hashed as the isoformat string the export carries, so no date parsing here.
"""

import hashlib
import json

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq",
    "created_at",
    "record_type",
    "operation",
    "actor",
    "actor_type",
    "object_type",
    "object_id",
    "result",
    "client_ip",
    "details",
    "request_id",
)
CONTENT_FIELDS = (*HASHED_FIELDS, "tenant_id")
CONTENT_KEYS = frozenset(CONTENT_FIELDS)


def _reference(content) -> str:
    """The server's call, verbatim (default=str only matters for values JSON cannot hold,
    and parsed JSON has none)."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)


def _fast_encoder():
    """json.dumps builds a new encoder object on every call, which costs more than encoding
    a record: build CPython's C encoder once with the same settings. Used only if it gives
    the reference bytes on a sample; otherwise the reference call is used."""
    try:
        from json.encoder import c_make_encoder, encode_basestring_ascii

        encoder = c_make_encoder(
            None, str, encode_basestring_ascii, None, ":", ",", True, False, True
        )

        def encode(content) -> str:
            return "".join(encoder(content, 0))

        sample = {
            "z": [1, 2.5, None, True, False, -0.0, 1e300],
            "a": {"é": 'Zoë — ✓ 東京 \u2028 "q" \\ \n', "b": {"y": 1, "x": [{}]}},
            "m": "",
        }
        return encode if encode(sample) == _reference(sample) else _reference
    except Exception:
        return _reference


encode = _fast_encoder()
_sha256 = hashlib.sha256


def record_hash(prev_hash: str, content: dict) -> str:
    """content: exactly CONTENT_FIELDS, as the export gives them."""
    return _sha256((prev_hash + encode(content)).encode()).hexdigest()
