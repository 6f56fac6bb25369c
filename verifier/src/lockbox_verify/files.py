"""Reading the inputs: a JSON Lines export (streamed), an evidence bundle, checkpoint files, keys.

Anything that cannot be read as what it should be is a UsageError (exit 2); what reads fine
but does not verify is for verify.py to judge (exit 1).
"""

import json
import json.scanner
import os
from collections.abc import Iterator

EXPORT_FORMAT = "lockbox-audit/v1"
EVIDENCE_FORMAT = "lockbox-evidence/v1"
_TAIL_BYTES = 65536
_scanner = json.scanner.make_scanner(json.JSONDecoder())


class UsageError(Exception):
    pass


def _load_json(path: str, what: str):
    try:
        with open(path, "rb") as handle:
            return json.load(handle)
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"{what} {path} is not JSON: {exc}") from None


def read_keys(path: str):
    return _load_json(path, "the keys file")


def _checkpoint_of(item, where: str) -> dict:
    """A checkpoint object, or the one inside a saved webhook delivery body (a CloudEvent's
    `data`, or an event object's `checkpoint`)."""
    for _ in range(2):
        if not isinstance(item, dict) or "jws" in item:
            break
        item = next(
            (item[k] for k in ("data", "checkpoint") if isinstance(item.get(k), dict)), item
        )
    if not isinstance(item, dict) or not isinstance(item.get("jws"), str):
        raise UsageError(f"{where} is not a checkpoint (an object with a jws)")
    return item


def read_checkpoints(path: str) -> list[dict]:
    """One checkpoint object, a JSON list of them, or JSON Lines of them."""
    try:
        with open(path, "rb") as handle:
            text = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read the checkpoint file {path}: {exc.strerror or exc}") from None
    try:
        document = json.loads(text)
    except ValueError:
        document = None
        items = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except ValueError:
                raise UsageError(
                    f"checkpoint file {path} is neither JSON nor JSON Lines (line {number})"
                ) from None
    if document is not None:
        items = document if isinstance(document, list) else [document]
    if not items:
        raise UsageError(f"checkpoint file {path} holds no checkpoint")
    return [_checkpoint_of(item, f"{path} item {n}") for n, item in enumerate(items, 1)]


class Export:
    """A JSON Lines export: the header, then its lines one at a time (never all in memory)."""

    kind = "export"

    def __init__(self, path: str, header: dict):
        self.path = path
        self.header = header
        self.trailing_checkpoint = self._read_trailing_checkpoint()

    def _read_trailing_checkpoint(self) -> dict | None:
        # The checkpoint line comes last, but the record it names came before it: read it from
        # the tail first so the stream can compare that record when it passes.
        try:
            with open(self.path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                handle.seek(max(0, size - _TAIL_BYTES))
                tail = handle.read()
        except OSError:
            return None
        lines = [line for line in tail.splitlines() if line.strip()]
        try:
            last = json.loads(lines[-1]) if lines else None
        except ValueError:
            return None
        return last if isinstance(last, dict) and last.get("kind") == "checkpoint" else None

    def lines(self) -> Iterator[dict]:
        # The C scanner straight on each decoded line: json.loads adds an encoding sniff, two
        # regex matches and a decoder per call, as much again as parsing a record.
        scan = _scanner
        number = 1
        try:
            with open(self.path, encoding="utf-8") as handle:
                handle.readline()  # the header, already read
                for line in handle:
                    number += 1
                    try:
                        item, end = scan(line, 0)
                        if end != len(line) - 1 and line[end:].strip():
                            raise ValueError
                    except (StopIteration, ValueError):
                        if not line.strip():
                            continue
                        try:
                            item = json.loads(line)
                        except ValueError:
                            raise UsageError(f"{self.path} line {number} is not JSON") from None
                    if type(item) is not dict:
                        raise UsageError(f"{self.path} line {number} is not a JSON object")
                    yield item
        except UnicodeDecodeError:
            raise UsageError(f"{self.path} line {number + 1} is not UTF-8") from None
        except OSError as exc:
            raise UsageError(f"cannot read {self.path}: {exc.strerror or exc}") from None


class Evidence:
    """An evidence bundle: one JSON document (one request's run, small enough to hold)."""

    kind = "evidence"

    def __init__(self, path: str, document: dict):
        self.path = path
        self.document = document
        for name in ("records", "pruned", "decisions"):
            if not isinstance(document.get(name, []), list):
                raise UsageError(f"{path}: {name} is not a list")
        if document.get("checkpoint") is not None and not isinstance(document["checkpoint"], dict):
            raise UsageError(f"{path}: checkpoint is not an object")

    def lines(self) -> Iterator[dict]:
        """Records and pruned ranges in chain order: ranges before the record they precede."""
        ranges = sorted(
            (r for r in self.document.get("pruned", []) if isinstance(r, dict)),
            key=lambda r: r.get("first_seq") if type(r.get("first_seq")) is int else 0,
        )
        position = 0
        for record in self.document.get("records", []):
            if not isinstance(record, dict):
                raise UsageError(f"{self.path}: a record is not a JSON object")
            seq = record.get("seq")
            while (
                position < len(ranges)
                and type(seq) is int
                and (ranges[position].get("first_seq") or 0) < seq
            ):
                yield {**ranges[position], "kind": "pruned"}
                position += 1
            yield {**record, "kind": "record"}
        for pruned in ranges[position:]:
            yield {**pruned, "kind": "pruned"}


def open_input(path: str) -> Export | Evidence:
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    first = handle.readline()
    try:
        head = json.loads(first)
    except ValueError:
        head = None
    if isinstance(head, dict) and head.get("kind") == "header":
        if head.get("format") != EXPORT_FORMAT:
            handle.close()
            raise UsageError(f"{path}: unknown export format {head.get('format')!r}")
        handle.close()
        return Export(path, head)
    if head is None and first.lstrip().startswith(b"{"):
        # A pretty-printed bundle spans lines: read the whole document (only then: a large
        # file of something else must not be read into memory to find out).
        try:
            handle.seek(0)
            head = json.load(handle)
        except ValueError:
            head = None
        finally:
            handle.close()
    else:
        handle.close()
    if isinstance(head, dict) and head.get("format") == EVIDENCE_FORMAT:
        return Evidence(path, head)
    raise UsageError(
        f"{path} is neither a Lockbox JSON Lines export (first line a header) nor an evidence bundle"
    )
