"""Field-by-field dissection of a frame for the HTML report, by scapy when it is there and can parse the frame.

Guarded on purpose: a report must still be built when scapy is missing, too old, or raises on a hostile frame. The
result says which of these happened instead of raising.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Dissection:
    text: str | None
    """scapy's ``show()`` of ``Ether(frame)``, or ``None``."""
    problem: str | None = None
    """Why there is no dissection (scapy missing, parsing raised)."""


def dissect(frame: bytes) -> Dissection:
    if not frame:
        return Dissection(text=None, problem="empty frame")
    try:
        logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
        import scapy.layers.inet
        import scapy.layers.inet6
        import scapy.layers.ipsec  # noqa: F401  (binds ESP/AH to IP so they are dissected)
        from scapy.layers.l2 import Ether
    except Exception as exc:  # scapy absent or broken: the report goes on without a dissection
        return Dissection(text=None, problem=f"scapy unavailable: {type(exc).__name__}")
    try:
        text = Ether(frame).show(dump=True)
    except Exception as exc:  # a hostile frame may break a dissector; the hex dump is still there
        return Dissection(text=None, problem=f"scapy could not dissect this frame: {type(exc).__name__}: {exc}")
    if not isinstance(text, str):
        return Dissection(text=None, problem="scapy returned no text")
    return Dissection(text=text)
