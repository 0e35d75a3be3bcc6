"""The scenario families of the suite, each drawn once and used twice: by the live suite and by offline packs.

A family is a function ``(data, caps) -> steps``: it draws, through ``strategies``, one scenario aimed at a group of
clauses, within the capabilities the IUT reported. ``conformance/suite`` runs each family as a property test against a
live IUT; ``conformance.trace_scenarios`` draws the same families with fixed seeds into a pack a lab replays without
Python. One definition means a pack exercises exactly what a live run does.

Each family assumes ``feasible(caps)``; families that need a capability more (ESN, UDP-ESP) say so in ``needs``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from hypothesis import assume
from hypothesis import strategies as st

from conformance.steps import AddSaStep, DeleteSaStep, ReceiveStep, SetOffloadStep, Step, UpdateSaStep
from reference_model.constants import IpsecV2Setting, Operation, UdpEspEncapsulation
from reference_model.ndis import AddSaEntry, Capabilities, UpdateSa
from strategies import values
from strategies._check import ah_feasible, esp_feasible
from strategies.corruptions import corruptions
from strategies.frames import bursts, frames, matched_routes
from strategies.scenarios import scenarios
from strategies.security_associations import SaTable, mirror, sa_tables, security_associations
from strategies.values import CorruptedFrame, GeneratedFrame

MAX_FILL = 64
"""Capacity scenarios fill at most this many bundles (a NIC claiming thousands is filled to this many)."""


# --------------------------------------------------------------------------------------------------------------------
# From strategies' values to driver steps


def setup_steps(table: SaTable) -> list[Step]:
    """Add every bundle of the table (one ADD_SA list), then add-and-delete the ones marked deleted."""
    steps: list[Step] = []
    if table.entries:
        steps.append(AddSaStep(entries=tuple(table.entries)))
    for entry in table.deleted:
        steps.append(AddSaStep(entries=(entry,)))
        steps.append(DeleteSaStep(sa_id=entry.sa_id))
    return steps


def receive(frame: GeneratedFrame | CorruptedFrame) -> ReceiveStep:
    note = f"{frame.label} of {frame.original.describe()}" if isinstance(frame, CorruptedFrame) else frame.describe()
    return ReceiveStep(frame=frame.data, note=note)


def receive_all(frames_: Iterable[GeneratedFrame | CorruptedFrame]) -> list[Step]:
    return [receive(f) for f in frames_]


def scenario_steps(scenario: values.Scenario) -> list[Step]:
    """A strategies ``Scenario`` as driver steps (bursts expanded)."""
    steps: list[Step] = []
    for s in scenario.steps:
        if isinstance(s, values.SetOffload):
            steps.append(SetOffloadStep(setting=s.setting))
        elif isinstance(s, values.AddSa):
            steps.append(AddSaStep(entries=s.entries))
        elif isinstance(s, values.DeleteSa):
            steps.append(DeleteSaStep(sa_id=s.sa_id))
        elif isinstance(s, values.UpdateSaStep):
            steps.append(UpdateSaStep(update=s.update))
        elif isinstance(s, values.Receive):
            steps.append(receive(s.frame))
        else:
            steps.extend(receive(f) for f in s.burst.frames())
    return steps


def feasible(caps: Capabilities) -> bool:
    """Whether the strategies can build any SA within ``caps`` (else every family's clauses are UNSUPPORTED)."""
    return (ah_feasible(caps) or esp_feasible(caps)) and caps.sa_offload_capacity >= 1


# --------------------------------------------------------------------------------------------------------------------
# The families


Family = Callable[[st.DataObject, Capabilities], list[Step]]


def matching(data: st.DataObject, caps: Capabilities) -> list[Step]:
    """RX-SA-MATCH-SPI-DST, RX-NO-SA-NO-OOB, SA-AFTER-DELETE-NO-MATCH: offloaded, unknown, other-destination,
    outbound-only and deleted SAs, NAT keepalives and IKE packets."""
    table = data.draw(sa_tables(caps=caps, max_groups=3, with_deleted=True), label="sa_table")
    sent = data.draw(st.lists(frames(sa_table=table, caps=caps, unmatched=True), min_size=1, max_size=8))
    return setup_steps(table) + receive_all(sent)


def capability_gating(data: st.DataObject, caps: Capabilities) -> list[Step]:
    """RX-CAPS-*: frames outside the reported capabilities mixed with frames inside them."""
    table = data.draw(sa_tables(caps=caps, max_groups=2), label="sa_table")
    strategy = frames(sa_table=table, caps=caps, unmatched=False, unsupported=True)
    return setup_steps(table) + receive_all(data.draw(st.lists(strategy, min_size=1, max_size=8), label="frames"))


def valid_bursts(data: st.DataObject, caps: Capabilities) -> list[Step]:
    """RX-PROCESS-ALL-MATCHING, RX-CRYPTODONE-SET, AMB-09: bursts of valid frames on one SA, decrypted in place."""
    table = data.draw(sa_tables(caps=caps, max_groups=2), label="sa_table")
    burst = data.draw(bursts(sa_table=table, caps=caps, max_size=32), label="burst")
    return setup_steps(table) + receive_all(burst.frames())


def replays(data: st.DataObject, caps: Capabilities) -> list[Step]:
    """RX-TRANSPORT-DOES-REPLAY: every frame twice; anti-replay is the transport's job."""
    table = data.draw(sa_tables(caps=caps, max_groups=1), label="sa_table")
    burst = data.draw(bursts(sa_table=table, caps=caps, max_size=8), label="burst")
    steps = setup_steps(table)
    for frame in burst.frames():
        steps += [receive(frame), receive(frame)]
    return steps


def corrupted(data: st.DataObject, caps: Capabilities) -> list[Step]:
    """RX-CRYPTOSTATUS-RESULT, RX-FAIL-INDICATE-WITH-STATUS: labelled corruptions, each followed by a valid frame so a
    NIC that stalls or keeps state after a bad frame shows it too."""
    table = data.draw(sa_tables(caps=caps, max_groups=2), label="sa_table")
    steps = setup_steps(table)
    for _ in range(data.draw(st.integers(1, 4), label="corrupted frames")):
        valid = data.draw(frames(sa_table=table, caps=caps, unmatched=False), label="frame")
        bad = data.draw(corruptions(frame=valid, sa_table=table, caps=caps), label="corruption")
        steps += [receive(bad), receive(valid)]
    return steps


def outbound_only(data: st.DataObject, caps: Capabilities) -> list[Step]:
    """RX-SA-INBOUND-ONLY: the same bundles offloaded as outbound, then as inbound; frames for them are processed only
    the second time (valid by construction: no rare draw needed)."""
    table = data.draw(sa_tables(caps=caps, max_groups=2), label="sa_table")
    sent = data.draw(st.lists(frames(sa_table=table, caps=caps, unmatched=False), min_size=1, max_size=4))
    outbound = tuple(replace(e, inbound=False) for e in table.entries)
    inbound_again = tuple(replace(e, sa_id=e.sa_id + 100) for e in table.entries)
    steps: list[Step] = [AddSaStep(entries=outbound), *receive_all(sent)]
    steps += [DeleteSaStep(sa_id=e.sa_id) for e in outbound]
    return [*steps, AddSaStep(entries=inbound_again), *receive_all(sent)]


def offload_settings(data: st.DataObject, caps: Capabilities) -> list[Step]:
    """RX-HW-CONFIGURED, CAP-KEYWORD-MAPPING, AMB-22: the same frames under every IPsecV2 setting."""
    table = data.draw(sa_tables(caps=caps, max_groups=2), label="sa_table")
    sent = data.draw(st.lists(frames(sa_table=table, caps=caps, unmatched=False), min_size=1, max_size=4))
    steps = setup_steps(table)
    for setting in data.draw(st.permutations(list(IpsecV2Setting)), label="settings"):
        steps.append(SetOffloadStep(setting=setting))
        steps += receive_all(sent)
    return steps


def _with_seq_hi(entry: AddSaEntry, seq_hi: int) -> AddSaEntry:
    return replace(entry, sec_assoc=tuple(replace(sa, esn=True, seq_hi=seq_hi) for sa in entry.sec_assoc))


def esn_update(data: st.DataObject, caps: Capabilities) -> list[Step]:
    """SA-UPDATE-ESN, SA-UPDATE-INVALID: frames under the old high bits, UPDATE_SA, frames under the new ones, an old
    frame again (must now fail), and an update of an unknown bundle. Needs ``caps.extended_sequence_numbers``."""
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
    steps.append(receive(old_burst.template))
    unknown = UpdateSa(sa_id=inbound.sa_id + 100, operation=Operation.ESP, spi=1, seq_hi=new_hi)
    return [*steps, UpdateSaStep(update=unknown)]


def sa_lifecycle(data: st.DataObject, caps: Capabilities) -> list[Step]:
    """SA-CAPACITY, SA-DELETE-FREES, SA-ADD-HANDLE, SA-AFTER-DELETE-NO-MATCH: fill, delete all, add again."""
    table = data.draw(sa_tables(caps=caps, max_groups=1), label="sa_table")
    fill = min(caps.sa_offload_capacity, MAX_FILL) - len(table.entries)
    first = table.entries[0]
    fillers = tuple(mirror(first, sa_id=1000 + k, spi_offset=0x01000000 * (k + 1)) for k in range(max(fill, 0)))
    frame = data.draw(frames(sa_table=table, caps=caps, unmatched=False), label="frame")
    steps: list[Step] = [*setup_steps(table)]
    if fillers:
        steps.append(AddSaStep(entries=fillers))
    steps.append(receive(frame))
    steps += [DeleteSaStep(sa_id=entry.sa_id) for entry in (*table.entries, *fillers)]
    steps.append(receive(frame))  # SA-AFTER-DELETE-NO-MATCH
    again = tuple(replace(e, sa_id=e.sa_id + 5000) for e in table.entries)
    return [*steps, AddSaStep(entries=again), receive(frame)]  # SA-DELETE-FREES: the room came back


def udp_esp(data: st.DataObject, caps: Capabilities) -> list[Step]:
    """RX-CAPS-UDPESP, RX-UDPESP-NON-ESP-UNTOUCHED: a UDP-ESP transport SA (RFC 3948) with keepalives and IKE mixed in.
    Needs ESP, transport and the UDP-ESP transport subtype."""
    entry = data.draw(
        security_associations(caps=caps, protection="esp", udp_esp=UdpEspEncapsulation.TRANSPORT), label="sa"
    )
    table = SaTable(entries=(entry,))
    sent = data.draw(st.lists(frames(sa_table=table, caps=caps, unmatched=True), min_size=2, max_size=8))
    return setup_steps(table) + receive_all(sent)


def whole_scenarios(data: st.DataObject, caps: Capabilities) -> list[Step]:
    """Operations and bursts interleaved, as a transport would issue them (``strategies.scenarios``)."""
    return scenario_steps(data.draw(scenarios(caps=caps, max_steps=10, max_burst=8), label="scenario"))


@dataclass(frozen=True, slots=True)
class FamilyInfo:
    draw: Family
    needs: Callable[[Capabilities], bool] = lambda caps: True


FAMILIES: dict[str, FamilyInfo] = {
    "matching": FamilyInfo(matching),
    "capability-gating": FamilyInfo(capability_gating),
    "bursts": FamilyInfo(valid_bursts),
    "replays": FamilyInfo(replays),
    "corruptions": FamilyInfo(corrupted),
    "outbound-only": FamilyInfo(outbound_only),
    "offload-settings": FamilyInfo(offload_settings),
    "esn-update": FamilyInfo(esn_update, lambda caps: caps.extended_sequence_numbers),
    "sa-lifecycle": FamilyInfo(sa_lifecycle),
    "udp-esp": FamilyInfo(
        udp_esp, lambda caps: caps.esp and caps.transport and bool(caps.udp_esp & UdpEspEncapsulation.TRANSPORT)
    ),
    "scenarios": FamilyInfo(whole_scenarios),
}
"""Every family by name, in the order packs take them in turn."""
