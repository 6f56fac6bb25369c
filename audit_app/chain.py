"""The per-tenant hash chain: what a record's hash covers, and how to compute it."""

import hashlib
import json
import re
from functools import lru_cache

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


def record_payload(tenant_id, values: dict) -> str:
    """What a record's hash covers after its predecessor's hash: canonical JSON, ASCII only."""
    content = {name: values[name] for name in HASHED_FIELDS}
    content["tenant_id"] = tenant_id
    content["created_at"] = values["created_at"].isoformat()
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)


def record_hash(prev_hash: str, tenant_id: int, values: dict) -> str:
    return hashlib.sha256((prev_hash + record_payload(tenant_id, values)).encode()).hexdigest()


def payload_pieces(tenant_id, values: dict, slots: dict) -> tuple[list[str], list[str]]:
    """The payload cut around values only the database knows yet, for an append computed there
    (PostgreSQL's lockbox_operator_action): `values` and `tenant_id` hold marker values, and
    `slots` maps each marker's JSON text to its slot's name. Returns (pieces, slot names in
    order of appearance), so that payload = pieces[0] + slot 1 + pieces[1] + ... . A marker's
    text found where it was not put (a user's text holding it) adds a slot: the caller compares
    the slots with those it put and takes the Python path if they differ."""
    parts = _marker_pattern(tuple(sorted(slots))).split(record_payload(tenant_id, values))
    return parts[0::2], [slots[text] for text in parts[1::2]]


@lru_cache(maxsize=16)
def _marker_pattern(texts: tuple[str, ...]) -> re.Pattern:
    """The markers as one pattern, in one pass over the payload: the leftmost marker each
    time, and of two at the same place the first in sorted order."""
    return re.compile("(" + "|".join(re.escape(text) for text in texts) + ")")


def normalise_details(details: dict | None) -> dict:
    """What the database will give back, so the stored record hashes the same on reading."""
    return json.loads(json.dumps(details or {}, default=str))
