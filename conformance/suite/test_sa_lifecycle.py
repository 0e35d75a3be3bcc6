"""SA lifecycle: capacity, delete, re-add, offload toggles, ESN update and UDP-ESP (spec sections 4.5, 5.6, 3.2)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from conformance.session import IutSession
from conformance.steps import AddSaStep, DeleteSaStep, SetOffloadStep, Step, UpdateSaStep
from conformance.suite._build import receive, receive_all, require_sa_support, setup_steps
from reference_model.constants import IpsecV2Setting, Operation, UdpEspEncapsulation
from reference_model.ndis import AddSaEntry, UpdateSa
from strategies.frames import bursts, frames, matched_routes
from strategies.security_associations import SaTable, mirror, sa_tables, security_associations

MAX_FILL = 64
"""Capacity tests fill at most this many bundles (a NIC claiming thousands is filled to this many)."""


@pytest.mark.clause("SA-CAPACITY")
@pytest.mark.clause("SA-DELETE-FREES")
@pytest.mark.clause("SA-ADD-HANDLE")
@pytest.mark.clause("SA-AFTER-DELETE-NO-MATCH")
@given(data=st.data())
def test_capacity_fill_delete_and_readd(iut_session: IutSession, test_id: str, data: st.DataObject) -> None:
    """Fill SaOffloadCapacity, delete everything, add again: handles unique, deleted SAs unused, capacity recovered."""
    caps = require_sa_support(iut_session, test_id, ["SA-CAPACITY", "SA-DELETE-FREES"])
    table = data.draw(sa_tables(caps=caps, max_groups=1), label="sa_table")
    fill = min(caps.sa_offload_capacity, MAX_FILL) - len(table.entries)
    first = table.entries[0]
    fillers = tuple(mirror(first, sa_id=1000 + k, spi_offset=0x01000000 * (k + 1)) for k in range(max(fill, 0)))
    frame = data.draw(frames(sa_table=table, caps=caps, unmatched=False), label="frame")
    steps: list[Step] = [*setup_steps(table)]
    if fillers:
        steps.append(AddSaStep(entries=fillers))
    steps.append(receive(frame))
    for entry in (*table.entries, *fillers):
        steps.append(DeleteSaStep(sa_id=entry.sa_id))
    steps.append(receive(frame))  # SA-AFTER-DELETE-NO-MATCH
    again = tuple(replace(e, sa_id=e.sa_id + 5000) for e in table.entries)
    steps += [AddSaStep(entries=again), receive(frame)]  # SA-DELETE-FREES: the room came back
    iut_session.check(steps, test_id=test_id)


@pytest.mark.clause("RX-HW-CONFIGURED")
@pytest.mark.clause("CAP-KEYWORD-MAPPING")
@given(data=st.data())
def test_offload_settings_gate_processing(iut_session: IutSession, test_id: str, data: st.DataObject) -> None:
    """The same frames under every IPsecV2 setting: disabled, AH only, ESP only, AH and ESP (AMB-22)."""
    caps = require_sa_support(iut_session, test_id, ["RX-HW-CONFIGURED"])
    table = data.draw(sa_tables(caps=caps, max_groups=2), label="sa_table")
    sent = data.draw(st.lists(frames(sa_table=table, caps=caps, unmatched=False), min_size=1, max_size=4))
    order = data.draw(st.permutations(list(IpsecV2Setting)), label="settings")
    steps = setup_steps(table)
    for setting in order:
        steps.append(SetOffloadStep(setting=setting))
        steps += receive_all(sent)
    iut_session.check(steps, test_id=test_id)


def _with_seq_hi(entry: AddSaEntry, seq_hi: int) -> AddSaEntry:
    return replace(entry, sec_assoc=tuple(replace(sa, esn=True, seq_hi=seq_hi) for sa in entry.sec_assoc))


@pytest.mark.clause("SA-UPDATE-ESN")
@pytest.mark.clause("SA-UPDATE-INVALID")
@pytest.mark.clause("RX-CAPS-ESN")
@given(data=st.data())
def test_esn_update_moves_the_high_bits(iut_session: IutSession, test_id: str, data: st.DataObject) -> None:
    """An ESN SA verified under its high bits; after UPDATE_SA under the new ones only; unknown updates refused."""
    caps = require_sa_support(iut_session, test_id, ["SA-UPDATE-ESN", "SA-UPDATE-INVALID"])
    if not caps.extended_sequence_numbers:
        iut_session.unsupported(["SA-UPDATE-ESN", "RX-CAPS-ESN"], test_id, "no ESN")
        pytest.skip("the IUT does not claim ESN: SA-UPDATE-ESN UNSUPPORTED")
    inbound = data.draw(security_associations(caps=caps), label="sa")
    old_hi, new_hi = data.draw(
        st.lists(st.integers(0, 2**32 - 1), min_size=2, max_size=2, unique=True), label="seq_hi old/new"
    )
    before = SaTable(entries=(_with_seq_hi(inbound, old_hi),))
    after = SaTable(entries=(_with_seq_hi(inbound, new_hi),))
    assume(matched_routes(before, caps))  # an SA the strategies can build frames for on its own
    old_burst = data.draw(bursts(sa_table=before, caps=caps, max_size=4), label="frames before")
    new_burst = data.draw(bursts(sa_table=after, caps=caps, max_size=4), label="frames after")
    steps: list[Step] = [AddSaStep(entries=before.entries), *receive_all(old_burst.frames())]
    for sa in inbound.sec_assoc:
        update = UpdateSa(sa_id=inbound.sa_id, operation=sa.operation, spi=sa.spi, seq_hi=new_hi)
        steps.append(UpdateSaStep(update=update))
    steps += receive_all(new_burst.frames())
    steps.append(receive(old_burst.template))  # verified under the old high bits: must now fail
    unknown = UpdateSa(sa_id=inbound.sa_id + 100, operation=Operation.ESP, spi=1, seq_hi=new_hi)
    steps.append(UpdateSaStep(update=unknown))  # SA-UPDATE-INVALID
    iut_session.check(steps, test_id=test_id)


@pytest.mark.clause("RX-CAPS-UDPESP")
@pytest.mark.clause("RX-UDPESP-NON-ESP-UNTOUCHED")
@given(data=st.data())
def test_udp_encapsulated_esp(iut_session: IutSession, test_id: str, data: st.DataObject) -> None:
    """UDP-ESP transport SAs (RFC 3948) with NAT keepalives and IKE packets on port 4500 mixed in."""
    caps = require_sa_support(iut_session, test_id, ["RX-CAPS-UDPESP"])
    if not caps.esp or not caps.udp_esp & UdpEspEncapsulation.TRANSPORT or not caps.transport:
        iut_session.unsupported(["RX-CAPS-UDPESP"], test_id, "no UDP-ESP transport")
        pytest.skip("the IUT does not claim UDP-ESP transport encapsulation: UNSUPPORTED")
    entry = data.draw(
        security_associations(caps=caps, protection="esp", udp_esp=UdpEspEncapsulation.TRANSPORT), label="sa"
    )
    table = SaTable(entries=(entry,))
    sent = data.draw(st.lists(frames(sa_table=table, caps=caps, unmatched=True), min_size=2, max_size=8))
    iut_session.check(setup_steps(table) + receive_all(sent), test_id=test_id)
