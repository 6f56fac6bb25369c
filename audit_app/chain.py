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
    payload = record_payload(tenant_id, values)
    pieces, names, rest = [], [], payload
    while True:
        found = [(rest.find(text), text) for text in slots if text in rest]
        if not found:
            break
        at, text = min(found)
        pieces.append(rest[:at])
        names.append(slots[text])
        rest = rest[at + len(text) :]
    pieces.append(rest)
    return pieces, names


def normalise_details(details: dict | None) -> dict:
    """What the database will give back, so the stored record hashes the same on reading."""
    return json.loads(json.dumps(details or {}, default=str))
