"""Restart PostgreSQL under a serving gunicorn; count what clients saw, second by second.

.venv/bin/python -m bench.db_restart   (root; stops and starts this machine's cluster)
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

from bench.setup import configure

DOWN_SECONDS = float(os.environ.get("DOWN_SECONDS", "10"))


def _cluster(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action], check=True
    )


def main():
    configure()
    from knox.models import AuthToken

    from tenants_app.models import User

    token = AuthToken.objects.create(User.objects.get(username="approver@contoso.example"))[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "lockbox_site.wsgi:application",
            "--bind",
            "127.0.0.1:8766",
            "--workers",
            "2",
            "--log-level",
            "error",
        ],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=open("/tmp/lockbox-db-restart.log", "w"),  # a full pipe would block the workers
    )
    time.sleep(3)
    seen: list[tuple[float, int]] = []
    stop = threading.Event()

    def client():
        request = urllib.request.Request(
            "http://127.0.0.1:8766/api/v1/requests/", headers={"Authorization": f"Token {token}"}
        )
        while not stop.is_set():
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    code = response.status
            except urllib.error.HTTPError as exc:
                code = exc.code
            except OSError:
                code = 0  # no HTTP answer at all
            seen.append((time.monotonic(), code))
            time.sleep(0.05)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(3)
    down_at = time.monotonic()
    _cluster("stop")
    time.sleep(DOWN_SECONDS)
    _cluster("start")
    up_at = time.monotonic()
    time.sleep(8)
    stop.set()
    for thread in threads:
        thread.join()
    server.kill()
    server.wait(timeout=30)
    during = Counter(code for at, code in seen if down_at <= at < up_at)
    after = [at for at, code in seen if at >= up_at and code == 200]
    result = {
        "down_seconds": DOWN_SECONDS,
        "before": dict(Counter(code for at, code in seen if at < down_at)),
        "while_down": dict(during),
        "after": dict(Counter(code for at, code in seen if at >= up_at)),
        "first_200_after_restart_s": round(after[0] - up_at, 2) if after else None,
        "app_restarted": False,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
