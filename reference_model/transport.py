"""The TCP/IP transport's side of the receive path: anti-replay with ESN inference, and SaDeleteReq handling.

Why it is here: the NIC does not check sequence numbers (RX-TRANSPORT-DOES-REPLAY) — the transport does, after the
indication. The suite acts as the transport, so it needs the transport's rules as code:

- ``ReplayWindow``: RFC 4303 section 3.4.3 (IETF-REPLAY) with the high-order-bit inference of Appendix A2.2
  (IETF-ESN-SEQH). ``check`` classifies a received low sequence number without changing anything; ``advance`` moves the
  window, and only after the ICV verified under the full number ``check`` inferred (the window's right edge is the
  highest *validated* number).
- ``DeleteRequests``: SA-DELETE-REQ-TWO-OIDS. An indication with SaDeleteReq = 1 on inbound bundle X whose outbound twin
  is Y yields exactly two DELETE_SA requests, X then Y, once; further SaDeleteReq on the same pair yield nothing while
  those deletes are pending.

Sans-IO like the NIC model: values in, verdicts out.

ESN inference, as one sentence (equivalent to cases A and B of A2.2): with window top T = Th:Tl and size W, the
inferred full number is the unique S with S mod 2^32 = Seql in the 2^32-wide range that starts at the window's bottom
B = T - W + 1. Before any packet (T = 0) that range starts below 0; an S below 0 is "before the first packet" and is
classed ``TOO_OLD``. Sequence number 0 is never sent (IETF-ESP-FORMAT: the first packet carries 1), so the initial
state counts 0 as already seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from reference_model.ndis import ReceiveInfo

_SUBSPACE = 1 << 32
_LOW_MASK = _SUBSPACE - 1
MIN_WINDOW = 32
"""IETF-REPLAY: at least 32 packets must be supported."""
DEFAULT_WINDOW = 64
"""IETF-REPLAY: 64 is preferred and should be the default."""


class ReplayStatus(Enum):
    """Where a received sequence number falls relative to the window (RFC 4303 section 3.4.3)."""

    NEW = "new"
    """Right of the window: never seen, the window moves if the ICV verifies."""
    IN_WINDOW = "in-window"
    """Inside the window and not yet seen."""
    DUPLICATE = "duplicate"
    """Inside the window and already validated: a replay."""
    TOO_OLD = "too-old"
    """Left of the window (or before the first packet)."""

    @property
    def acceptable(self) -> bool:
        return self in (ReplayStatus.NEW, ReplayStatus.IN_WINDOW)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayVerdict:
    """The classification of one received low sequence number.

    ``seq`` is the inferred full number (``seq_hi`` its high half; both 0-based and meaningful only when ``status``
    is not TOO_OLD from before the first packet, where ``seq`` is negative).
    """

    seq_low: int
    seq: int
    status: ReplayStatus

    @property
    def seq_hi(self) -> int:
        return (self.seq >> 32) & _LOW_MASK if self.seq >= 0 else -1


class ReplayWindow:
    """One inbound SA's anti-replay window (IETF-REPLAY, IETF-ESN-SEQH).

    ``esn`` selects 64-bit extended sequence numbers (high bits inferred); without it the number is the 32-bit
    value on the wire. ``top`` starts at 0 with bit 0 set (sequence number 0 is never valid).
    """

    __slots__ = ("_bitmap", "esn", "size", "top")

    def __init__(self, *, size: int = DEFAULT_WINDOW, esn: bool = False, top: int = 0) -> None:
        if size < MIN_WINDOW:
            raise ValueError(f"replay window size {size} is below the minimum {MIN_WINDOW} (IETF-REPLAY)")
        if top < 0 or (not esn and top > _LOW_MASK):
            raise ValueError(f"window top {top} is outside the sequence number space")
        self.size = size
        self.esn = esn
        self.top = top
        self._bitmap = 1  # bit i set: sequence number top - i has been validated

    def infer(self, seq_low: int) -> int:
        """IETF-ESN-SEQH: the full sequence number for ``seq_low`` (may be negative before the first packet)."""
        seq_low &= _LOW_MASK
        if not self.esn:
            return seq_low
        bottom = self.top - self.size + 1
        return bottom + ((seq_low - bottom) & _LOW_MASK)

    def check(self, seq_low: int) -> ReplayVerdict:
        """Classify ``seq_low`` without changing the window."""
        seq = self.infer(seq_low)
        if seq > self.top:
            status = ReplayStatus.NEW
        elif seq < 0 or seq <= self.top - self.size:
            status = ReplayStatus.TOO_OLD
        elif self._bitmap >> (self.top - seq) & 1:
            status = ReplayStatus.DUPLICATE
        else:
            status = ReplayStatus.IN_WINDOW
        return ReplayVerdict(seq_low=seq_low & _LOW_MASK, seq=seq, status=status)

    def advance(self, verdict: ReplayVerdict) -> None:
        """Record ``verdict.seq`` as validated. Call only after its ICV verified under that full number."""
        if not verdict.status.acceptable:
            raise ValueError(f"cannot advance the window over a {verdict.status.value} sequence number")
        seq = verdict.seq
        if seq > self.top:
            shift = seq - self.top
            self._bitmap = (self._bitmap << shift | 1) & ((1 << self.size) - 1) if shift < self.size else 1
            self.top = seq
        else:
            self._bitmap |= 1 << (self.top - seq)

    def seen(self) -> frozenset[int]:
        """The validated numbers still inside the window (for reports and tests)."""
        return frozenset(self.top - i for i in range(self.size) if self._bitmap >> i & 1 and self.top - i >= 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteRequest:
    """One DELETE_SA the transport issues because of SaDeleteReq (SA-DELETE-REQ-TWO-OIDS)."""

    sa_id: int
    reason: str


class DeleteRequests:
    """SA-DELETE-REQ-TWO-OIDS: turn SaDeleteReq indications into DELETE_SA requests, two per pair, once."""

    __slots__ = ("_pending", "_twin")

    def __init__(self) -> None:
        self._twin: dict[int, int | None] = {}
        self._pending: set[int] = set()

    def register(self, inbound_sa_id: int, outbound_sa_id: int | None) -> None:
        """Pair an inbound bundle with its outbound twin (None when the suite offloaded no outbound twin)."""
        self._twin[inbound_sa_id] = outbound_sa_id

    def on_indication(self, inbound_sa_id: int, info: ReceiveInfo | int) -> tuple[DeleteRequest, ...]:
        """The DELETE_SA requests an indication on ``inbound_sa_id`` calls for: (X, Y) the first time, else ()."""
        if isinstance(info, int):
            info = ReceiveInfo.unpack(info)
        if not info.sa_delete_req or inbound_sa_id in self._pending:
            return ()
        twin = self._twin.get(inbound_sa_id)
        requests = [DeleteRequest(sa_id=inbound_sa_id, reason="SaDeleteReq: the inbound SA the packet arrived on")]
        if twin is not None:
            requests.append(DeleteRequest(sa_id=twin, reason=f"SaDeleteReq: the outbound twin of {inbound_sa_id}"))
        self._pending.update(r.sa_id for r in requests)
        return tuple(requests)

    def on_deleted(self, sa_ids: Iterable[int]) -> None:
        """The deletes completed: forget the pairs, so a re-added bundle with the same id starts afresh."""
        for sa_id in sa_ids:
            self._pending.discard(sa_id)
            self._twin.pop(sa_id, None)

    @property
    def pending(self) -> frozenset[int]:
        return frozenset(self._pending)


class TransportModel:
    """The transport's per-SA state: a replay window per inbound bundle and the SaDeleteReq pairing."""

    __slots__ = ("delete_requests", "window_size", "windows")

    def __init__(self, *, window_size: int = DEFAULT_WINDOW) -> None:
        if window_size < MIN_WINDOW:
            raise ValueError(f"replay window size {window_size} is below the minimum {MIN_WINDOW} (IETF-REPLAY)")
        self.window_size = window_size
        self.windows: dict[int, ReplayWindow] = {}
        self.delete_requests = DeleteRequests()

    def register_inbound(self, sa_id: int, *, esn: bool, outbound_twin: int | None = None) -> None:
        self.windows[sa_id] = ReplayWindow(size=self.window_size, esn=esn)
        self.delete_requests.register(sa_id, outbound_twin)

    def check(self, sa_id: int, seq_low: int) -> ReplayVerdict:
        return self.windows[sa_id].check(seq_low)

    def advance(self, sa_id: int, verdict: ReplayVerdict) -> None:
        self.windows[sa_id].advance(verdict)

    def on_indication(self, sa_id: int, info: ReceiveInfo | int) -> tuple[DeleteRequest, ...]:
        return self.delete_requests.on_indication(sa_id, info)

    def on_deleted(self, sa_id: int) -> None:
        self.windows.pop(sa_id, None)
        self.delete_requests.on_deleted((sa_id,))
