"""Builds Lockbox audit exports for the verifier's tests, by the documented rules alone
(issue12-formats.md), independently of the verifier's code: the hash chain as the server's
audit_app/chain.py computes it (datetimes, default=str, ASCII-escaped JSON) and compact JWS
signed with cryptography's Ed25519PrivateKey."""

import base64
import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

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
START = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def canonical(payload) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Signer:
    def __init__(self):
        self.private = Ed25519PrivateKey.generate()
        x = b64url(self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
        self.jwk = {"crv": "Ed25519", "kty": "OKP", "x": x}
        members = json.dumps(self.jwk, sort_keys=True, separators=(",", ":")).encode()
        self.kid = b64url(hashlib.sha256(members).digest())

    def sign(self, payload: dict) -> str:
        header = {"alg": "EdDSA", "kid": self.kid, "typ": "JWT"}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(canonical(payload))}"
        return f"{signing_input}.{b64url(self.private.sign(signing_input.encode()))}"

    def jwks(self) -> dict:
        return {"keys": [{**self.jwk, "kid": self.kid, "alg": "EdDSA", "use": "sig"}]}


def record_hash(prev_hash: str, tenant_id: int, values: dict) -> str:
    """audit_app/chain.py's rule, verbatim."""
    content = {name: values[name] for name in HASHED_FIELDS}
    content["tenant_id"] = tenant_id
    content["created_at"] = values["created_at"].isoformat()
    payload = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


class Tenant:
    """One tenant's chain, as the server would export it."""

    def __init__(self, signer: Signer, slug="contoso", tenant_id=3):
        self.signer, self.slug, self.tenant_id = signer, slug, tenant_id
        self.records: list[dict] = []  # export lines of kind record
        self.pruned: list[dict] = []  # export lines of kind pruned
        self.head_seq, self.head_hash = 0, GENESIS
        self.previous_checkpoint = None

    def append(self, *, operation="OperatorAction", details=None, request_id=None, actor=None):
        seq = self.head_seq + 1
        created = START + timedelta(seconds=seq, microseconds=(seq * 7919) % 1000000)
        values = {
            "seq": seq,
            "created_at": created,
            "record_type": "Windows365CustomerLockbox",
            "operation": operation,
            "actor": actor or "engineer@provider.example",
            "actor_type": "provider",
            "object_type": "CloudPC",
            "object_id": str(100 + seq % 7),
            "result": "success",
            "client_ip": "203.0.113.9" if seq % 3 else None,
            "details": json.loads(json.dumps(details or {"action": "view"}, default=str)),
            "request_id": request_id,
        }
        digest = record_hash(self.head_hash, self.tenant_id, values)
        line = {
            "kind": "record",
            "id": 5000 + seq,
            "tenant_id": self.tenant_id,
            **values,
            "created_at": created.isoformat(),
            "prev_hash": self.head_hash,
            "hash": digest,
        }
        self.records.append(line)
        self.head_seq, self.head_hash = seq, digest
        return line

    def grow(self, count: int):
        for _ in range(count):
            self.append()
        return self

    def decide(
        self,
        request_id=42,
        decision="approved",
        by="approver@contoso.example",
        comment="ok",
        signer=None,
    ):
        at = START + timedelta(seconds=self.head_seq + 1)
        statement = {
            "type": "lockbox.decision/v1",
            "tenant": self.slug,
            "tenant_id": self.tenant_id,
            "request": request_id,
            "ticket": "TKT-000123",
            "requester": "engineer@provider.example",
            "cloud_pcs": [{"id": 7, "name": "CPC-ÅSA-01"}],
            "decision": decision,
            "by": by,
            "at": at.isoformat(),
            "window": {
                "starts_at": at.isoformat(),
                "ends_at": (at + timedelta(hours=8)).isoformat(),
            },
            "comment_sha256": hashlib.sha256(comment.encode()).hexdigest(),
        }
        token = (signer or self.signer).sign(statement)
        return self.append(
            operation="RequestApproved",
            request_id=request_id,
            actor=by,
            details={"request_id": request_id, "statement": statement, "jws": token},
        )

    def prune(self, first: int, last: int, signer=None, signed=True):
        """Retention: drop records first..last, keep a signed range in their place."""
        last_hash = next(r["hash"] for r in self.records if r["seq"] == last)
        self.records = [r for r in self.records if not first <= r["seq"] <= last]
        pruned_at = (START + timedelta(days=200)).isoformat()
        statement = {
            "type": "lockbox.pruned/v1",
            "tenant": self.slug,
            "tenant_id": self.tenant_id,
            "first_seq": first,
            "last_seq": last,
            "last_hash": last_hash,
            "pruned_at": pruned_at,
        }
        line = {
            "kind": "pruned",
            "first_seq": first,
            "last_seq": last,
            "last_hash": last_hash,
            "pruned_at": pruned_at,
            "jws": (signer or self.signer).sign(statement) if signed else "",
        }
        self.pruned.append(line)
        self.pruned.sort(key=lambda r: r["first_seq"])
        return line

    def checkpoint(self, seq=None, signer=None) -> dict:
        """A signed checkpoint of the head (or of seq), as the API and webhooks serve it."""
        seq = self.head_seq if seq is None else seq
        digest = next(r["hash"] for r in self.records if r["seq"] == seq)
        statement = {
            "type": "lockbox.checkpoint/v1",
            "tenant": self.slug,
            "tenant_id": self.tenant_id,
            "seq": seq,
            "hash": digest,
            "issued_at": (START + timedelta(seconds=seq, minutes=5)).isoformat(),
            "previous": self.previous_checkpoint,
        }
        token = (signer or self.signer).sign(statement)
        self.previous_checkpoint = hashlib.sha256(token.encode()).hexdigest()
        return {
            "kind": "checkpoint",
            **{k: v for k, v in statement.items() if k != "type"},
            "jws": token,
        }

    def chain_lines(self) -> list[dict]:
        """Records and pruned ranges in chain order."""
        items = [(r["seq"], 0, r) for r in self.records]
        items += [(p["first_seq"], 1, p) for p in self.pruned]
        return [copy.deepcopy(item) for _, _, item in sorted(items, key=lambda i: (i[0], i[1]))]

    def header(self, lines=None) -> dict:
        lines = self.chain_lines() if lines is None else lines
        seqs = [line.get("seq", line.get("last_seq")) for line in lines]
        return {
            "kind": "header",
            "format": "lockbox-audit/v1",
            "tenant": self.slug,
            "tenant_id": self.tenant_id,
            "exported_at": (START + timedelta(days=300)).isoformat(),
            "first_seq": min((r["seq"] for r in lines if r["kind"] == "record"), default=0),
            "last_seq": max(seqs, default=0),
        }


def rehash(lines: list[dict], renumber=False) -> list[dict]:
    """What someone with the database and the documented rule does after a change: recompute
    every hash (and seq) so the chain is self-consistent again."""
    prev, seq = GENESIS, 0
    for line in lines:
        if line["kind"] == "pruned":
            prev, seq = line["last_hash"], line["last_seq"]
            continue
        if line["kind"] != "record":
            continue
        seq += 1
        if renumber:
            line["seq"] = seq
        values = {**line, "created_at": datetime.fromisoformat(line["created_at"])}
        line["prev_hash"] = prev
        line["hash"] = record_hash(prev, line["tenant_id"], values)
        prev, seq = line["hash"], line["seq"]
    return lines


def write_jsonl(path, header: dict, lines: list[dict], checkpoint: dict | None = None):
    with open(path, "w", encoding="utf-8") as handle:
        for item in [header, *lines, *([checkpoint] if checkpoint else [])]:
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    return path


def write_json(path, document):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle, ensure_ascii=False, indent=2)
    return path
