"""`lockbox-verify FILE --keys JWKS [--checkpoint CP ...]`.

Exit 0 and one summary line when everything verifies; exit 1 and `FAIL: seq <n>: <what>` for
the first problem; exit 2 when the inputs cannot be read (usage errors).
"""

import argparse
import sys

from . import __version__
from .files import UsageError, open_input, read_checkpoints, read_keys
from .jws import KeysError, load_jwks
from .verify import Failure, verify_file


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lockbox-verify",
        description=(
            "Verify a Lockbox audit export (.jsonl) or evidence bundle (.json) offline: every "
            "hash and link, signed pruned ranges, signed decisions, and your saved checkpoints."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="a .jsonl export or an evidence .json")
    parser.add_argument(
        "--keys", required=True, metavar="JWKS", help="Lockbox's public keys (lockbox-keys.json)"
    )
    parser.add_argument(
        "--checkpoint",
        action="extend",
        nargs="+",
        default=[],
        metavar="CP",
        help="a checkpoint you saved (one object, a JSON list, or JSON Lines); repeatable",
    )
    parser.add_argument(
        "--partial",
        action="store_true",
        help="the export was made with start=: the run need not begin at seq 1",
    )
    parser.add_argument(
        "--allow-unsigned-ranges",
        action="store_true",
        help="accept pruned ranges made before Lockbox signed them",
    )
    parser.add_argument(
        "--allow-unsigned-decisions",
        action="store_true",
        help="accept customer decisions recorded before Lockbox signed them",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def run(argv=None) -> tuple[int, str]:
    args = _parser().parse_args(argv)
    try:
        keys = load_jwks(read_keys(args.keys))
    except KeysError as exc:
        raise UsageError(f"{args.keys}: {exc}") from None
    checkpoints = [(item, path) for path in args.checkpoint for item in read_checkpoints(path)]
    source = open_input(args.file)
    try:
        summary = verify_file(
            source,
            keys,
            checkpoints,
            partial=args.partial,
            allow_unsigned_ranges=args.allow_unsigned_ranges,
            allow_unsigned_decisions=args.allow_unsigned_decisions,
        )
    except Failure as failure:
        return 1, f"FAIL: seq {failure.seq}: {failure.what}"
    return 0, summary


def main(argv=None) -> int:
    # A hostile file may carry lone surrogates: print them escaped rather than crash.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        code, line = run(argv)
    except UsageError as exc:
        print(f"lockbox-verify: error: {exc}", file=sys.stderr)
        return 2
    except RecursionError:
        print("lockbox-verify: error: JSON nested too deeply to be a Lockbox file", file=sys.stderr)
        return 2
    except UnicodeError as exc:
        print(f"lockbox-verify: error: text that is not valid Unicode: {exc}", file=sys.stderr)
        return 2
    print(line)
    return code


if __name__ == "__main__":
    sys.exit(main())
