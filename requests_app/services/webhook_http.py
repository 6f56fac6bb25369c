"""One signed webhook POST: to the address that was checked, within a total deadline.

The host name is resolved once; every address it gives must be global (unless
LOCKBOX_WEBHOOK_ALLOW_PRIVATE), and the connection goes to that address, not to a second lookup
(DNS rebinding). The URL keeps its host name, so the Host header, TLS SNI and certificate
verification are for the name. Every socket operation gets what is left of one deadline, so an
endpoint that answers a byte every few seconds is cut off when the deadline passes.
"""

import ipaddress
import json
import socket
import ssl
import threading
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings
from standardwebhooks import Webhook as StandardWebhook

from ..events import cloudevent

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
# A Retry-After longer than this is read as this: the outbox keeps its messages for a day.
MAX_RETRY_AFTER_SECONDS = 86400

# Global by the IANA registries yet able to reach a private network: 6to4, NAT64 and Teredo embed
# an IPv4 address of any kind; multicast is not an endpoint. 100.64/10 and 192.0.0/24 are listed
# because Python before 3.12.4 calls parts of them global.
_REFUSED_NETWORKS = [
    ipaddress.ip_network(n)
    for n in (
        "100.64.0.0/10",
        "192.0.0.0/24",
        "2002::/16",
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "2001::/32",
        # Python 3.11 calls these global; they embed or reach internal IPv4 space.
        "::/96",  # IPv4-compatible (::127.0.0.1)
        "::ffff:0:0:0/96",  # SIIT
        "fec0::/10",  # site-local
    )
]


class DeliveryError(Exception):
    def __init__(self, message, status=None, retry_after=None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after  # seconds the endpoint asked us to wait, if it did


class AddressRefused(DeliveryError):
    """The host resolves to an address webhooks may not reach."""


def signed_headers(secret: str, delivery_id: str, body: bytes, now: datetime) -> dict:
    """Standard Webhooks: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, signed by
    the standardwebhooks library itself, so what receivers verify with is what signs."""
    timestamp = int(now.timestamp())
    signature = StandardWebhook(secret).sign(
        msg_id=delivery_id, timestamp=datetime.fromtimestamp(timestamp, UTC), data=body.decode()
    )
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def retry_after_seconds(value: str | None, now: datetime) -> int | None:
    """Retry-After as delay-seconds or an HTTP-date (RFC 9110); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(int(value), MAX_RETRY_AFTER_SECONDS)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, min(int((moment - now).total_seconds()), MAX_RETRY_AFTER_SECONDS))


def is_global_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        return False
    return not any(ip.version == net.version and ip in net for net in _REFUSED_NETWORKS)


def _port(parts) -> int:
    try:
        port = parts.port
    except ValueError:
        raise DeliveryError("invalid port") from None
    return port or (443 if parts.scheme == "https" else 80)


def resolve_checked(url: str, *, deadline: float) -> str:
    """Resolve the URL's host once and return the address to connect to.

    Raises AddressRefused if any address is not global (and private targets are not allowed),
    DeliveryError if the name does not resolve before the deadline.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = _port(parts)
    answer: dict = {}

    def lookup():  # getaddrinfo has no timeout of its own: wait for it only until the deadline
        try:
            answer["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            answer["error"] = exc

    thread = threading.Thread(target=lookup, daemon=True, name="webhook-dns")
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if "infos" not in answer:
        raise DeliveryError(f"cannot resolve {host}" + ("" if "error" in answer else " in time"))
    addresses = [info[4][0] for info in answer["infos"]]
    if not addresses:
        raise DeliveryError(f"cannot resolve {host}")
    if not settings.LOCKBOX_WEBHOOK_ALLOW_PRIVATE and not all(map(is_global_address, addresses)):
        raise AddressRefused(f"{host} resolves to a non-public address")
    return addresses[0]


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and handshake ends by the one deadline."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: float):
        self._stream = stream
        self._deadline = deadline

    def _left(self, timeout: float | None, error) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise error("the delivery deadline passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        stream = self._stream.start_tls(
            ssl_context, server_hostname, self._left(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(stream, self._deadline)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects to the checked address whatever host name httpcore asks for."""

    def __init__(self, address: str, deadline: float):
        self._address = address
        self._deadline = deadline
        self._backend = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ConnectTimeout("the delivery deadline passed")
        stream = self._backend.connect_tcp(
            self._address,
            port,
            timeout=left if timeout is None else min(timeout, left),
            local_address=local_address,
            socket_options=socket_options,
        )
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(self, *args, **kwargs):
        raise httpcore.ConnectError("webhooks connect over TCP only")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _PinnedTransport(httpx.HTTPTransport):
    # httpx 0.28 (pinned) has no public way to give HTTPTransport an httpcore network backend;
    # handle_request only uses self._pool, so this sets that and keeps httpx's own request,
    # response and exception mapping. The rebinding and deadline tests fail if that changes.
    def __init__(self, address: str, deadline: float):
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(),
            network_backend=_PinnedBackend(address, deadline),
            max_connections=1,
            retries=0,
        )


_tls: ssl.SSLContext | None = None


def _ssl_context() -> ssl.SSLContext:
    global _tls
    if _tls is None:  # loading the CA bundle takes a while: once per process
        _tls = httpx.create_ssl_context(verify=True, trust_env=False)
    return _tls


def post_event(*, url: str, secret: str, delivery_id: str, payload: dict) -> int:
    """POST one event as a CloudEvents 1.0 structured JSON body, signed per Standard Webhooks;
    returns the 2xx status, raises DeliveryError otherwise (with the endpoint's Retry-After).

    The whole delivery - name lookup, connect, TLS, request and response headers - ends within
    LOCKBOX_WEBHOOK_TIMEOUT_SECONDS. Redirects are not followed (one could point at an internal
    address); they count as failures. The response body is not read.
    """
    deadline = time.monotonic() + settings.LOCKBOX_WEBHOOK_TIMEOUT_SECONDS
    address = resolve_checked(url, deadline=deadline)
    event = cloudevent(delivery_id=delivery_id, payload=payload, source=settings.LOCKBOX_BASE_URL)
    body = json.dumps(event, sort_keys=True).encode()
    headers = {
        "Content-Type": CONTENT_TYPE,
        "User-Agent": "Lockbox-Webhooks/2",
        **signed_headers(secret, delivery_id, body, datetime.now(UTC)),
    }
    timeout = httpx.Timeout(settings.LOCKBOX_WEBHOOK_TIMEOUT_SECONDS)
    try:
        with httpx.Client(
            transport=_PinnedTransport(address, deadline),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
        ) as client:
            with client.stream("POST", url, content=body, headers=headers) as response:
                status = response.status_code
                retry_after = response.headers.get("Retry-After")
    except httpx.TimeoutException as exc:
        raise DeliveryError(
            f"timed out ({exc}; total deadline {settings.LOCKBOX_WEBHOOK_TIMEOUT_SECONDS} s)"
        ) from None
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
    if not 200 <= status < 300:
        wait = retry_after_seconds(retry_after, datetime.now(UTC))
        raise DeliveryError(f"HTTP {status}", status=status, retry_after=wait)
    return status
