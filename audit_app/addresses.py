"""The client address a record keeps, spelled as its database will give it back.

A record's hash covers its client address, and verification recomputes the hash from the
stored record, so the hash must be computed over the stored spelling, not REMOTE_ADDR's.
Django's GenericIPAddressField writes IPv6 in Python's compressed lower-case form (and
`::ffff:a.b.c.d` for a mapped IPv4 address); PostgreSQL's inet prints an address whose first 96
bits are zero as `::a.b.c.d`. A zone (`fe80::1%eth0`) names the server's interface, not the
client, and inet cannot hold it; something that is no address is kept as none rather than
failing the action it would record.
"""

import ipaddress


def stored_client_ip(value: str | None, vendor: str) -> str | None:
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip().partition("%")[0])
    except ValueError:
        return None
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped is not None:
        return f"::ffff:{address.ipv4_mapped}"
    number = int(address)
    if vendor == "postgresql" and number >> 32 == 0 and number >> 16 != 0:
        # PostgreSQL's inet_net_ntop: the first six 16-bit words zero, the seventh not.
        return f"::{ipaddress.IPv4Address(number)}"
    return str(address)
