"""`make run` as a person runs it: the product's own error pages (DEBUG off), another port with
e-mail links to match, 50 API clients at once, its beat file under LOCKBOX_VAR_DIR, and Ctrl-C
stopping every process it started within a few seconds."""

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .procs import ROOT, free_port, wait_for

pytestmark = pytest.mark.reliability


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return None, ""


def test_make_run_passes_its_port_to_the_e_mail_links():
    plan = subprocess.run(
        ["make", "-n", "run", "PORT=8001"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "LOCKBOX_BASE_URL=http://127.0.0.1:8001" in plan
    assert "LOCKBOX_PORT=8001" in plan
    assert "DEBUG=false" in plan


def test_make_run_serves_the_product_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_", "CACHE_URL", "SECRET_KEY"))
    }
    env["LOCKBOX_VAR_DIR"] = str(tmp_path / "var")
    log = open(tmp_path / "make-run.log", "w")
    make = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a terminal's foreground group: Ctrl-C reaches make and honcho
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            lambda: _get(base + "/login/")[0] == 200,
            120,
            "make run to serve",
            poll=0.5,
            detail=lambda: (tmp_path / "make-run.log").read_text(),
        )
        status, body = _get(base + "/no/such/page/")
        assert status == 404
        assert "We couldn&#x27;t find that page" in body
        assert "Traceback" not in body and "URLconf" not in body  # not Django's debug page

        token_request = urllib.request.Request(
            base + "/api/v1/auth/token/",
            data=b'{"username": "admin@contoso.example", "password": "lockbox-demo"}',
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(token_request, timeout=30) as response:
            token = json.loads(response.read())["token"]
        headers = {"Authorization": f"Token {token}"}
        started = time.monotonic()
        with ThreadPoolExecutor(50) as pool:
            statuses = list(
                pool.map(lambda _: _get(base + "/api/v1/requests/", headers)[0], range(200))
            )
        elapsed = time.monotonic() - started
        print(f"200 requests from 50 concurrent clients in {elapsed:.1f}s")
        assert statuses == [200] * 200
        assert elapsed < 60
        wait_for(
            lambda: list((tmp_path / "var").glob("celerybeat-schedule*")),
            30,
            "beat's schedule file under LOCKBOX_VAR_DIR",
        )
        assert not list(ROOT.glob("celerybeat-schedule*"))
    finally:
        processes = _descendants(make.pid) | {make.pid}
        started = time.monotonic()
        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        try:
            wait_for(
                lambda: not any(_alive(pid) for pid in processes),
                15,
                "every process of make run to stop",
                poll=0.1,
            )
            stopped = time.monotonic() - started
        finally:
            for pid in processes:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
            make.wait(timeout=10)
        print(f"make run stopped {len(processes)} processes in {stopped:.1f}s after Ctrl-C")
    assert stopped < 8
