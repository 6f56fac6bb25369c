"""Signed checkpoints of a tenant's chain head."""

import hashlib

from audit_app import signing
from audit_app.checkpoints import checkpoint_issue
from audit_app.models import AuditChainHead, AuditCheckpoint, AuditRecord


def test_a_checkpoint_signs_the_chain_head_and_links_to_the_previous_one(world, make_request):
    make_request()
    head = AuditChainHead.objects.get(tenant=world.contoso)
    first = checkpoint_issue(tenant_id=world.contoso.pk)
    assert (first.seq, first.hash) == (head.last_seq, head.last_hash)
    assert AuditRecord.objects.get(tenant=world.contoso, seq=first.seq).hash == first.hash
    statement = signing.verify(first.jws)
    assert statement == {
        "type": "lockbox.checkpoint/v1",
        "tenant": "contoso",
        "tenant_id": world.contoso.pk,
        "seq": first.seq,
        "hash": first.hash,
        "issued_at": first.issued_at.isoformat(),
        "previous": None,
    }
    assert checkpoint_issue(tenant_id=world.contoso.pk) is None  # nothing new to sign
    make_request()
    second = checkpoint_issue(tenant_id=world.contoso.pk)
    assert second.seq > first.seq
    assert signing.verify(second.jws)["previous"] == hashlib.sha256(first.jws.encode()).hexdigest()
    assert checkpoint_issue(tenant_id=world.fabrikam.pk) is None  # no records, no checkpoint
    assert AuditCheckpoint.objects.count() == 2
