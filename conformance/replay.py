"""Answer a vector pack with an in-process adapter: ``python -m conformance.replay PACK/ --iut NAME > responses.jsonl``.

This is what a hardware rig does, done in Python: read ``requests.jsonl`` line by line, perform each request on the
IUT, write one response line per request line. It goes through the wire codec exactly as ``serve`` does
(``conformance.adapters.serve.answer``), so a pack answered here and judged offline must give the same verdicts as a
live run of the same adapter. The project's tests use it to answer packs with the reference NIC and with mutants.

A request the adapter cannot perform (it raises an ``AdapterError``) is answered ``{"ok": false, "error": ...}``, as
the pack's README asks of a rig, never skipped. A request line that is not valid is answered the same way.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

from conformance.adapters import wire
from conformance.adapters.base import Adapter
from conformance.adapters.errors import AdapterError, AdapterLoadError
from conformance.adapters.serve import answer
from conformance.adapters.trace import REQUESTS_FILE
from reference_model.ndis import WireFormatError

PROG = "python -m conformance.replay"


def answer_lines(adapter: Adapter, lines: Iterable[bytes]) -> Iterable[bytes]:
    """One encoded response line per request line, in order (the adapter is not closed here)."""
    for line in lines:
        try:
            request = wire.decode_request(line)
            response = answer(adapter, request)
        except WireFormatError as exc:
            response = wire.error_response(str(exc))
        except AdapterError as exc:
            response = wire.error_response(f"adapter error: {exc}")
        yield wire.encode_line(response)


def replay_pack(pack_dir: Path, adapter: Adapter, sink: IO[bytes]) -> int:
    """Answer every request line of ``pack_dir`` with ``adapter`` into ``sink``; returns the number of lines."""
    data = (pack_dir / REQUESTS_FILE).read_bytes()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    count = 0
    try:
        for response in answer_lines(adapter, lines):
            sink.write(response)
            count += 1
    finally:
        adapter.close()
    sink.flush()
    return count


def main(argv: Sequence[str] | None = None) -> int:
    from conformance.adapters.loading import load_adapter

    parser = argparse.ArgumentParser(prog=PROG, description="Answer a vector pack's requests with an adapter.")
    parser.add_argument("pack", metavar="PACK", help="pack directory (written by 'ipsecov2-conformance export')")
    parser.add_argument("--iut", required=True, metavar="NAME[:ARGUMENT]", help="adapter, e.g. reference or mutant:X")
    parser.add_argument("--out", default=None, metavar="FILE", help="responses file (default: standard output)")
    args = parser.parse_args(argv)
    pack_dir = Path(args.pack)
    if not (pack_dir / REQUESTS_FILE).is_file():
        print(f"{PROG}: error: {pack_dir / REQUESTS_FILE}: missing", file=sys.stderr)
        return 2
    try:
        adapter = load_adapter(args.iut)
    except AdapterLoadError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    if args.out is None:
        replay_pack(pack_dir, adapter, sys.stdout.buffer)
    else:
        with Path(args.out).open("wb") as sink:
            replay_pack(pack_dir, adapter, sink)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
