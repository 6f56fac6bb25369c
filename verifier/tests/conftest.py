"""The verifier's tests: pure pytest + cryptography (no Django), run from the source tree."""

import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

from chainmaker import Signer, Tenant, write_json  # noqa: E402
from lockbox_verify.cli import main  # noqa: E402


@pytest.fixture
def signer():
    return Signer()


@pytest.fixture
def keys_file(tmp_path, signer):
    return str(write_json(tmp_path / "keys.json", signer.jwks()))


@pytest.fixture
def contoso(signer):
    return Tenant(signer, "contoso", 3)


@pytest.fixture
def verify(capsys, keys_file):
    """Run the CLI in-process: (exit code, the line it printed)."""

    def run(path, *checkpoints, extra=(), keys=None):
        args = [str(path), "--keys", keys or keys_file]
        for checkpoint in checkpoints:
            args += ["--checkpoint", str(checkpoint)]
        code = main([*args, *extra])
        out, err = capsys.readouterr()
        return code, (out + err).strip()

    return run
