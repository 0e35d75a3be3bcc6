"""CryptoStatus per corruption (RX-CRYPTOSTATUS-RESULT, RX-FAIL-INDICATE-WITH-STATUS, RX-INDICATE-ALL, AMB-06/07/08).

Every corruption of ``strategies.corruptions`` carries a label saying what was changed and the outcome class the spec
predicts; the IUT is judged by the model (which never reads the label), with a valid frame on either side so that a NIC
that stalls or keeps state after a bad frame shows it too.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.session import IutSession
from conformance.suite._build import receive, require_sa_support, setup_steps
from strategies.corruptions import corruptions
from strategies.frames import frames
from strategies.security_associations import sa_tables


@pytest.mark.clause("RX-CRYPTOSTATUS-RESULT")
@pytest.mark.clause("RX-FAIL-INDICATE-WITH-STATUS")
@pytest.mark.clause("RX-INDICATE-ALL")
@given(data=st.data())
def test_corrupted_frames_get_the_status_the_spec_predicts(
    iut_session: IutSession, test_id: str, data: st.DataObject
) -> None:
    caps = require_sa_support(iut_session, test_id, ["RX-CRYPTOSTATUS-RESULT", "RX-FAIL-INDICATE-WITH-STATUS"])
    table = data.draw(sa_tables(caps=caps, max_groups=2), label="sa_table")
    steps = setup_steps(table)
    for _ in range(data.draw(st.integers(1, 4), label="corrupted frames")):
        valid = data.draw(frames(sa_table=table, caps=caps, unmatched=False), label="frame")
        bad = data.draw(corruptions(frame=valid, sa_table=table, caps=caps), label="corruption")
        steps += [receive(bad), receive(valid)]
    iut_session.check(steps, test_id=test_id)
