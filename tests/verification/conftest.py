"""Running the offline verifier the way a customer does: the `lockbox-verify` command on files.

The verifier is a separate package (verifier/, `cryptography` only). If it is installed in the
virtualenv its console script is used; otherwise the same CLI runs as `python -m lockbox_verify`
from the source tree. Either way it is a separate process, so exit codes and the printed lines
are what a customer sees.
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

VERIFIER_SRC = Path(__file__).resolve().parents[2] / "verifier" / "src"


def _command() -> tuple[list[str], dict]:
    script = Path(sys.executable).parent / "lockbox-verify"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    if script.exists():
        return [str(script)], env
    env["PYTHONPATH"] = str(VERIFIER_SRC)
    return [sys.executable, "-m", "lockbox_verify"], env


@dataclass(frozen=True)
class Verdict:
    code: int
    out: str  # stdout, stripped: the one summary or FAIL line
    err: str


def lockbox_verify(*args) -> Verdict:
    command, env = _command()
    ran = subprocess.run(
        [*command, *map(str, args)], capture_output=True, text=True, env=env, timeout=60
    )
    return Verdict(ran.returncode, ran.stdout.strip(), ran.stderr.strip())


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def write_jsonl(path: Path, lines: list[dict]) -> Path:
    # As the server writes them (audit_app.export_jsonl.dumps): UTF-8, compact.
    text = "".join(
        json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n" for line in lines
    )
    path.write_text(text, encoding="utf-8")
    return path


def write_json(path: Path, document) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path
