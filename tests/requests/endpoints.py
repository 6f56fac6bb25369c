"""Misbehaving webhook endpoints on loopback, for delivery deadline and lock tests."""

import socket
import threading
import time


class StallingEndpoint:
    """Accepts a connection, reads the request, then answers one byte every `interval` seconds.

    A per-read timeout never fires against it; only a total deadline ends the delivery. It gives
    up after `stall` seconds. `accepted` and `hung_up` hold the monotonic times at which each
    connection was accepted and at which the client went away (or the stall ended).
    """

    def __init__(self, *, interval: float, stall: float):
        self.interval = interval
        self.stall = stall
        self.accepted: list[float] = []
        self.hung_up: list[float] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            self.accepted.append(time.monotonic())
            threading.Thread(target=self._dribble, args=(conn,), daemon=True).start()

    def _dribble(self, conn):
        started = time.monotonic()
        answer = b"HTTP/1.1 200 OK\r\nX-Padding: " + b"x" * 10_000
        try:
            conn.settimeout(2)
            conn.recv(65536)
            for byte in answer:
                if self._stop.is_set() or time.monotonic() - started > self.stall:
                    break
                conn.sendall(bytes([byte]))
                time.sleep(self.interval)
        except OSError:
            pass  # the client hung up: that is what a deadline does
        finally:
            self.hung_up.append(time.monotonic())
            conn.close()


class Listener:
    """A TCP port on loopback that only records whether anyone connected to it."""

    def __init__(self):
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()
