"""`pip install ./verifier` into a fresh virtualenv that has never seen Django, then the
`lockbox-verify` console script on a small export. Needs the package index (as CI has)."""

import shutil
import subprocess
import venv
from pathlib import Path

from chainmaker import Tenant, write_json, write_jsonl

VERIFIER = Path(__file__).resolve().parents[1]


def test_pip_install_into_a_fresh_venv_and_run_the_console_script(tmp_path, signer):
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources.
    source = tmp_path / "verifier"
    shutil.copytree(
        VERIFIER, source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    )
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    python, script = env_dir / "bin" / "python", env_dir / "bin" / "lockbox-verify"
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(source)],
        check=True,
        timeout=300,
    )

    no_django = subprocess.run(
        [python, "-c", "import django"], capture_output=True, text=True, timeout=60
    )
    assert no_django.returncode == 1
    assert "No module named 'django'" in no_django.stderr

    tenant = Tenant(signer).grow(9)
    tenant.decide()
    saved = write_json(tmp_path / "cp.json", tenant.checkpoint())
    keys = write_json(tmp_path / "keys.json", signer.jwks())
    lines = tenant.chain_lines()
    good = write_jsonl(tmp_path / "good.jsonl", tenant.header(), lines)
    lines[4]["result"] = "failure"
    bad = write_jsonl(tmp_path / "bad.jsonl", tenant.header(), lines)

    ran = subprocess.run(
        [script, good, "--keys", keys, "--checkpoint", saved],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (ran.returncode, ran.stdout) == (
        0,
        "OK: tenant contoso, records 1-10 (10 present, none pruned), "
        "1 signed decision, 1 checkpoint verified\n",
    )
    ran = subprocess.run(
        [script, bad, "--keys", keys, "--checkpoint", saved],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (ran.returncode, ran.stdout[:33]) == (1, "FAIL: seq 5: content altered: the")
