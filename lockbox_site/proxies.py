"""The address a request comes from: `X-Forwarded-For` counts only from a trusted proxy.

Everything that keys on the client (django-axes' lockout, DRF's throttles, the audit
`client_ip`) reads REMOTE_ADDR, and this middleware is the one place that may change it. A
header from anyone else is ignored, so a client cannot choose the address it is counted under.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(entries) -> tuple[Network, ...]:
    """LOCKBOX_TRUSTED_PROXIES: addresses or networks (CIDR); a typo stops start-up."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"LOCKBOX_TRUSTED_PROXIES: {entry!r} is not an IP address or network"
            ) from None
    return tuple(networks)


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return trusted_networks(entries)


def _address(value: str) -> Address | None:
    """An address as proxies write it: bare, `v4:port` or `[v6]:port`; None if it is not one."""
    value = value.strip()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped  # a dual-stack socket's view of an IPv4 peer
    return address


def client_address(remote_addr: str, forwarded: str, networks) -> str:
    """The client a request is counted under.

    From a trusted proxy, walk `X-Forwarded-For` from the right (the hop our proxy added)
    past further trusted proxies to the first address that is not one: everything left of it
    was written by the client and proves nothing. From anyone else, the peer itself.
    """
    peer = _address(remote_addr)
    if peer is None or not _trusted(peer, networks):
        return remote_addr
    client = peer
    for hop in reversed(forwarded.split(",")):
        address = _address(hop)
        if address is None:
            break  # not an address: the last trusted hop vouches for nothing further
        client = address
        if not _trusted(address, networks):
            break
    return str(client)


def _trusted(address: Address, networks) -> bool:
    return any(address in network for network in networks)


class TrustedProxyMiddleware:
    """Set REMOTE_ADDR to the real client when the request came through a trusted proxy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        networks = _networks(tuple(settings.LOCKBOX_TRUSTED_PROXIES))
        if networks:
            request.META["REMOTE_ADDR"] = client_address(
                request.META.get("REMOTE_ADDR", ""),
                request.META.get("HTTP_X_FORWARDED_FOR", ""),
                networks,
            )
        return self.get_response(request)
