"""The export that verifies (SPEC 11): a contiguous run of a tenant's chain as JSON Lines.

Each record carries every hashed field, so anyone can re-derive its hash offline; the pruned
ranges inside the run and the newest signed checkpoint come with it. The line formats are a
contract with the offline verifier (`lockbox-verify`): keep every name and value as it is.

The per-request evidence bundle (requests_app.evidence) reads its run through the same pieces.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max, Min
from django.http import StreamingHttpResponse
from django.utils import timezone

from tenants_app.models import Tenant

from .chain import HASHED_FIELDS
from .checkpoints import checkpoint_as_json
from .models import AuditCheckpoint, AuditPrunedRange, AuditRecord

FORMAT = "lockbox-audit/v1"
CONTENT_TYPE = "application/x-ndjson"
RECORD_FIELDS = ("id", "tenant_id", *HASHED_FIELDS, "prev_hash", "hash")
CHUNK_SIZE = 2000  # rows per database fetch, and lines per chunk written to the client


@dataclass(frozen=True)
class ChainRun:
    """Seq bounds of a contiguous run of one tenant's chain (both None when it is empty).

    `from_genesis`: nothing older than the run's first record is left, so the pruned ranges
    before it belong to the run and the verifier can walk it from seq 1.
    """

    tenant: Tenant
    first_seq: int | None
    last_seq: int | None
    from_genesis: bool = False

    @property
    def empty(self) -> bool:
        return self.first_seq is None or self.last_seq is None or self.first_seq > self.last_seq


def _first_seq(records, order: tuple[str, ...]) -> int | None:
    return records.order_by(*order).values_list("seq", flat=True).first()


def run_between(tenant: Tenant, start: datetime | None, end: datetime | None) -> ChainRun:
    """The run from the first record on/after `start` to the last on/before `end`.

    Bounds are taken by time (the indexed order of a search) but the run is every record
    between them by seq, so it is contiguous even if clocks ever disagreed with seq order.
    """
    records = AuditRecord.objects.filter(tenant=tenant)
    if start is None:
        first = _first_seq(records, ("seq",))
    else:
        first = _first_seq(records.filter(created_at__gte=start), ("created_at", "id"))
    if end is None:
        last = _first_seq(records, ("-seq",))
    else:
        last = _first_seq(records.filter(created_at__lte=end), ("-created_at", "-id"))
    from_genesis = first is not None and not records.filter(seq__lt=first).exists()
    return ChainRun(tenant, first, last, from_genesis)


def run_of_request(tenant: Tenant, request_id: int) -> ChainRun:
    """From the request's first audit record to its last: every record between, of any
    request, since the chain is per tenant."""
    bounds = AuditRecord.objects.filter(tenant=tenant, request_id=request_id).aggregate(
        first=Min("seq"), last=Max("seq")
    )
    return ChainRun(tenant, bounds["first"], bounds["last"])


def _ranges(run: ChainRun):
    ranges = AuditPrunedRange.objects.filter(tenant=run.tenant, last_seq__lt=run.last_seq)
    if not run.from_genesis:
        ranges = ranges.filter(first_seq__gt=run.first_seq)
    return ranges.order_by("first_seq")


def leading_seq(run: ChainRun) -> int | None:
    """The first seq the run's lines cover: a leading pruned range's, or the first record's."""
    if run.empty:
        return None
    first_range = _ranges(run).values_list("first_seq", flat=True).first()
    return min(run.first_seq, first_range) if first_range is not None else run.first_seq


def record_line(values: dict) -> dict:
    line = {"kind": "record", **values}
    # The very string the hash covered (chain.record_hash): isoformat of the UTC value.
    line["created_at"] = values["created_at"].isoformat()
    return line


def pruned_line(pruned: AuditPrunedRange) -> dict:
    return {
        "kind": "pruned",
        "first_seq": pruned.first_seq,
        "last_seq": pruned.last_seq,
        "last_hash": pruned.last_hash,
        "pruned_at": pruned.created_at.isoformat(),
        "jws": pruned.jws,
    }


def run_lines(run: ChainRun) -> Iterator[dict]:
    """The run's records in seq order, each pruned range just before the first record after it.

    Streamed from the database (a server-side cursor on PostgreSQL): memory stays flat.
    """
    if run.empty:
        return
    ranges = iter(_ranges(run).iterator(chunk_size=CHUNK_SIZE))
    next_range = next(ranges, None)
    records = (
        AuditRecord.objects.filter(tenant=run.tenant, seq__gte=run.first_seq, seq__lte=run.last_seq)
        .order_by("seq")
        .values(*RECORD_FIELDS)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for values in records:
        while next_range is not None and next_range.first_seq < values["seq"]:
            yield pruned_line(next_range)
            next_range = next(ranges, None)
        yield record_line(values)


def latest_checkpoint(tenant_id: int) -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.filter(tenant_id=tenant_id).order_by("-seq", "-id").first()


def dumps(obj) -> str:
    # default=str as the chain hashes (chain.record_hash); UTF-8 as it is, the verifier parses.
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)


def _jsonl(run: ChainRun, header: dict, checkpoint: AuditCheckpoint | None) -> Iterator[str]:
    yield dumps(header) + "\n"
    batch: list[str] = []
    for line in run_lines(run):
        batch.append(dumps(line))
        if len(batch) >= CHUNK_SIZE:  # a few large writes, not one per record
            yield "\n".join(batch) + "\n"
            batch = []
    if batch:
        yield "\n".join(batch) + "\n"
    if checkpoint is not None:
        yield dumps(checkpoint_as_json(checkpoint, run.tenant)) + "\n"


def audit_jsonl_response(
    tenant: Tenant, start: datetime | None = None, end: datetime | None = None
) -> StreamingHttpResponse:
    # Read before the run's bounds: without `end`, the checkpoint then covers a record the file
    # holds, whatever is appended meanwhile.
    checkpoint = latest_checkpoint(tenant.pk)
    run = run_between(tenant, start, end)
    if checkpoint is not None and (run.empty or checkpoint.seq > run.last_seq):
        # With `end`, the newest checkpoint inside the run: one past the file's end would read
        # as a chain head rolled back.
        checkpoint = (
            None
            if run.empty
            else AuditCheckpoint.objects.filter(tenant=tenant, seq__lte=run.last_seq)
            .order_by("-seq", "-id")
            .first()
        )
    now = timezone.now()
    header = {
        "kind": "header",
        "format": FORMAT,
        "tenant": tenant.slug,
        "tenant_id": tenant.pk,
        "exported_at": now.isoformat(),
        "first_seq": leading_seq(run),
        "last_seq": None if run.empty else run.last_seq,
    }
    response = StreamingHttpResponse(_jsonl(run, header, checkpoint), content_type=CONTENT_TYPE)
    name = f"audit-{tenant.slug}-{now:%Y%m%d-%H%M%S}.jsonl"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
