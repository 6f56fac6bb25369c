"""A record's hash covers its client address as the database gives it back.

The address comes from REMOTE_ADDR as the server wrote it. PostgreSQL's inet and Django's
GenericIPAddressField store an IPv6 address in their own spelling (lower case, compressed,
`::1.2.3.4` on PostgreSQL); a hash over the address as given then no longer matched the stored
record, and verify_audit reported the record as altered. Found by an adversarial review.
"""

import pytest
from django.db import connection

from audit_app.integrity import verify_tenant
from audit_app.models import AuditRecord

IPV4_COMPATIBLE = "::1.2.3.4" if connection.vendor == "postgresql" else "::102:304"

# REMOTE_ADDR as a server may write it -> the address the record keeps.
ADDRESSES = [
    ("203.0.113.9", "203.0.113.9"),
    ("2001:DB8::1", "2001:db8::1"),
    ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
    ("::ffff:10.0.0.1", "::ffff:10.0.0.1"),
    ("::1.2.3.4", IPV4_COMPATIBLE),
    ("::102:304", IPV4_COMPATIBLE),
    ("fe80::1%eth0", "fe80::1"),  # a link-local peer's zone is the server's, not the client's
    ("not-an-address", None),
]


@pytest.mark.parametrize(("remote_addr", "kept"), ADDRESSES)
def test_any_client_address_verifies(world, make_request, api, remote_addr, kept):
    """An operator action and an approval through the API, from the given address."""
    request = make_request(stage="pending_customer")
    engineer = api(world.engineer)
    pc = request.cloud_pcs.first()
    approver = api(world.approver)
    approved = approver.post(
        f"/api/v1/requests/{request.pk}/approve/", {}, format="json", REMOTE_ADDR=remote_addr
    )
    assert approved.status_code == 200, approved.content
    if approved.json()["status"] != "approved":  # the tenant's quorum wants a second approver
        second = api(world.approver2).post(
            f"/api/v1/requests/{request.pk}/approve/", {}, format="json", REMOTE_ADDR=remote_addr
        )
        assert second.json()["status"] == "approved", second.content
    viewed = engineer.get(f"/api/v1/cloud-pcs/{pc.pk}/", REMOTE_ADDR=remote_addr)
    assert viewed.status_code == 200, viewed.content

    operations = ["RequestApproved", "OperatorAction"]
    kept_addresses = set(
        AuditRecord.objects.filter(tenant=world.contoso, operation__in=operations).values_list(
            "client_ip", flat=True
        )
    )
    assert kept_addresses == {kept}
    assert verify_tenant(world.contoso) == (
        AuditRecord.objects.filter(tenant=world.contoso).count(),
        None,
    )


# Addresses around every rule of PostgreSQL's inet output: zero runs of each length in each
# place, the mapped and compatible IPv4 ranges and their edges.
def _edge_addresses():
    words = [0, 1, 0xFFFF, 0x102]
    seen = []
    for zeros_from in range(8):
        for zeros_to in range(zeros_from, 9):
            for fill in words[1:]:
                parts = [fill] * 8
                parts[zeros_from:zeros_to] = [0] * (zeros_to - zeros_from)
                seen.append(":".join(f"{p:x}" for p in parts))
    seen += ["::", "::1", "::ffff:0:0", "::ffff:1.2.3.4", "::fffe:1.2.3.4", "0:0:0:0:1:ffff::1"]
    seen += ["::1:0", "::1:1", "::ffff", "::1:0:0", "64:ff9b::1.2.3.4", "::ffff:0:1.2.3.4"]
    return seen


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's inet spelling")
def test_the_kept_spelling_is_the_one_postgresql_gives_back(db):
    from audit_app.addresses import stored_client_ip

    addresses = _edge_addresses()
    with connection.cursor() as cursor:
        cursor.execute("SELECT a::inet FROM unnest(%s::text[]) AS a", [addresses])
        given_back = [row[0] for row in cursor.fetchall()]
    assert [stored_client_ip(a, "postgresql") for a in addresses] == given_back
