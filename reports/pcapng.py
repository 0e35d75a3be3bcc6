"""``failures.pcapng``: every counterexample frame, with a packet comment naming the clause and the flags.

Written with ``struct`` (pcapng: Section Header, Interface Description, Enhanced Packet blocks with ``opt_comment``)
rather than through scapy, so the file is the same bytes on every rebuild (timestamps are the counterexample number in
microseconds, not the wall clock) and report building does not depend on a dissector. Wireshark and tshark show the
comments (``frame.comment``/``pkt_comment``).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

from reports.model import Counterexample

LINKTYPE_ETHERNET = 1
_BYTE_ORDER_MAGIC = 0x1A2B3C4D
_OPT_ENDOFOPT = 0
_OPT_COMMENT = 1
_SHB_USERAPPL = 4
_IF_NAME = 2


def _option(code: int, value: bytes) -> bytes:
    pad = (-len(value)) % 4
    return struct.pack("<HH", code, len(value)) + value + b"\x00" * pad


def _options(*items: tuple[int, bytes]) -> bytes:
    if not items:
        return b""
    return b"".join(_option(code, value) for code, value in items) + struct.pack("<HH", _OPT_ENDOFOPT, 0)


def _block(block_type: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


def comment_for(cx: Counterexample) -> str:
    """``CX-1 RX-CRYPTOSTATUS-RESULT FAIL (MUST) | expected ... | observed ... | message``."""
    f = cx.finding
    return (
        f"{cx.id} {f.clause} {f.verdict.value} ({f.level})\n"
        f"expected: {cx.flags_line('expected')}\n"
        f"observed: {cx.flags_line('observed')}\n"
        f"{f.message}"
    )


def pcapng_bytes(counterexamples: Sequence[Counterexample], *, application: str = "ipsecov2-conformance") -> bytes:
    """One pcapng section with one Ethernet interface and one packet per counterexample that has a frame."""
    shb_body = struct.pack("<IHHq", _BYTE_ORDER_MAGIC, 1, 0, -1) + _options((_SHB_USERAPPL, application.encode()))
    out = [_block(0x0A0D0D0A, shb_body)]
    idb_body = struct.pack("<HHI", LINKTYPE_ETHERNET, 0, 0) + _options((_IF_NAME, b"iut-rx"))
    out.append(_block(0x00000001, idb_body))
    for number, cx in enumerate(counterexamples, start=1):
        if cx.finding.frame_hex is None:
            continue
        frame = cx.frame
        ts = number  # microseconds since the epoch: stable order, no wall clock
        body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(frame), len(frame))
        body += frame + b"\x00" * ((-len(frame)) % 4)
        body += _options((_OPT_COMMENT, comment_for(cx).encode("utf-8", errors="replace")))
        out.append(_block(0x00000006, body))
    return b"".join(out)


def write_pcapng(counterexamples: Sequence[Counterexample], path: Path) -> int:
    """Write ``failures.pcapng``; returns the number of packets written."""
    path.write_bytes(pcapng_bytes(counterexamples))
    return sum(1 for cx in counterexamples if cx.finding.frame_hex is not None)
