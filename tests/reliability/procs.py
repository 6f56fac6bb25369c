"""Real processes for fault tests: gunicorn, a Celery worker with beat, a private redis-server."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER']}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def app_env(tmp_path, **extra) -> dict:
    test_only = ("DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE")
    env = {k: v for k, v in os.environ.items() if k not in test_only}
    env.update(
        DJANGO_SETTINGS_MODULE="lockbox_site.settings",
        SECRET_KEY="reliability-tests",
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        STATIC_MANIFEST="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url(),
        LOCKBOX_VAR_DIR=str(tmp_path),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        LOCKBOX_SWEEP_SECONDS="1",
        LOCKBOX_OUTBOX_FLUSH_SECONDS="2",
        LOCKBOX_OUTBOX_GRACE_SECONDS="1",
        LOCKBOX_TOKEN_THROTTLE="1000/min",
    )
    env.update(extra)
    return env


def wait_for(predicate, timeout: float, what: str, poll: float = 0.2, detail=None):
    """Wait for another process to do something (not for the clock to pass a deadline)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what}\n{detail() if detail else ''}"
    )


def stop(process: subprocess.Popen, sig=signal.SIGTERM) -> str:
    """Stop a process and everything it started; returns what it logged."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # leave no orphaned child (the embedded beat)
    except (ProcessLookupError, PermissionError):
        pass
    return log_of(process)


def log_of(process: subprocess.Popen) -> str:
    path = getattr(process, "log_path", None)
    return path.read_text(errors="replace") if path and path.exists() else ""


def start_worker(env, tmp_path, name="worker", purge=True) -> subprocess.Popen:
    """A worker with embedded beat. `purge`: drop what waits in the broker first - tasks other
    tests published and no worker took (the outbox flush re-sends whatever this test needs); a
    worker that must pick up a killed one's tasks passes purge=False."""
    process = _popen_worker(env, tmp_path, name, purge)
    process.log_path = tmp_path / f"{name}.log"
    return process


def _popen_worker(env, tmp_path, name, purge=False) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "lockbox_site",
            "worker",
            "--beat",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--hostname",
            f"{name}@%h",
            "--schedule",
            str(tmp_path / f"{name}-beat"),
            *(["--purge"] if purge else []),
        ],
        cwd=ROOT,
        env=env,
        # A file, not a pipe: nobody reads a pipe while the test waits, and a full one stalls
        # the worker mid-log.
        stdout=open(tmp_path / f"{name}.log", "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the embedded beat is a child process
    )


def crash(process: subprocess.Popen) -> None:
    """SIGKILL the whole process group, as the OOM killer or a node failure would."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=20)


@contextmanager
def gunicorn(env):
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "lockbox_site.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
        stdout=open(Path(env["LOCKBOX_VAR_DIR"]) / "gunicorn.log", "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process.log_path = Path(env["LOCKBOX_VAR_DIR"]) / "gunicorn.log"
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(base), 30, "gunicorn to answer")
        yield base
    finally:
        stop(process)


def _answers(base) -> bool:
    try:
        urllib.request.urlopen(base + "/login/", timeout=2)
        return True
    except (urllib.error.URLError, OSError):
        return False


class RedisServer:
    def __init__(self):
        require_service(shutil.which("redis-server") is not None, "redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: _redis_ping(self.port), 10, "redis-server")

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


def _redis_ping(port) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def call(base, method, path, token=None, body=None):
    """One API call; returns (status, json or None)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None


def message_ids(mail_dir: Path) -> list[str]:
    """The Message-ID of every e-mail the file backend wrote (one per send)."""
    ids = []
    for path in sorted(mail_dir.glob("*.log")) if mail_dir.exists() else []:
        for line in path.read_text().splitlines():
            if line.lower().startswith("message-id:"):
                ids.append(line.split(":", 1)[1].strip())
    return ids
