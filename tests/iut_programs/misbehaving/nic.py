"""A reference NIC behind the wire protocol that misbehaves on purpose, for the hostile-IUT tests and the soak.

Usage: ``python nic.py MODE[,MODE...] [--at N] [--once] [--rate P] [--seed S] [--log FILE] [--delay S] [--ignore-bye]``

It answers like ``tests/iut_programs/reference_nic.py`` (the reference model through ``conformance.adapters.serve``)
and breaks the protocol in one way, MODE, on the Nth ``receive`` request this process serves (``--at``, default 1).
With ``--once`` only the first process of a run (sharing ``--log``) misbehaves; its restarted successors behave.
With several modes, the k-th process to reach its Nth receive does the k-th mode, and processes after the last behave:
one run of the suite then shows the suite surviving every fault in turn (each one kills the process; the next
scenario starts a new one). With ``--rate P`` it instead misbehaves on each receive with probability P, in a mode
drawn at random from ``RANDOM_MODES``; ``--seed`` makes that repeatable (each process adds its pid).
``--ignore-bye`` makes every process ignore ``bye`` and SIGTERM (the suite must kill it when it closes).

``--log FILE`` appends one line per event (``start PID``, ``misbehave PID MODE``, ``bye PID receives=K``), which the
tests use to count starts (restarts) and to find every process that ever ran, to check that none is left behind.

Modes (what a broken IUT does; the suite must answer each with one ERROR and go on):

  exit-at-start   exit(3) at once, before reading anything (on the Nth start of this log's run with --at N; 0 = always)
  exit            write to stderr, exit(4) instead of answering
  hang            never answer (sleep an hour)
  late            answer correctly, but only after --delay seconds (longer than the suite's timeout)
  non-json        a line that is not JSON
  missing-field   {"ok": true} without "indications"
  string-number   "info": "2" (a string where a number belongs)
  negative-int    "info": -1
  huge-int        "info": 2**70
  odd-hex         "frame": "abc" (odd number of hex digits)
  twice           the right answer, twice, in one write
  huge-line       one valid JSON line of 50 MB
  flood           16 MB on stderr, then the right answer (not a fault: the suite must not choke or deadlock)
  flood-exit      16 MB on stderr, then exit(5)
  behave          answer correctly (a placeholder, e.g. with --ignore-bye alone)
  huge-frame      a well-formed answer indicating a 1 MiB frame (not a protocol fault: a FAIL for the judge)

``--name TEXT`` / ``--version TEXT`` replace what ``hello`` says (hostile strings for the report tests).
  dead-after      like ``exit``, and every later start of this log's run exits at once (a broken restart)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent.parent))  # the project root, for conformance/ and reference_model/

from conformance.adapters import wire  # noqa: E402
from conformance.adapters.errors import AdapterError  # noqa: E402
from conformance.adapters.reference import create  # noqa: E402
from conformance.adapters.serve import answer  # noqa: E402
from reference_model.ndis import WireFormatError  # noqa: E402

RANDOM_MODES = (
    "exit",
    "hang",
    "late",
    "non-json",
    "missing-field",
    "string-number",
    "negative-int",
    "huge-int",
    "odd-hex",
    "twice",
    "huge-line",
    "flood-exit",
)
FLOOD = 16 * 1024 * 1024
HUGE_LINE = 50 * 1024 * 1024
HUGE_FRAME = 1024 * 1024


def log(path: str | None, text: str) -> None:
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{text}\n".encode())
        finally:
            os.close(fd)


def logged(path: str | None, word: str) -> int:
    if not path or not os.path.exists(path):
        return 0
    return sum(1 for line in Path(path).read_text().splitlines() if line.startswith(word + " "))


def out(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def flood() -> None:
    chunk = b"E" * 65535 + b"\n"
    for _ in range(FLOOD // len(chunk)):
        sys.stderr.buffer.write(chunk)
    sys.stderr.buffer.flush()


def misbehave(mode: str, reply: dict[str, object], delay: float) -> int | None:
    """Do MODE instead of the normal answer; an exit status to exit with, or None to keep serving."""
    line = json.dumps(reply).encode() + b"\n"
    if mode in ("exit", "dead-after"):
        sys.stderr.write(f"misbehaving-nic: dying on receive ({mode})\n")
        sys.stderr.flush()
        return 4
    if mode == "hang":
        time.sleep(3600)
    if mode == "late":
        time.sleep(delay)
        out(line)
    elif mode == "non-json":
        out(b"<html>this is not json</html>\n")
    elif mode == "missing-field":
        out(b'{"ok": true}\n')
    elif mode in ("string-number", "negative-int", "huge-int", "odd-hex"):
        wrong: dict[str, dict[str, object]] = {
            "string-number": {"info": "2"},
            "negative-int": {"info": -1},
            "huge-int": {"info": 2**70},
            "odd-hex": {"frame": "abc"},
        }
        bad: dict[str, object] = {"frame": "00", "info": 2, **wrong[mode]}
        out(json.dumps({"ok": True, "indications": [bad]}).encode() + b"\n")
    elif mode == "twice":
        out(line + line)
    elif mode == "huge-line":
        out(b'{"ok": true, "indications": [{"info": 0, "frame": "' + b"00" * (HUGE_LINE // 2) + b'"}]}\n')
    elif mode == "huge-frame":
        out(json.dumps({"ok": True, "indications": [{"frame": "ab" * HUGE_FRAME, "info": 0}]}).encode() + b"\n")
    elif mode == "flood":
        flood()
        out(line)
    elif mode == "flood-exit":
        flood()
        return 5
    return None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode")
    parser.add_argument("--at", type=int, default=1)
    parser.add_argument("--once", action="store_true")
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log", default=None)
    parser.add_argument("--delay", type=float, default=2.0)
    parser.add_argument("--ignore-bye", action="store_true")
    parser.add_argument("--name", default=None)
    parser.add_argument("--version", default=None)
    args = parser.parse_args()
    modes: list[str] = args.mode.split(",")
    mode = modes[0]
    starts = logged(args.log, "start") + 1
    log(args.log, f"start {os.getpid()}")
    if mode == "exit-at-start" and args.at in (0, starts):
        sys.stderr.write("misbehaving-nic: refusing to start\n")
        return 3
    if mode == "dead-after" and logged(args.log, "misbehave") > 0:
        sys.stderr.write("misbehaving-nic: cannot start again after dying\n")
        return 3
    if args.ignore_bye:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    rng = random.Random(args.seed * 1_000_003 + os.getpid())
    adapter = create(None)
    receives = 0
    for raw in sys.stdin.buffer:
        op = None
        try:
            request = wire.decode_request(raw)
            op = request["op"]
            reply = answer(adapter, request)
            if op == "hello":
                reply.update({k: v for k, v in (("name", args.name), ("version", args.version)) if v is not None})
        except WireFormatError as exc:
            reply = wire.error_response(str(exc))
        except AdapterError as exc:
            reply = wire.error_response(f"adapter error: {exc}")
        if op == "bye":
            log(args.log, f"bye {os.getpid()} receives={receives}")
            if args.ignore_bye:
                while True:
                    time.sleep(3600)
            out(wire.encode_line(reply))
            return 0
        if op == "receive":
            receives += 1
            chosen = None
            if args.rate > 0:
                if rng.random() < args.rate:
                    chosen = rng.choice(RANDOM_MODES)
            elif receives == args.at:
                done = logged(args.log, "misbehave")
                if len(modes) > 1:
                    chosen = modes[done] if done < len(modes) else None
                elif not (args.once and done):
                    chosen = mode
            if chosen is not None and chosen not in ("behave", "exit-at-start"):
                log(args.log, f"misbehave {os.getpid()} {chosen}")
                status = misbehave(chosen, reply, args.delay)
                if status is not None:
                    return status
                continue
        out(wire.encode_line(reply))
    log(args.log, f"eof {os.getpid()} receives={receives}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
