"""9. The offline verifier on a 1,000,000-record export (SPEC 11): wall time and peak memory.

The export is generated here with the documented chain rule and signed with a fresh Ed25519
key, streamed to disk (never held in memory). `lockbox-verify` then runs in a process of its
own, whose peak RSS is the kernel's VmHWM; at a tenth of the size as well, to show that memory
does not grow with the file. Baselines on the same file in the same run: `sha256sum` (reading
and hashing the bytes) and a plain Python loop that only parses each line with json.loads.

No Django: `python -m bench.verify_export [records]` runs this case alone.
"""

import base64
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ROOT = Path(__file__).resolve().parents[1]
VERIFIER_SRC = ROOT / "verifier" / "src"
GENESIS = "0" * 64
HASHED = (
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
TENANT, TENANT_ID = "contoso", 3
WORDS = ["printer", "vpn", "outlook", "teams", "disk", "profile", "crash", "slow", "login"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class _Key:
    def __init__(self):
        self.private = Ed25519PrivateKey.generate()
        x = _b64(self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
        jwk = {"crv": "Ed25519", "kty": "OKP", "x": x}
        self.kid = _b64(
            hashlib.sha256(json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()).digest()
        )
        self.jwks = {"keys": [{**jwk, "kid": self.kid, "alg": "EdDSA", "use": "sig"}]}
        self.header = _b64(json.dumps({"alg": "EdDSA", "kid": self.kid, "typ": "JWT"}).encode())

    def sign(self, payload: dict) -> str:
        body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        signing_input = f"{self.header}.{_b64(body.encode())}"
        return f"{signing_input}.{_b64(self.private.sign(signing_input.encode()))}"


def write_export(directory: Path, count: int, *, seed: int = 9) -> dict:
    """A JSON Lines export of `count` records (the oldest 1% pruned in a signed range, a signed
    decision every 500th record), its JWKS, and a checkpoint of the middle saved aside."""
    rng = random.Random(seed)
    key = _Key()
    pruned = max(1, count // 100)
    start = datetime(2025, 11, 1, tzinfo=UTC)
    encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str).encode
    line_of = json.JSONEncoder(ensure_ascii=False).encode
    path = directory / "export.jsonl"
    prev = GENESIS
    checkpoints = {}
    with open(path, "w", encoding="utf-8") as out:
        header = {
            "kind": "header",
            "format": "lockbox-audit/v1",
            "tenant": TENANT,
            "tenant_id": TENANT_ID,
            "exported_at": datetime.now(UTC).isoformat(),
            "first_seq": pruned + 1,
            "last_seq": count,
        }
        out.write(line_of(header) + "\n")
        for seq in range(1, count + 1):
            at = start + timedelta(microseconds=seq * 31_536_000_000_000 // count)
            request_id = rng.randrange(1, 100_000)
            details = {
                "request_id": request_id,
                "action": "view",
                "note": f"{rng.choice(WORDS)} {rng.choice(WORDS)}",
            }
            operation = "OperatorAction"
            if seq % 500 == 0:
                operation = "RequestApproved"
                statement = {
                    "type": "lockbox.decision/v1",
                    "tenant": TENANT,
                    "tenant_id": TENANT_ID,
                    "request": request_id,
                    "ticket": f"TKT-{request_id:06d}",
                    "requester": "engineer@provider.example",
                    "cloud_pcs": [{"id": 7, "name": "CPC-contoso-07"}],
                    "decision": "approved",
                    "by": "approver@contoso.example",
                    "at": at.isoformat(),
                    "window": None,
                    "comment_sha256": hashlib.sha256(b"").hexdigest(),
                }
                details = {
                    "request_id": request_id,
                    "statement": statement,
                    "jws": key.sign(statement),
                }
            values = {
                "seq": seq,
                "created_at": at,
                "record_type": "Windows365CustomerLockbox",
                "operation": operation,
                "actor": "engineer@provider.example",
                "actor_type": "provider",
                "object_type": "CloudPC",
                "object_id": str(rng.randrange(1, 5000)),
                "result": "success",
                "client_ip": "203.0.113.9",
                "details": details,
                "request_id": request_id,
            }
            # audit_app/chain.py's rule.
            content = {name: values[name] for name in HASHED}
            content["tenant_id"] = TENANT_ID
            content["created_at"] = at.isoformat()
            digest = hashlib.sha256((prev + encode(content)).encode()).hexdigest()
            if seq == pruned:
                statement = {
                    "type": "lockbox.pruned/v1",
                    "tenant": TENANT,
                    "tenant_id": TENANT_ID,
                    "first_seq": 1,
                    "last_seq": pruned,
                    "last_hash": digest,
                    "pruned_at": datetime.now(UTC).isoformat(),
                }
                line = {
                    k: statement[k] for k in ("first_seq", "last_seq", "last_hash", "pruned_at")
                }
                out.write(line_of({"kind": "pruned", **line, "jws": key.sign(statement)}) + "\n")
            elif seq > pruned:
                line = {"kind": "record", "id": seq, "tenant_id": TENANT_ID, **content}
                line.update(prev_hash=prev, hash=digest)
                out.write(line_of(line) + "\n")
            if seq in (count // 2, count):
                statement = {
                    "type": "lockbox.checkpoint/v1",
                    "tenant": TENANT,
                    "tenant_id": TENANT_ID,
                    "seq": seq,
                    "hash": digest,
                    "issued_at": datetime.now(UTC).isoformat(),
                    "previous": None,
                }
                checkpoints[seq] = {
                    "kind": "checkpoint",
                    **{k: v for k, v in statement.items() if k != "type"},
                    "jws": key.sign(statement),
                }
            prev = digest
        out.write(line_of(checkpoints[count]) + "\n")
    (directory / "keys.json").write_text(json.dumps(key.jwks))
    (directory / "saved-checkpoint.json").write_text(json.dumps(checkpoints[count // 2]))
    return {"path": path, "bytes": path.stat().st_size}


# Runs lockbox-verify's own entry point in a fresh process and reports that process's VmHWM
# (not ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec).
VERIFY_SCRIPT = """
import json, sys, time
def hwm_kb():
    return int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")))
from lockbox_verify.cli import main
baseline = hwm_kb()
started, cpu = time.perf_counter(), time.process_time()
code = main(sys.argv[1:])
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
print("JSON" + json.dumps({"exit": code, "seconds": seconds, "cpu_seconds": cpu, "baseline_kb": baseline, "peak_kb": hwm_kb()}))
"""

PARSE_SCRIPT = """
import json, sys, time
started, cpu = time.perf_counter(), time.process_time()
n = 0
with open(sys.argv[1], "rb") as handle:
    for line in handle:
        json.loads(line)
        n += 1
print("JSON" + json.dumps({"lines": n, "seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu}))
"""


def _python(script: str, *args) -> dict:
    env = {**os.environ, "PYTHONPATH": str(VERIFIER_SRC)}
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    wall = time.perf_counter() - started
    lines = [x for x in out.stdout.splitlines() if x.startswith("JSON")]
    if not lines:
        raise RuntimeError(f"{out.stdout}\n{out.stderr}")
    result = json.loads(lines[-1][4:])
    result["wall_seconds"] = wall
    result["output"] = [x for x in out.stdout.splitlines() if not x.startswith("JSON")]
    return result


def _verify(directory: Path) -> dict:
    result = _python(
        VERIFY_SCRIPT,
        directory / "export.jsonl",
        "--keys",
        directory / "keys.json",
        "--checkpoint",
        directory / "saved-checkpoint.json",
    )
    if result["exit"] != 0:
        raise RuntimeError(f"the generated export did not verify: {result['output']}")
    return result


def offline_verify(count: int = 1_000_000) -> dict:
    with tempfile.TemporaryDirectory(prefix="lockbox-verify-bench-") as tmp:
        small_dir, full_dir = Path(tmp, "small"), Path(tmp, "full")
        small_dir.mkdir()
        full_dir.mkdir()
        started = time.perf_counter()
        file = write_export(full_dir, count)
        generated = time.perf_counter() - started
        write_export(small_dir, max(1000, count // 10))
        sha_started = time.perf_counter()
        subprocess.run(["sha256sum", str(file["path"])], check=True, capture_output=True)
        sha = time.perf_counter() - sha_started
        parse = _python(PARSE_SCRIPT, file["path"])
        full = _verify(full_dir)
        small = _verify(small_dir)
    return {
        "records": count,
        "file_mb": round(file["bytes"] / 1e6, 1),
        "generate_seconds": round(generated, 1),
        "verify_seconds": round(full["seconds"], 2),
        "verify_cpu_seconds": round(full["cpu_seconds"], 2),
        "verify_wall_seconds": round(full["wall_seconds"], 2),
        "records_per_s": round(count / full["seconds"]),
        "summary": full["output"][-1] if full["output"] else "",
        "peak_mb": round(full["peak_kb"] / 1024, 1),
        "startup_mb": round(full["baseline_kb"] / 1024, 1),
        "peak_mb_at_tenth": round(small["peak_kb"] / 1024, 1),
        "sha256sum_seconds": round(sha, 2),
        "json_parse_seconds": round(parse["seconds"], 2),
        "json_parse_cpu_seconds": round(parse["cpu_seconds"], 2),
        "ratio_to_parse": round(full["cpu_seconds"] / parse["cpu_seconds"], 2),
        "load_average": os.getloadavg()[0],
        "ratio_to_sha256sum": round(full["seconds"] / sha, 1),
    }


if __name__ == "__main__":
    print(
        json.dumps(offline_verify(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000), indent=2)
    )
