"""Property tests per clause family of the receive path (spec section 3.2), drawn by ``conformance.families``.

The judge checks every receive clause on every frame; the clause markers name the clauses a family is *about* (the
coverage report counts what was actually checked). A violation raises the per-clause exception, so Hypothesis shrinks
each violated clause to its own minimal counterexample.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import families
from conformance.session import IutSession
from conformance.suite._build import require_sa_support


@pytest.mark.clause("RX-SA-MATCH-SPI-DST")
@pytest.mark.clause("RX-NO-SA-NO-OOB")
@pytest.mark.clause("SA-AFTER-DELETE-NO-MATCH")
@given(data=st.data())
def test_sa_matching_spi_and_destination(iut_session: IutSession, test_id: str, data: st.DataObject) -> None:
    """Frames on offloaded SAs, on unknown SPIs, on known SPIs to other destinations, on outbound and deleted SAs."""
    caps = require_sa_support(iut_session, test_id, ["RX-SA-MATCH-SPI-DST", "RX-NO-SA-NO-OOB"])
    iut_session.check(families.matching(data, caps), test_id=test_id)


@pytest.mark.clause("RX-SA-INBOUND-ONLY")
@given(data=st.data())
def test_frames_matching_only_outbound_sas_are_not_processed(
    iut_session: IutSession, test_id: str, data: st.DataObject
) -> None:
    caps = require_sa_support(iut_session, test_id, ["RX-SA-INBOUND-ONLY"])
    iut_session.check(families.outbound_only(data, caps), test_id=test_id)


@pytest.mark.clause("RX-CAPS-CHECK")
@pytest.mark.clause("RX-FLAGS-CLEAR-NOT-DECRYPTED")
@pytest.mark.clause("RX-CRYPTOSTATUS-SUCCESS-NOT-DECRYPTED")
@given(data=st.data())
def test_capability_gating_leaves_unclaimed_shapes_alone(
    iut_session: IutSession, test_id: str, data: st.DataObject
) -> None:
    caps = require_sa_support(iut_session, test_id, ["RX-CAPS-CHECK"])
    iut_session.check(families.capability_gating(data, caps), test_id=test_id)


@pytest.mark.clause("RX-PROCESS-ALL-MATCHING")
@pytest.mark.clause("RX-CRYPTODONE-SET")
@pytest.mark.clause("RX-NEXTCRYPTODONE-BOTH-ONLY")
@pytest.mark.clause("AMB-09")
@given(data=st.data())
def test_valid_bursts_are_processed_and_decrypted_in_place(
    iut_session: IutSession, test_id: str, data: st.DataObject
) -> None:
    caps = require_sa_support(iut_session, test_id, ["RX-PROCESS-ALL-MATCHING", "RX-CRYPTODONE-SET"])
    iut_session.check(families.valid_bursts(data, caps), test_id=test_id)


@pytest.mark.clause("RX-TRANSPORT-DOES-REPLAY")
@pytest.mark.clause("RX-INDICATE-ALL")
@given(data=st.data())
def test_replayed_frames_are_indicated_and_processed(
    iut_session: IutSession, test_id: str, data: st.DataObject
) -> None:
    caps = require_sa_support(iut_session, test_id, ["RX-TRANSPORT-DOES-REPLAY"])
    iut_session.check(families.replays(data, caps), test_id=test_id)


@pytest.mark.clause("RX-CRYPTOSTATUS-RESULT")
@pytest.mark.clause("RX-FAIL-INDICATE-WITH-STATUS")
@pytest.mark.clause("RX-INDICATE-ALL")
@given(data=st.data())
def test_corrupted_frames_get_the_status_the_spec_predicts(
    iut_session: IutSession, test_id: str, data: st.DataObject
) -> None:
    """Labelled corruptions (strategies.corruptions); the model, which never reads the label, judges them."""
    caps = require_sa_support(iut_session, test_id, ["RX-CRYPTOSTATUS-RESULT", "RX-FAIL-INDICATE-WITH-STATUS"])
    iut_session.check(families.corrupted(data, caps), test_id=test_id)
