"""Verification of each tenant's hash chain (`manage.py verify_audit`)."""

from dataclasses import dataclass

from tenants_app.models import Tenant

from .chain import GENESIS, HASHED_FIELDS, record_hash
from .decision_checks import decision_problem
from .models import AuditPrunedRange, AuditRecord


@dataclass
class ChainBreak:
    tenant: str
    seq: int
    record_id: int | None
    problem: str


def _events(tenant: Tenant):
    """Records and pruned ranges of one tenant, merged in chain order."""
    records = (
        AuditRecord.objects.filter(tenant=tenant)
        .order_by("seq")
        .values("id", "prev_hash", "hash", *HASHED_FIELDS)
        .iterator(chunk_size=2000)
    )
    ranges = iter(AuditPrunedRange.objects.filter(tenant=tenant).order_by("first_seq"))
    next_range = next(ranges, None)
    for record in records:
        while next_range is not None and next_range.first_seq < record["seq"]:
            yield "range", next_range
            next_range = next(ranges, None)
        yield "record", record
    while next_range is not None:
        yield "range", next_range
        next_range = next(ranges, None)


def verify_tenant(tenant: Tenant) -> tuple[int, ChainBreak | None]:
    """Walk the chain; return how many records were checked and the first break, if any."""
    expected_seq, expected_prev, checked = 1, GENESIS, 0
    for kind, item in _events(tenant):
        if kind == "range":
            if item.first_seq != expected_seq:
                return checked, ChainBreak(tenant.slug, expected_seq, None, "records missing")
            expected_seq, expected_prev = item.last_seq + 1, item.last_hash
            continue
        seq = item["seq"]
        if seq != expected_seq:
            return checked, ChainBreak(tenant.slug, expected_seq, None, "records missing")
        if item["prev_hash"] != expected_prev:
            return checked, ChainBreak(tenant.slug, seq, item["id"], "link to previous broken")
        if record_hash(expected_prev, tenant.pk, item) != item["hash"]:
            return checked, ChainBreak(tenant.slug, seq, item["id"], "content altered")
        if problem := decision_problem(tenant.pk, item):
            return checked, ChainBreak(tenant.slug, seq, item["id"], problem)
        expected_seq, expected_prev, checked = seq + 1, item["hash"], checked + 1
    head = getattr(tenant, "auditchainhead", None)
    if head is not None and head.last_seq != expected_seq - 1:
        return checked, ChainBreak(tenant.slug, expected_seq, None, "newest records missing")
    return checked, None
