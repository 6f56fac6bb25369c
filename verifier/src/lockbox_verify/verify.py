"""The checks: one pass over the chain in order, keeping only the current link and the
checkpoints still to be matched, so memory does not grow with the number of records."""

from dataclasses import dataclass
from hashlib import sha256 as _sha256

from . import chain
from .chain import CONTENT_KEYS
from .chain import encode as _encode
from .files import Evidence, Export
from .jws import SignatureInvalid, same_statement, verify

CHECKPOINT_TYPE = "lockbox.checkpoint/v1"
DECISION_TYPE = "lockbox.decision/v1"
PRUNED_TYPE = "lockbox.pruned/v1"
# The audit operations of customer-side decisions: SPEC 11 signs every one, so such a record
# without a signature is a forgery (or a log from before Lockbox signed: --allow-unsigned-decisions).
DECISION_OPERATIONS = frozenset(
    {
        "RequestApproved",
        "RequestDenied",
        "AccessRevoked",
        "RequestAutoApproved",
        # SPEC 10: each approval of a quorum, emergency access and its review.
        "RequestApprovalAdded",
        "EmergencyAccessGranted",
        "EmergencyAccessReviewed",
    }
)
_HEX = frozenset("0123456789abcdef")


class Failure(Exception):
    """The first problem found: the chain position it concerns and what is wrong."""

    def __init__(self, seq, what: str):
        super().__init__(f"seq {seq}: {what}")
        self.seq = seq
        self.what = what


def _content(item: dict, seq) -> dict:
    """The hashed fields of a record line that also carries fields the chain does not cover."""
    missing = [name for name in chain.CONTENT_FIELDS if name not in item]
    if missing:
        raise Failure(seq, f"the record has no {missing[0]} field")
    return {name: item[name] for name in chain.CONTENT_FIELDS}


def _is_hash(value) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


@dataclass
class Checkpoint:
    seq: int
    hash: str
    tenant: str
    tenant_id: int
    issued_at: str
    jws: str
    source: str

    def describe(self) -> str:
        return f"the checkpoint of seq {self.seq} issued at {self.issued_at} ({self.source})"


def read_checkpoint(item: dict, source: str, keys) -> Checkpoint:
    """A checkpoint whose signature verifies; only its signed payload is trusted."""
    claimed = item.get("seq") if type(item.get("seq")) is int else 0
    try:
        payload = verify(item.get("jws"), keys)
    except SignatureInvalid as exc:
        raise Failure(claimed, f"checkpoint ({source}): {exc}") from None
    if payload.get("type") != CHECKPOINT_TYPE:
        raise Failure(claimed, f"checkpoint ({source}) is a signed {payload.get('type')!r}")
    seq, digest, tenant_id = payload.get("seq"), payload.get("hash"), payload.get("tenant_id")
    if type(seq) is not int or seq < 1 or not _is_hash(digest) or type(tenant_id) is not int:
        raise Failure(
            claimed, f"checkpoint ({source}): signed payload lacks seq, hash or tenant_id"
        )
    return Checkpoint(
        seq=seq,
        hash=digest,
        tenant=str(payload.get("tenant")),
        tenant_id=tenant_id,
        issued_at=str(payload.get("issued_at")),
        jws=item["jws"],
        source=source,
    )


class Verifier:
    def __init__(
        self,
        keys,
        *,
        partial: bool = False,
        allow_unsigned_ranges: bool = False,
        allow_unsigned_decisions: bool = False,
    ):
        self.keys = keys
        self.partial = partial
        self.allow_unsigned_ranges = allow_unsigned_ranges
        self.allow_unsigned_decisions = allow_unsigned_decisions
        self.tenant = None
        self.tenant_id = None
        self.checkpoints: list[Checkpoint] = []
        self.pending: dict[int, list[Checkpoint]] = {}
        # The chain position: the next seq expected and the hash it must link to. None before
        # anything is known (a run that starts after seq 1).
        self.expected_seq: int | None = None
        self.prev: str | None = None
        self.seen_record = False
        self.first_seq: int | None = None
        self.present = 0
        self.pruned = 0
        self.ranges = 0
        self.unsigned_ranges = 0
        self.decisions: set[str] = set()
        self.record_tokens: set[str] = set()
        self.decision_count = 0
        self.matched = 0
        self.outside = 0

    # Checkpoints ---------------------------------------------------------------------------

    def add_checkpoint(self, item: dict, source: str) -> None:
        checkpoint = read_checkpoint(item, source, self.keys)
        if any(c.jws == checkpoint.jws for c in self.checkpoints):
            return
        self.checkpoints.append(checkpoint)

    def set_tenant(self, slug, tenant_id) -> None:
        self.tenant, self.tenant_id = slug, tenant_id
        for checkpoint in self.checkpoints:
            if checkpoint.tenant_id != tenant_id:
                raise Failure(
                    checkpoint.seq,
                    f"{checkpoint.describe()} is for tenant {checkpoint.tenant} "
                    f"(id {checkpoint.tenant_id}), not this file's tenant {slug} (id {tenant_id})",
                )
        self.pending = {}
        for checkpoint in self.checkpoints:
            self.pending.setdefault(checkpoint.seq, []).append(checkpoint)

    def _match(self, seq: int, digest: str, what: str) -> None:
        for checkpoint in self.pending.pop(seq, ()):
            if checkpoint.hash != digest:
                raise Failure(
                    seq,
                    f"{what} does not match {checkpoint.describe()}: the chain was changed "
                    f"at or before seq {seq} after that checkpoint was signed",
                )
            self.matched += 1

    # The chain -----------------------------------------------------------------------------

    def start(self) -> None:
        if not self.partial:
            self.expected_seq, self.prev = 1, chain.GENESIS

    def _step_to(self, seq: int) -> None:
        """Check that seq is the next position; a run may start after a gap (partial only)."""
        expected = self.expected_seq
        if expected is None:
            self.prev = chain.GENESIS if seq == 1 else None
        elif seq != expected:
            if self.partial and not self.seen_record and seq > expected:
                self._run_starts_at(seq)
            elif seq > expected:
                hint = ""
                if not self.seen_record and not self.partial:
                    hint = " (if you exported with start=, verify with --partial)"
                where = (
                    f"after seq {expected - 1} the file goes on with seq {seq}"
                    if expected > 1
                    else f"the file starts at seq {seq}"
                )
                raise Failure(
                    expected,
                    f"records {expected}-{seq - 1} missing or moved: {where}, and no signed "
                    f"pruned range covers them{hint}",
                )
            else:
                raise Failure(
                    seq,
                    f"out of order: the file has seq {seq} where seq {expected} should follow "
                    f"seq {expected - 1} (a record inserted, duplicated or moved)",
                )
        if self.first_seq is None:
            self.first_seq = seq

    def _run_starts_at(self, seq: int) -> None:
        """A run exported with start=: what lies before the gap is outside the file, not
        missing; the pruned ranges read before it were checked but are not part of the run."""
        self.prev = None
        self.first_seq = seq
        self.pruned = self.ranges = self.unsigned_ranges = 0

    def record(self, item: dict) -> None:
        """The hot path: one dict lookup per check, the record's own dict hashed in place."""
        seq = item.get("seq")
        if type(seq) is not int:
            raise Failure(self.expected_seq or "?", "a record without an integer seq")
        if seq != self.expected_seq or self.first_seq is None:
            self._step_to(seq)
        self.seen_record = True
        prev_hash, digest = item.pop("prev_hash", None), item.pop("hash", None)
        item.pop("kind", None)
        item.pop("id", None)
        if type(prev_hash) is not str or type(digest) is not str:
            raise Failure(seq, "the record has no prev_hash or hash")
        if prev_hash != self.prev and self.prev is not None:
            before = "the genesis" if seq == 1 else f"the hash of seq {seq - 1}"
            raise Failure(
                seq,
                f"link to the previous record broken: prev_hash is not {before} "
                f"(seq {seq - 1} or {seq} was changed, removed or replaced)",
            )
        content = item if item.keys() == CONTENT_KEYS else _content(item, seq)
        if content["tenant_id"] != self.tenant_id:
            raise Failure(
                seq, f"a record of tenant id {content['tenant_id']!r}, not {self.tenant_id}"
            )
        if _sha256((prev_hash + _encode(content)).encode()).hexdigest() != digest:
            raise Failure(seq, "content altered: the record's fields do not give its hash")
        details = content["details"]
        if type(details) is dict and ("jws" in details or "statement" in details):
            self._decision(seq, details, content)
        elif content["operation"] in DECISION_OPERATIONS and not self.allow_unsigned_decisions:
            raise Failure(
                seq,
                f"a {content['operation']} record without a signature: every customer decision "
                "is signed (for a log from before Lockbox signed, use --allow-unsigned-decisions)",
            )
        if seq in self.pending:
            self._match(seq, digest, f"the record's hash {digest[:12]}…")
        self.present += 1
        self.expected_seq = seq + 1
        self.prev = digest

    def pruned_range(self, item: dict) -> None:
        first, last, last_hash = item.get("first_seq"), item.get("last_seq"), item.get("last_hash")
        if type(first) is not int or type(last) is not int or last < first or first < 1:
            raise Failure(self.expected_seq or "?", "a pruned range without a valid seq range")
        label = f"pruned range {first}-{last}"
        token = item.get("jws")
        if not token:
            if not self.allow_unsigned_ranges:
                raise Failure(
                    first,
                    f"{label} is not signed, so nothing shows Lockbox's retention removed "
                    "those records (ranges pruned before signing: --allow-unsigned-ranges)",
                )
            self.unsigned_ranges += 1
        else:
            try:
                payload = verify(token, self.keys)
            except SignatureInvalid as exc:
                raise Failure(first, f"{label}: {exc}") from None
            if payload.get("type") != PRUNED_TYPE:
                raise Failure(first, f"{label}: the signature is of a {payload.get('type')!r}")
            if payload.get("tenant_id") != self.tenant_id:
                raise Failure(first, f"{label} is signed for tenant {payload.get('tenant')!r}")
            for name, value in (("first_seq", first), ("last_seq", last), ("last_hash", last_hash)):
                if payload.get(name) != value:
                    raise Failure(
                        first,
                        f"{label} does not match its signed statement: {name} is "
                        f"{value!r} in the file, {payload.get(name)!r} signed",
                    )
        if not _is_hash(last_hash):
            raise Failure(first, f"{label} has no valid last_hash")
        if self.expected_seq is not None and first != self.expected_seq:
            if self.partial and not self.seen_record and first > self.expected_seq:
                self._run_starts_at(first)
            else:
                raise Failure(
                    self.expected_seq,
                    f"{label} does not continue the chain: seq {self.expected_seq} expected",
                )
        if self.first_seq is None:
            self.first_seq = first
        for seq in [s for s in self.pending if first <= s <= last]:
            if seq == last:
                self._match(seq, last_hash, f"the last hash of {label}")
            else:
                # A signed statement says that record was pruned since: nothing left to compare.
                self.pending.pop(seq)
                self.outside += 1
        self.ranges += 1
        self.pruned += last - first + 1
        self.expected_seq, self.prev = last + 1, last_hash

    def _decision(self, seq, details: dict, content: dict) -> None:
        token, statement = details.get("jws"), details.get("statement")
        if not isinstance(token, str) or not isinstance(statement, dict):
            raise Failure(seq, "a decision without both its statement and its signature")
        self.decision(seq, statement, token)
        if statement.get("request") != content["request_id"]:
            raise Failure(
                seq,
                f"the record of request {content['request_id']} carries the signed decision of "
                f"request {statement.get('request')}",
            )
        if token in self.record_tokens:
            raise Failure(seq, "a signed decision that an earlier record already carries")
        self.record_tokens.add(token)

    def decision(self, seq, statement: dict, token: str) -> None:
        try:
            payload = verify(token, self.keys)
        except SignatureInvalid as exc:
            raise Failure(seq, f"decision signature: {exc}") from None
        if payload.get("type") != DECISION_TYPE:
            raise Failure(seq, f"decision signature is of a {payload.get('type')!r}")
        if not same_statement(payload, statement):
            raise Failure(seq, "the decision's statement is not what was signed")
        if payload.get("tenant_id") != self.tenant_id:
            raise Failure(seq, f"a decision signed for tenant {payload.get('tenant')!r}")
        if token not in self.decisions:
            self.decisions.add(token)
            self.decision_count += 1

    def checkpoint_line(self, item: dict, source: str) -> None:
        """A checkpoint line met in the stream that was not read ahead from the file's tail."""
        if any(c.jws == item.get("jws") for c in self.checkpoints):
            return
        checkpoint = read_checkpoint(item, source, self.keys)
        if checkpoint.tenant_id != self.tenant_id:
            raise Failure(checkpoint.seq, f"{checkpoint.describe()} is for another tenant")
        self.checkpoints.append(checkpoint)
        last = (self.expected_seq or 1) - 1
        if checkpoint.seq > last:
            self.pending.setdefault(checkpoint.seq, []).append(checkpoint)
        elif checkpoint.seq == last and self.prev is not None:
            self.pending[checkpoint.seq] = [checkpoint]
            self._match(checkpoint.seq, self.prev, f"the hash of seq {last}")
        else:
            raise Failure(checkpoint.seq, "a checkpoint line in the middle of the file")

    def finish(self, head_may_be_later: bool) -> None:
        """Checkpoints not met: beyond the end of a full export the head was rolled back."""
        last = (self.expected_seq or 1) - 1 if self.first_seq is not None else 0
        for seq in sorted(self.pending):
            if seq > last and not head_may_be_later:
                checkpoint = self.pending[seq][0]
                end = f"the file ends at seq {last}" if last else "the file has no records"
                raise Failure(
                    last + 1,
                    f"records missing at the end, the chain head rolled back: "
                    f"{checkpoint.describe()} covers seq {seq}, {end}",
                )
            self.outside += len(self.pending[seq])
        self.pending = {}
        self.last_seq = last

    # Summary -------------------------------------------------------------------------------

    def summary(self, prefix: str = "") -> str:
        def n(count, word):
            return f"{count} {word}{'' if count == 1 else 's'}"

        if self.first_seq is None:
            records = "no records"
        else:
            ranges = f"{self.pruned} pruned in {n(self.ranges, 'signed range')}"
            if not self.ranges:
                ranges = "none pruned"
            elif self.unsigned_ranges:
                ranges = (
                    f"{self.pruned} pruned in {n(self.ranges, 'range')}, "
                    f"{self.unsigned_ranges} unsigned"
                )
            records = f"records {self.first_seq}-{self.last_seq} ({self.present} present, {ranges})"
        text = (
            f"OK: tenant {self.tenant}, {prefix}{records}, "
            f"{n(self.decision_count, 'signed decision')}, "
            f"{n(self.matched, 'checkpoint')} verified"
        )
        if self.outside:
            text += f"; {self.outside} outside this run (signature checked only)"
        return text


def verify_file(
    source: Export | Evidence,
    keys,
    checkpoints,
    *,
    partial=False,
    allow_unsigned_ranges=False,
    allow_unsigned_decisions=False,
) -> str:
    """Run every check; the summary line, or Failure for the first problem."""
    verifier = Verifier(
        keys,
        partial=partial or source.kind == "evidence",
        allow_unsigned_ranges=allow_unsigned_ranges,
        allow_unsigned_decisions=allow_unsigned_decisions,
    )
    for item, where in checkpoints:
        verifier.add_checkpoint(item, where)
    if source.kind == "export":
        header = source.header
        if source.trailing_checkpoint is not None:
            verifier.add_checkpoint(source.trailing_checkpoint, "the file's last line")
        tenant, tenant_id = header.get("tenant"), header.get("tenant_id")
        if type(tenant_id) is not int:
            raise Failure("?", "the header has no tenant_id")
        verifier.set_tenant(tenant, tenant_id)
        verifier.start()
        _stream(verifier, source.lines())
        declared = header.get("last_seq")
        verifier.finish(head_may_be_later=False)
        if type(declared) is int and declared > verifier.last_seq:
            raise Failure(
                verifier.last_seq + 1,
                f"the file ends at seq {verifier.last_seq} but its header says the run goes "
                f"to seq {declared} (an incomplete download, or lines removed from the end)",
            )
        return verifier.summary()
    return _verify_evidence(verifier, source)


def _stream(verifier: Verifier, lines) -> None:
    record, pruned_range = verifier.record, verifier.pruned_range
    for item in lines:
        kind = item.get("kind")
        if kind == "record":
            record(item)
        elif kind == "pruned":
            pruned_range(item)
        elif kind == "checkpoint":
            verifier.checkpoint_line(item, "a checkpoint line of the file")
        else:
            raise Failure(verifier.expected_seq or "?", f"a line of unknown kind {kind!r}")


def _verify_evidence(verifier: Verifier, source: Evidence) -> str:
    document = source.document
    embedded = document.get("checkpoint")
    if embedded is not None:
        verifier.add_checkpoint(embedded, "the bundle's checkpoint")
    records = [r for r in document.get("records", []) if isinstance(r, dict)]
    # The tenant: from the bundle's signed checkpoint, else from its records (which must agree).
    # Found by its token: one the customer also gave with --checkpoint is kept once, under the
    # customer's file name.
    token = embedded.get("jws") if isinstance(embedded, dict) else None
    signed = next((c for c in verifier.checkpoints if c.jws == token), None)
    if signed is not None:
        tenant, tenant_id = signed.tenant, signed.tenant_id
    elif records and type(records[0].get("tenant_id")) is int:
        tenant, tenant_id = None, records[0]["tenant_id"]
    else:
        raise Failure("?", "the bundle has neither a checkpoint nor records: nothing to verify")
    request = document.get("request") if isinstance(document.get("request"), dict) else {}
    request_id = request.get("id")
    if type(request_id) is not int:
        raise Failure("?", "the bundle's request has no id: it proves nothing about a request")
    if not any(r.get("request_id") == request_id for r in records):
        raise Failure("?", f"the bundle holds no record of request {request_id}")
    verifier.set_tenant(tenant, tenant_id)
    verifier.start()
    _stream(verifier, source.lines())
    verifier.finish(head_may_be_later=True)
    in_records = {
        r["details"]["jws"]: r.get("seq")
        for r in records
        if isinstance(r.get("details"), dict) and isinstance(r["details"].get("jws"), str)
    }
    listed = list(document.get("decisions", []))
    # The request object lists every decision, the provider's own too (internal approval or
    # denial, cancellation), which Lockbox does not sign: statement and jws are both null
    # there. Every decision that carries either must verify.
    listed += [
        d
        for d in request.get("decisions", []) or []
        if isinstance(d, dict) and (d.get("statement") is not None or d.get("jws") is not None)
    ]
    for number, decision in enumerate(listed, 1):
        if not isinstance(decision, dict) or not isinstance(decision.get("statement"), dict):
            raise Failure("?", f"decision {number} of the bundle has no statement")
        token = decision.get("jws")
        if token not in in_records:
            raise Failure("?", f"decision {number} of the bundle is in none of its records")
        seq = in_records[token]
        verifier.decision(seq, decision["statement"], token)
        if decision["statement"].get("request") != request_id:
            raise Failure(seq, f"decision {number} of the bundle is for another request")
    if verifier.tenant is None:
        verifier.tenant = tenant_id
    return verifier.summary(prefix=f"request {request_id}, ")
