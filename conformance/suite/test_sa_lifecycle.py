"""SA lifecycle: capacity, delete, re-add, offload settings, ESN update and UDP-ESP (spec sections 3.2, 4.5, 5.6)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import families
from conformance.session import IutSession
from conformance.suite._build import require_sa_support


@pytest.mark.clause("SA-CAPACITY")
@pytest.mark.clause("SA-DELETE-FREES")
@pytest.mark.clause("SA-ADD-HANDLE")
@given(data=st.data())
def test_capacity_fill_delete_and_readd(iut_session: IutSession, test_id: str, data: st.DataObject) -> None:
    """Fill SaOffloadCapacity, delete everything, add again: handles unique, deleted SAs unused, capacity recovered."""
    caps = require_sa_support(iut_session, test_id, ["SA-CAPACITY", "SA-DELETE-FREES"])
    iut_session.check(families.sa_lifecycle(data, caps), test_id=test_id)


@pytest.mark.clause("RX-HW-CONFIGURED")
@pytest.mark.clause("CAP-KEYWORD-MAPPING")
@given(data=st.data())
def test_offload_settings_gate_processing(iut_session: IutSession, test_id: str, data: st.DataObject) -> None:
    """The same frames under every IPsecV2 setting: disabled, AH only, ESP only, AH and ESP (AMB-22)."""
    caps = require_sa_support(iut_session, test_id, ["RX-HW-CONFIGURED"])
    iut_session.check(families.offload_settings(data, caps), test_id=test_id)


@pytest.mark.clause("SA-UPDATE-ESN")
@pytest.mark.clause("SA-UPDATE-INVALID")
@given(data=st.data())
def test_esn_update_moves_the_high_bits(iut_session: IutSession, test_id: str, data: st.DataObject) -> None:
    """An ESN SA verified under its high bits; after UPDATE_SA under the new ones only; unknown updates refused."""
    caps = require_sa_support(iut_session, test_id, ["SA-UPDATE-ESN", "RX-CAPS-ESN"], family="esn-update")
    iut_session.check(families.esn_update(data, caps), test_id=test_id)


@pytest.mark.clause("RX-CAPS-UDPESP")
@pytest.mark.clause("RX-UDPESP-NON-ESP-UNTOUCHED")
@given(data=st.data())
def test_udp_encapsulated_esp(iut_session: IutSession, test_id: str, data: st.DataObject) -> None:
    """UDP-ESP transport SAs (RFC 3948) with NAT keepalives and IKE packets on port 4500 mixed in."""
    caps = require_sa_support(iut_session, test_id, ["RX-CAPS-UDPESP"], family="udp-esp")
    iut_session.check(families.udp_esp(data, caps), test_id=test_id)
