"""Property tests per clause family of the receive path (spec section 3.2).

Each test draws an SA table within the IUT's reported capabilities and frames on it, plays them, and the judge checks
every receive clause on every frame; the clause markers name the clauses a family is *about* (the coverage report
counts what was actually checked). A violation raises the per-clause exception, so Hypothesis shrinks each violated
clause to its own minimal counterexample.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.session import IutSession
from conformance.steps import AddSaStep, DeleteSaStep, Step
from conformance.suite._build import receive, receive_all, require_sa_support, setup_steps
from strategies.frames import bursts, frames
from strategies.security_associations import sa_tables

MATCHING = ["RX-SA-MATCH-SPI-DST", "RX-NO-SA-NO-OOB", "RX-SA-INBOUND-ONLY", "SA-AFTER-DELETE-NO-MATCH"]


@pytest.mark.clause("RX-SA-MATCH-SPI-DST")
@pytest.mark.clause("RX-NO-SA-NO-OOB")
@pytest.mark.clause("RX-SA-INBOUND-ONLY")
@given(data=st.data())
def test_sa_matching_spi_and_destination(iut_session: IutSession, test_id: str, data: st.DataObject) -> None:
    """Frames on offloaded SAs, on unknown SPIs, on known SPIs to other destinations, on outbound and deleted SAs."""
    caps = require_sa_support(iut_session, test_id, MATCHING)
    table = data.draw(sa_tables(caps=caps, max_groups=3, with_deleted=True), label="sa_table")
    strategy = frames(sa_table=table, caps=caps, unmatched=True)
    sent = data.draw(st.lists(strategy, min_size=1, max_size=8), label="frames")
    iut_session.check(setup_steps(table) + receive_all(sent), test_id=test_id)


@pytest.mark.clause("RX-CAPS-CHECK")
@pytest.mark.clause("RX-FLAGS-CLEAR-NOT-DECRYPTED")
@pytest.mark.clause("RX-CRYPTOSTATUS-SUCCESS-NOT-DECRYPTED")
@given(data=st.data())
def test_capability_gating_leaves_unclaimed_shapes_alone(
    iut_session: IutSession, test_id: str, data: st.DataObject
) -> None:
    """Frames outside the reported capabilities (RX-CAPS-*) mixed with frames inside them."""
    caps = require_sa_support(iut_session, test_id, ["RX-CAPS-CHECK"])
    table = data.draw(sa_tables(caps=caps, max_groups=2), label="sa_table")
    strategy = frames(sa_table=table, caps=caps, unmatched=False, unsupported=True)
    sent = data.draw(st.lists(strategy, min_size=1, max_size=8), label="frames")
    iut_session.check(setup_steps(table) + receive_all(sent), test_id=test_id)


@pytest.mark.clause("RX-PROCESS-ALL-MATCHING")
@pytest.mark.clause("RX-CRYPTODONE-SET")
@pytest.mark.clause("RX-NEXTCRYPTODONE-BOTH-ONLY")
@pytest.mark.clause("AMB-09")
@given(data=st.data())
def test_valid_bursts_are_processed_and_decrypted_in_place(
    iut_session: IutSession, test_id: str, data: st.DataObject
) -> None:
    """Bursts of valid frames on one SA: every one processed, flags right, decrypted region as the model's."""
    caps = require_sa_support(iut_session, test_id, ["RX-PROCESS-ALL-MATCHING", "RX-CRYPTODONE-SET"])
    table = data.draw(sa_tables(caps=caps, max_groups=2), label="sa_table")
    burst = data.draw(bursts(sa_table=table, caps=caps, max_size=32), label="burst")
    iut_session.check(setup_steps(table) + receive_all(burst.frames()), test_id=test_id)


@pytest.mark.clause("RX-TRANSPORT-DOES-REPLAY")
@pytest.mark.clause("RX-INDICATE-ALL")
@given(data=st.data())
def test_replayed_frames_are_indicated_and_processed(
    iut_session: IutSession, test_id: str, data: st.DataObject
) -> None:
    """Every frame sent twice: anti-replay is the transport's job, the NIC must process the replay as the original."""
    caps = require_sa_support(iut_session, test_id, ["RX-TRANSPORT-DOES-REPLAY"])
    table = data.draw(sa_tables(caps=caps, max_groups=1), label="sa_table")
    burst = data.draw(bursts(sa_table=table, caps=caps, max_size=8), label="burst")
    steps = setup_steps(table)
    for frame in burst.frames():
        steps += [receive(frame), receive(frame)]
    iut_session.check(steps, test_id=test_id)


@pytest.mark.clause("RX-SA-INBOUND-ONLY")
@given(data=st.data())
def test_frames_matching_only_outbound_sas_are_not_processed(
    iut_session: IutSession, test_id: str, data: st.DataObject
) -> None:
    """The same bundles offloaded as outbound, then as inbound: their frames are processed only the second time."""
    caps = require_sa_support(iut_session, test_id, ["RX-SA-INBOUND-ONLY"])
    table = data.draw(sa_tables(caps=caps, max_groups=2), label="sa_table")
    sent = data.draw(st.lists(frames(sa_table=table, caps=caps, unmatched=False), min_size=1, max_size=4))
    outbound = tuple(replace(e, inbound=False) for e in table.entries)
    inbound_again = tuple(replace(e, sa_id=e.sa_id + 100) for e in table.entries)
    steps: list[Step] = [AddSaStep(entries=outbound), *receive_all(sent)]
    steps += [DeleteSaStep(sa_id=e.sa_id) for e in outbound]
    steps += [AddSaStep(entries=inbound_again), *receive_all(sent)]
    iut_session.check(steps, test_id=test_id)
