"""The sign-in throttle holds across processes: gunicorn with two workers lets through 10 a
minute from one client in all, not 10 per worker (SPEC section 8: a shared cache)."""

import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.reliability.procs import (
    ROOT,
    RedisServer,
    app_env,
    call,
    free_port,
    log_of,
    stop,
    wait_for,
)
from tests.reliability.procs import _answers as answers

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]
LIMIT = 10


def _accept_backlog(port: int) -> int:
    """Connections waiting for a worker to accept them on a listening port (Linux)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port:
            return int(fields[4].split(":")[1], 16)
    raise AssertionError(f"nothing listens on {port}")


class Blocker:
    """Keep one sync worker busy reading a request we have not finished, so that the next
    request must go to the other worker (the kernel may otherwise hand every sequential
    request to the same one)."""

    def __init__(self, port):
        self.port = port

    def __enter__(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        self.sock.sendall(b"GET /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n")
        wait_for(lambda: _accept_backlog(self.port) == 0, 10, "a worker to take the blocker")
        return self

    def __exit__(self, *exc):
        self.sock.sendall(b"\r\n")
        while self.sock.recv(65536):
            pass
        self.sock.close()


def _gunicorn(env) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = Path(env["LOCKBOX_VAR_DIR"]) / "gunicorn.log"
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
            "--access-logfile",
            "-",
            # The worker's pid and the status: which process answered each attempt.
            "--access-logformat",
            "ACCESS %(p)s %(s)s %(U)s",
        ],
        cwd=ROOT,
        env=env,
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process.log_path = log
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: answers(base), 30, "gunicorn to answer", detail=lambda: log_of(process))
    return process, base, port


@pytest.mark.parametrize("cache", ["default file cache", "redis"])
def test_ten_sign_in_attempts_a_minute_across_two_gunicorn_workers(world, tmp_path, cache):
    extra = {"LOCKBOX_TOKEN_THROTTLE": f"{LIMIT}/min", "LOCKBOX_SIGNIN_FAILURE_LIMIT": "1000"}
    redis = None
    if cache == "redis":
        redis = RedisServer()
        redis.start()
        extra["CACHE_URL"] = redis.url
    env = app_env(tmp_path, **extra)
    if redis is None:
        env.pop("CACHE_URL", None)  # the default: a directory under LOCKBOX_VAR_DIR
    process, base, port = _gunicorn(env)
    try:
        body = {"username": "admin@contoso.example", "password": "wrong"}
        codes = []
        for attempt in range(3 * LIMIT):
            if attempt % 2:
                with Blocker(port):  # this attempt goes to the worker the blocker is not on
                    codes.append(call(base, "POST", "/api/v1/auth/token/", body=body)[0])
            else:
                codes.append(call(base, "POST", "/api/v1/auth/token/", body=body)[0])
    finally:
        output = stop(process)
        if redis is not None:
            redis.stop()
    served = Counter(
        line.split()[1]
        for line in output.splitlines()
        if line.startswith("ACCESS") and "/api/v1/auth/token/" in line
    )
    assert len(served) == 2 and min(served.values()) >= 5, f"one worker served all: {served}"
    assert Counter(codes) == {400: LIMIT, 429: len(codes) - LIMIT}, (codes, output[-2000:])
    assert codes[:LIMIT] == [400] * LIMIT
    print(f"\n{cache}: {len(codes)} attempts over workers {dict(served)}: {LIMIT} let through")
