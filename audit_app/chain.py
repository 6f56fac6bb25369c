"""The per-tenant hash chain: what a record's hash covers, and how to compute it."""

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


def record_hash(prev_hash: str, tenant_id: int, values: dict) -> str:
    content = {name: values[name] for name in HASHED_FIELDS}
    content["tenant_id"] = tenant_id
    content["created_at"] = values["created_at"].isoformat()
    payload = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def normalise_details(details: dict | None) -> dict:
    """What the database will give back, so the stored record hashes the same on reading."""
    return json.loads(json.dumps(details or {}, default=str))
