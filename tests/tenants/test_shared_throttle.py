"""The sign-in throttle holds across processes: gunicorn with two workers lets through 10 a
minute from one client in all, not 10 per worker (SPEC section 8: a shared cache)."""

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
    return process, base


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
    process, base = _gunicorn(env)
    try:
        body = {"username": "admin@contoso.example", "password": "wrong"}
        codes = []
        # Until both workers have answered several attempts each (or far past the limit).
        while len(codes) < 60:
            codes.append(call(base, "POST", "/api/v1/auth/token/", body=body)[0])
            served = Counter(
                line.split()[1]
                for line in log_of(process).splitlines()
                if line.startswith("ACCESS") and "/api/v1/auth/token/" in line
            )
            if len(codes) >= 3 * LIMIT and len(served) == 2 and min(served.values()) >= 5:
                break
    finally:
        output = stop(process)
        if redis is not None:
            redis.stop()
    assert len(served) == 2 and min(served.values()) >= 5, f"one worker served all: {served}"
    assert Counter(codes) == {400: LIMIT, 429: len(codes) - LIMIT}, (codes, output[-2000:])
    assert codes[:LIMIT] == [400] * LIMIT
    print(f"\n{cache}: {len(codes)} attempts over workers {dict(served)}: {LIMIT} let through")
