"""Verification of each tenant's hash chain (`manage.py verify_audit`)."""

import hashlib
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime

from tenants_app.models import Tenant

from .chain import GENESIS, HASHED_FIELDS, record_hash
from .checkpoints import checkpoint_statement
from .decision_checks import decision_problem
from .models import AuditChainHead, AuditCheckpoint, AuditPrunedRange, AuditRecord
from .pruned_ranges import pruned_range_statement
from .signing import SignatureInvalid, verify


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


# --- Signed statements (SPEC 11): checkpoints and pruned ranges -------------------------------
# Apart from verify_tenant on purpose: the chain walk above needs no key; these checks need
# the verify keys and catch what a consistent rewrite of the chain would hide.


@dataclass
class SignedCheck:
    checkpoints: int = 0
    signed_ranges: int = 0
    problem: ChainBreak | None = None
    warnings: list[str] = field(default_factory=list)


def _same_statement(signed: dict, stored: dict, time_key: str) -> bool:
    """The signed payload says what the row says (times compared as instants)."""
    if {k: v for k, v in signed.items() if k != time_key} != {
        k: v for k, v in stored.items() if k != time_key
    }:
        return False
    try:
        return datetime.fromisoformat(signed[time_key]) == datetime.fromisoformat(stored[time_key])
    except (KeyError, TypeError, ValueError):
        return False


def _check_pruned_ranges(tenant: Tenant, result: SignedCheck) -> ChainBreak | None:
    """Every pruned range is signed by us and says what its row says.

    A range without a signature is a warning only if it was pruned before the tenant's first
    signed statement (ranges pruned before signing existed); any later one was put there by
    someone other than retention. Its id and created_at are written by whoever wrote the row,
    so they alone prove nothing: it must also lie below the first checkpoint's seq, which is
    signed. Ranges pruned before signing existed always do (that checkpoint signed a head
    written after them); a forged one hiding records signed since does not.
    """
    first_checkpoint = AuditCheckpoint.objects.filter(tenant=tenant).order_by("issued_at").first()
    signed = AuditPrunedRange.objects.filter(tenant=tenant).exclude(jws="")
    first_signed = signed.order_by("id").first()
    began = [first_checkpoint.issued_at] if first_checkpoint else []
    began += [first_signed.created_at] if first_signed else []
    signing_began = min(began, default=None)
    ranges = AuditPrunedRange.objects.filter(tenant=tenant).order_by("first_seq", "id")
    for pruned in ranges.iterator():
        name = f"pruned range {pruned.first_seq}-{pruned.last_seq}"
        if not pruned.jws:
            legacy = (
                (signing_began is None or pruned.created_at < signing_began)
                and (first_signed is None or pruned.pk < first_signed.pk)
                and (first_checkpoint is None or pruned.last_seq < first_checkpoint.seq)
            )
            if not legacy:
                return ChainBreak(tenant.slug, pruned.first_seq, None, f"{name} is not signed")
            result.warnings.append(f"{name} is not signed (pruned before ranges were signed)")
            continue
        try:
            statement = verify(pruned.jws)
        except SignatureInvalid as exc:
            return ChainBreak(
                tenant.slug, pruned.first_seq, None, f"{name}: signature invalid ({exc})"
            )
        if not _same_statement(statement, pruned_range_statement(pruned, tenant), "pruned_at"):
            return ChainBreak(
                tenant.slug, pruned.first_seq, None, f"{name} does not match its signature"
            )
        result.signed_ranges += 1
    return None


def _checkpoint_problem(checkpoint, tenant: Tenant, previous_jws, previous_seq) -> str | None:
    """What is wrong with one checkpoint row, read in issue order after `previous_jws`."""
    name = f"checkpoint {checkpoint.seq}"
    try:
        statement = verify(checkpoint.jws)
    except SignatureInvalid as exc:
        return f"{name}: signature invalid ({exc})"
    if not _same_statement(statement, checkpoint_statement(checkpoint, tenant), "issued_at"):
        return f"{name} does not match its signature"
    link = hashlib.sha256(previous_jws.encode()).hexdigest() if previous_jws else None
    if statement["previous"] != link:
        return f"{name}: previous checkpoint is missing or altered (link broken)"
    if checkpoint.seq < previous_seq:
        return f"{name} signs a head below the checkpoint before it"
    return None


def _check_checkpoint_rows(tenant: Tenant, result: SignedCheck) -> tuple[ChainBreak | None, dict]:
    """Each checkpoint's JWS is ours and matches its row; `previous` links them in issue order.

    Returns the first problem and the signed {seq: hash} to hold against the chain.
    """
    signed: dict[int, str] = {}
    previous_jws, previous_seq = None, 0
    for checkpoint in AuditCheckpoint.objects.filter(tenant=tenant).order_by("id").iterator():
        problem = _checkpoint_problem(checkpoint, tenant, previous_jws, previous_seq)
        if problem is not None:
            return ChainBreak(tenant.slug, checkpoint.seq, None, problem), signed
        # The row matches its signature, so its seq and hash are the signed ones.
        signed[checkpoint.seq] = checkpoint.hash
        previous_jws, previous_seq = checkpoint.jws, checkpoint.seq
        result.checkpoints += 1
    return None, signed


def _check_checkpoints_against_chain(tenant: Tenant, signed: dict[int, str]) -> ChainBreak | None:
    """No checkpoint beyond the head; at each checkpoint's seq the chain holds its hash."""
    if not signed:
        return None
    head = AuditChainHead.objects.filter(tenant=tenant).first()
    head_seq = head.last_seq if head else 0
    highest = max(signed)
    if highest > head_seq:
        return ChainBreak(
            tenant.slug, head_seq + 1, None, f"chain head rolled back below checkpoint {highest}"
        )
    ranges = list(
        AuditPrunedRange.objects.filter(tenant=tenant)
        .order_by("first_seq")
        .values_list("first_seq", "last_seq", "last_hash")
    )
    starts = [first for first, _, _ in ranges]
    seqs = sorted(signed)
    for i in range(0, len(seqs), 1000):
        chunk = seqs[i : i + 1000]
        hashes = dict(
            AuditRecord.objects.filter(tenant=tenant, seq__in=chunk).values_list("seq", "hash")
        )
        for seq in chunk:
            if seq in hashes:
                if hashes[seq] != signed[seq]:
                    return ChainBreak(
                        tenant.slug, seq, None, f"checkpoint {seq} does not match the chain"
                    )
                continue
            at = bisect_right(starts, seq) - 1
            if at >= 0 and ranges[at][1] >= seq:
                first, last, last_hash = ranges[at]
                if last == seq and last_hash != signed[seq]:
                    return ChainBreak(
                        tenant.slug, seq, None, f"checkpoint {seq} does not match the chain"
                    )
                continue  # inside a pruned range the hash is gone: nothing to compare
            return ChainBreak(
                tenant.slug,
                seq,
                None,
                f"checkpoint {seq} does not match the chain (record missing)",
            )
    return None


def verify_tenant_signatures(tenant: Tenant) -> SignedCheck:
    """The signed statements of one tenant, and the chain held against its checkpoints."""
    result = SignedCheck()
    result.problem = _check_pruned_ranges(tenant, result)
    if result.problem is None:
        result.problem, signed = _check_checkpoint_rows(tenant, result)
        if result.problem is None:
            result.problem = _check_checkpoints_against_chain(tenant, signed)
    return result
