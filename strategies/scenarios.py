"""``scenarios()``: whole runs, the input of the stateful test.

A scenario starts with one add-SA request (a drawn table), then interleaves offload settings, adds, deletes, ESN
updates (including the wrap: frames just below 2^32, UPDATE_SA to the next high half, frames just above), a fill of
``SaOffloadCapacity`` (plus one add beyond it, which the IUT may refuse: SA-CAPACITY), and received frames: plain,
corrupted, or bursts. Frames are always generated against the SAs the scenario has added so far and not deleted.

``GeneratedFrame.processed`` inside a scenario assumes every add succeeded and accounts for the offload setting in
force (RX-HW-CONFIGURED, CAP-KEYWORD-MAPPING); the stateful test asks the model anyway, which follows the IUT's
actual answers.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import event
from hypothesis import strategies as st

from reference_model.constants import IpsecV2Setting, Operation
from reference_model.ndis import AddSaEntry, Capabilities, UpdateSa
from reference_model.packets import Datagram
from strategies._check import check_caps, check_size
from strategies._draw import BOOLEANS, integers, pick
from strategies.corruptions import _corruptions
from strategies.frames import _frames, matched_frame, matched_routes
from strategies.security_associations import _SEQ_HI, SaTable, _group, mirror
from strategies.values import (
    AddSa,
    Burst,
    CorruptedFrame,
    DeleteSa,
    GeneratedFrame,
    Receive,
    ReceiveBurst,
    Scenario,
    SetOffload,
    Step,
    UpdateSaStep,
)

U32 = 0xFFFFFFFF

OPS = ("receive", "corrupt", "burst", "add", "delete", "update", "esn-wrap", "set-offload", "fill-capacity")
"""Step kinds, simplest first (shrinking goes toward a scenario of plain receives)."""


def _plain_frame(draw: st.DrawFn, table: SaTable, caps: Capabilities, max_payload: int) -> GeneratedFrame:
    """A frame on the live table, matched or matching nothing, within the capabilities."""
    return draw(_frames(table, caps, unmatched=True, unsupported=False, steer=False, max_payload=max_payload))


def _under_setting(gf: GeneratedFrame, setting: IpsecV2Setting) -> GeneratedFrame:
    """``gf`` with ``processed`` cleared when the setting disables a protocol of its outer portion (RX-HW-CONFIGURED,
    CAP-KEYWORD-MAPPING, AMB-22: the bundle is the unit)."""
    if not gf.processed:
        return gf
    outer = gf.frame.datagram
    if (outer.ah is not None and not setting.ah_enabled) or (outer.esp is not None and not setting.esp_enabled):
        return replace(gf, processed=False, note=f"RX-HW-CONFIGURED: offload setting {setting.wire_name}")
    return gf


def _with_seq_hi(entry: AddSaEntry, operation: Operation, seq_hi: int) -> AddSaEntry:
    sas = tuple(replace(sa, seq_hi=seq_hi) if sa.operation is operation else sa for sa in entry.sec_assoc)
    return replace(entry, sec_assoc=sas)


def _replace_entry(table: SaTable, entry: AddSaEntry) -> SaTable:
    return replace(table, entries=tuple(entry if e.sa_id == entry.sa_id else e for e in table.entries))


@st.composite
def _scenarios(draw: st.DrawFn, caps: Capabilities, max_steps: int, max_burst: int, max_payload: int) -> Scenario:
    used: set[int] = set()
    entries = _group(draw, caps, 1, used)[: caps.sa_offload_capacity]
    table = SaTable(entries=tuple(entries))
    next_id = len(entries) + 1
    setting = IpsecV2Setting.AH_AND_ESP
    steps: list[Step] = [AddSa(entries=tuple(entries))]
    n = draw(integers(1, max_steps))
    for _ in range(n):
        op = pick(draw, OPS)
        inbound_esn = [e for e in table.inbound if any(sa.esn for sa in e.sec_assoc)]
        wrap_routes = [r for r in matched_routes(table, caps) if r.inner is None and r.outer in inbound_esn]
        if op == "delete" and not table.entries:
            op = "add"
        if (op == "update" and not inbound_esn) or (op == "esn-wrap" and not wrap_routes):
            op = "receive"
        if op in ("add", "fill-capacity") and setting is not IpsecV2Setting.AH_AND_ESP:
            # An add for a protocol the setting disables may be refused (SA-ADD-REJECT-UNSUPPORTED); the scenario
            # only adds what must succeed, so that ``processed`` stays exact.
            op = "set-offload"
        event(f"scenario step: {op}")
        if op == "receive":
            gf = _plain_frame(draw, table, caps, max_payload)
            steps.append(Receive(frame=_under_setting(gf, setting)))
        elif op == "corrupt":
            gf = _under_setting(_plain_frame(draw, table, caps, max_payload), setting)
            cf: CorruptedFrame = draw(_corruptions(gf, table, caps))
            steps.append(Receive(frame=cf))
        elif op == "burst":
            routes = matched_routes(table, caps)
            if not routes:
                steps.append(Receive(frame=_plain_frame(draw, table, caps, max_payload)))
                continue
            template = _under_setting(matched_frame(draw, pick(draw, routes), caps, max_payload=max_payload), setting)
            steps.append(ReceiveBurst(burst=Burst(template=template, count=draw(integers(1, max_burst)),
                                                  seed=draw(integers(0, U32)))))
        elif op == "add":
            if len(table.entries) + 2 > caps.sa_offload_capacity:
                continue
            group = _group(draw, caps, next_id, used)
            next_id += len(group)
            table = replace(table, entries=(*table.entries, *group))
            steps.append(AddSa(entries=tuple(group)))
        elif op == "delete":
            victim = pick(draw, table.entries)
            table = table.delete(victim.sa_id)
            steps.append(DeleteSa(sa_id=victim.sa_id))
        elif op == "update":
            e = pick(draw, inbound_esn)
            sa = pick(draw, [sa for sa in e.sec_assoc if sa.esn])
            hi = draw(_SEQ_HI)
            table = _replace_entry(table, _with_seq_hi(e, sa.operation, hi))
            steps.append(UpdateSaStep(update=UpdateSa(sa_id=e.sa_id, operation=sa.operation, spi=sa.spi, seq_hi=hi)))
        elif op == "esn-wrap":
            route = pick(draw, wrap_routes)
            e = route.outer
            before = matched_frame(draw, route, caps, max_payload=max_payload, seq_low=U32, fragment=False)
            steps.append(Receive(frame=_under_setting(before, setting)))
            for sa in e.sec_assoc:
                if sa.esn:
                    hi = (sa.seq_hi + 1) & U32
                    e = _with_seq_hi(e, sa.operation, hi)
                    steps.append(UpdateSaStep(update=UpdateSa(sa_id=e.sa_id, operation=sa.operation, spi=sa.spi,
                                                              seq_hi=hi)))
            table = _replace_entry(table, e)
            after = matched_frame(draw, replace(route, outer=e), caps, max_payload=max_payload, seq_low=0,
                                  fragment=False)
            steps.append(Receive(frame=_under_setting(after, setting)))
        elif op == "set-offload":
            setting = pick(draw, (IpsecV2Setting.AH_AND_ESP, IpsecV2Setting.DISABLED, IpsecV2Setting.ESP,
                                  IpsecV2Setting.AH))
            steps.append(SetOffload(setting=setting))
        else:  # fill-capacity (CAP-SACAPACITY, SA-CAPACITY, AMB-17: one handle per entry)
            room = caps.sa_offload_capacity - len(table.entries)
            if room <= 0 or not table.entries:
                continue
            model = table.entries[0]
            fillers = []
            for i in range(room):
                m = mirror(model, sa_id=next_id, spi_offset=0x10000 * (i + 1) + next_id)
                m = _fresh_spis(m, used)
                fillers.append(m)
                next_id += 1
            table = replace(table, entries=(*table.entries, *fillers))
            steps.append(AddSa(entries=tuple(fillers), fills_capacity=True))
            if draw(BOOLEANS):
                extra = _fresh_spis(mirror(model, sa_id=next_id, spi_offset=0x7000 + next_id), used)
                next_id += 1
                # One beyond the capacity: the IUT may refuse it (SA-ADD-FAIL-ALLOWED); no frames use it.
                steps.append(AddSa(entries=(extra,), fills_capacity=True))
    return Scenario(caps=caps, steps=tuple(steps))


def _fresh_spis(entry: AddSaEntry, used: set[int]) -> AddSaEntry:
    sas = []
    for sa in entry.sec_assoc:
        spi = sa.spi
        while spi in used:
            spi = spi + 1 if spi < U32 else 256
        used.add(spi)
        sas.append(replace(sa, spi=spi))
    return replace(entry, sec_assoc=tuple(sas))


def scenarios(
    *, caps: Capabilities, max_steps: int = 12, max_burst: int = 16, max_payload: int = 600
) -> st.SearchStrategy[Scenario]:
    """Whole runs for ``caps``: one initial add, then up to ``max_steps`` drawn operations (see the module docstring).

    ``max_burst`` bounds the frames of one burst; ``max_payload`` the upper-layer payload of each frame.
    """
    caps = check_caps(caps)
    check_size("max_steps", max_steps, lo=1, hi=1000)
    check_size("max_burst", max_burst, lo=1, hi=1_000_000)
    check_size("max_payload", max_payload, lo=0, hi=8900)
    return _scenarios(caps, max_steps, max_burst, max_payload)


def frames_of(scenario: Scenario) -> list[GeneratedFrame | CorruptedFrame]:
    """Every frame the scenario receives, bursts expanded, in order."""
    out: list[GeneratedFrame | CorruptedFrame] = []
    for step in scenario.steps:
        if isinstance(step, Receive):
            out.append(step.frame)
        elif isinstance(step, ReceiveBurst):
            out.extend(step.burst.frames())
    return out


_ = Datagram
