"""The transport model (reference_model.transport): anti-replay window with ESN inference, and SaDeleteReq handling.

The window is checked against a brute-force model that keeps every validated number in a set and infers the high
bits by trying the three candidate subspaces, picking the one inside [T - W + 1, T - W + 2^32] (RFC 4303 A2.2).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_model.ndis import ReceiveInfo
from reference_model.transport import (
    DeleteRequests,
    ReplayStatus,
    ReplayWindow,
    TransportModel,
)

SUB = 1 << 32


class BruteForce:
    """The slow obvious model: a set of validated numbers and the A2.2 cases written out literally."""

    def __init__(self, size: int, esn: bool, top: int = 0) -> None:
        self.size, self.esn, self.top = size, esn, top
        self.seen = {top}

    def infer(self, seql: int) -> int:
        if not self.esn:
            return seql
        w, th, tl = self.size, self.top >> 32, self.top & (SUB - 1)
        bl = (tl - w + 1) % SUB
        case_a = tl >= w - 1
        if case_a:
            seqh = th if seql >= bl else th + 1
        if not case_a:
            seqh = th - 1 if seql >= bl else th
        return seqh * SUB + seql

    def check(self, seql: int) -> ReplayStatus:
        s = self.infer(seql)
        if s > self.top:
            return ReplayStatus.NEW
        if s < 0 or s <= self.top - self.size:
            return ReplayStatus.TOO_OLD
        return ReplayStatus.DUPLICATE if s in self.seen else ReplayStatus.IN_WINDOW

    def advance(self, seql: int) -> None:
        s = self.infer(seql)
        self.seen.add(s)
        self.top = max(self.top, s)


@pytest.mark.clause("IETF-REPLAY")
def test_replay_first_packets_accepted_then_duplicate() -> None:
    w = ReplayWindow()
    v1 = w.check(1)
    assert v1.status is ReplayStatus.NEW
    w.advance(v1)
    assert w.check(1).status is ReplayStatus.DUPLICATE
    assert w.check(0).status is ReplayStatus.DUPLICATE  # 0 is never sent
    w.advance(w.check(100))
    assert w.check(1).status is ReplayStatus.TOO_OLD  # validated before, now left of the window [37, 100]
    assert w.check(38).status is ReplayStatus.IN_WINDOW


@pytest.mark.clause("IETF-REPLAY")
def test_replay_window_edges_exact() -> None:
    w = ReplayWindow(size=64)
    w.advance(w.check(100))
    # Window is [37, 100]: 37 inside, 36 left of it.
    assert w.check(37).status is ReplayStatus.IN_WINDOW
    assert w.check(36).status is ReplayStatus.TOO_OLD
    assert w.check(101).status is ReplayStatus.NEW


@pytest.mark.clause("IETF-REPLAY")
def test_replay_window_below_minimum_refused() -> None:
    with pytest.raises(ValueError, match="32"):
        ReplayWindow(size=31)


@pytest.mark.clause("IETF-REPLAY")
def test_replay_advance_on_replayed_number_refused() -> None:
    w = ReplayWindow()
    w.advance(w.check(5))
    with pytest.raises(ValueError, match="duplicate"):
        w.advance(w.check(5))


@pytest.mark.clause("IETF-ESN-SEQH")
def test_esn_case_a_next_subspace_inferred() -> None:
    # Th = 3, Tl = 0xFFFFFFF0 (case A); a small Seql is the next subspace.
    w = ReplayWindow(esn=True, top=3 * SUB + 0xFFFFFFF0)
    v = w.check(5)
    assert (v.seq_hi, v.status) == (4, ReplayStatus.NEW)
    assert w.check(0xFFFFFFF0 - 10).seq_hi == 3


@pytest.mark.clause("IETF-ESN-SEQH")
def test_esn_case_b_previous_subspace_inferred() -> None:
    # Th = 4, Tl = 10 < W - 1 (case B): a large Seql lies in subspace 3, inside the window.
    w = ReplayWindow(esn=True, top=4 * SUB + 10)
    v = w.check(0xFFFFFFF8)
    assert (v.seq_hi, v.status) == (3, ReplayStatus.IN_WINDOW)
    assert w.check(11).seq_hi == 4


@pytest.mark.clause("IETF-ESN-SEQH")
def test_esn_before_first_packet_is_too_old() -> None:
    w = ReplayWindow(esn=True)
    assert w.check(0xFFFFFFFF).status is ReplayStatus.TOO_OLD


@pytest.mark.clause("IETF-ESN-SEQH")
@settings(max_examples=60)
@given(
    size=st.sampled_from([32, 64, 128]),
    esn=st.booleans(),
    start_hi=st.integers(0, 3),
    start_lo=st.one_of(st.integers(0, 200), st.integers(SUB - 200, SUB - 1)),
    steps=st.lists(
        st.tuples(st.integers(-300, 300), st.booleans()),  # (distance from current low top, integrity ok?)
        max_size=40,
    ),
)
def test_window_matches_brute_force_across_wrap(
    size: int, esn: bool, start_hi: int, start_lo: int, steps: list[tuple[int, bool]]
) -> None:
    top = (start_hi * SUB + start_lo) if esn else start_lo
    fast = ReplayWindow(size=size, esn=esn, top=top)
    slow = BruteForce(size, esn, top)
    for delta, icv_ok in steps:
        seql = ((fast.top & (SUB - 1)) + delta) % SUB
        verdict = fast.check(seql)
        assert verdict.status is slow.check(seql), (seql, fast.top)
        if verdict.status.acceptable:
            assert verdict.seq == slow.infer(seql)
            if icv_ok:  # the window moves only after integrity success
                fast.advance(verdict)
                slow.advance(seql)
        assert fast.top == slow.top
        assert fast.seen() == {s for s in slow.seen if s > slow.top - size}


@pytest.mark.clause("IETF-REPLAY")
def test_window_does_not_move_without_advance() -> None:
    w = ReplayWindow()
    w.check(50)  # a forged packet: ICV failed, so the caller never advances
    assert w.top == 0
    assert w.check(50).status is ReplayStatus.NEW


REQ = ReceiveInfo(sa_delete_req=True, crypto_done=True)


@pytest.mark.clause("SA-DELETE-REQ-TWO-OIDS")
def test_sadeletereq_yields_inbound_then_outbound_once() -> None:
    d = DeleteRequests()
    d.register(7, 8)
    first = d.on_indication(7, REQ)
    assert [r.sa_id for r in first] == [7, 8]
    assert d.on_indication(7, REQ) == ()  # pending: no more requests
    assert d.on_indication(7, REQ.pack()) == ()
    d.on_deleted([7, 8])
    d.register(7, 8)  # re-added pair starts afresh
    assert [r.sa_id for r in d.on_indication(7, REQ)] == [7, 8]


@pytest.mark.clause("SA-DELETE-REQ-TWO-OIDS")
def test_no_sadeletereq_yields_nothing() -> None:
    d = DeleteRequests()
    d.register(1, 2)
    assert d.on_indication(1, ReceiveInfo(crypto_done=True)) == ()
    assert [r.sa_id for r in d.on_indication(1, REQ)] == [1, 2]


@pytest.mark.clause("SA-DELETE-REQ-TWO-OIDS")
def test_transport_model_ties_windows_and_deletes() -> None:
    t = TransportModel(window_size=32)
    t.register_inbound(3, esn=True, outbound_twin=4)
    v = t.check(3, 1)
    t.advance(3, v)
    assert t.check(3, 1).status is ReplayStatus.DUPLICATE
    assert [r.sa_id for r in t.on_indication(3, REQ)] == [3, 4]
    t.on_deleted(3)
    assert 3 not in t.windows
