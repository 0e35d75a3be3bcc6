"""Meta-properties of the strategies: what they build is what the reference model finds in the bytes.

The model never reads the generator's intent (architecture, step 4), so agreement here is two independent views of
one frame meeting. A disagreement names both sides: the strategy's shape/label and the model's trace.
"""

from __future__ import annotations

import pytest
from _strategy_helpers import loaded_model, lookup_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference_model.ndis import Capabilities
from reference_model.packets import Datagram, Frame
from reference_model.wire.frame import decode_frame
from strategies import (
    EVERYTHING,
    CorruptedFrame,
    GeneratedFrame,
    SaTable,
    bursts,
    capabilities,
    corruptions,
    frames,
    frames_of,
    sa_tables,
    scenarios,
)
from strategies.values import AddSa, DeleteSa, SetOffload, UpdateSaStep

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def tables_and_frames(draw: st.DrawFn) -> tuple[Capabilities, SaTable, GeneratedFrame]:
    caps = draw(capabilities())
    table = draw(sa_tables(caps=caps, with_deleted=True))
    frame = draw(frames(sa_table=table, caps=caps, unsupported=True))
    return caps, table, frame


@st.composite
def corrupted(draw: st.DrawFn) -> tuple[Capabilities, SaTable, CorruptedFrame]:
    caps, table, frame = draw(tables_and_frames())
    return caps, table, draw(corruptions(frame=frame, sa_table=table, caps=caps))


@FAST
@given(tables_and_frames())
def test_decode_of_generated_bytes_equals_built_frame(case: tuple[Capabilities, SaTable, GeneratedFrame]) -> None:
    """The model's decoder, given only the bytes and the keys, finds exactly the value the strategy built."""
    _caps, table, frame = case
    decoded = decode_frame(frame.data, lookup=lookup_for(table, frame))
    assert decoded.error is None, f"strategy built [{frame.describe()}]; decoder stopped: {decoded.error}"
    assert decoded.frame == frame.frame, f"strategy built {frame.frame!r}\nmodel decoded {decoded.frame!r}"
    # Equality covers the plaintext: the innermost upper-layer bytes the decoder found after decryption.
    assert _innermost(decoded.frame) == frame.plaintext


@FAST
@given(tables_and_frames())
@pytest.mark.clause("RX-PROCESS-ALL-MATCHING")
def test_model_processing_matches_generated_intent(case: tuple[Capabilities, SaTable, GeneratedFrame]) -> None:
    """Processed or not, and on which bundles, as the strategy intended (RX-SA-MATCH-SPI-DST, RX-CAPS-*,
    RX-NO-SA-NO-OOB, RX-FRAGMENT-NOT-PROCESSED, RX-UDPESP-NON-ESP-UNTOUCHED)."""
    caps, table, frame = case
    expectation = loaded_model(caps, table).receive(frame.data)
    trace = "\n  ".join(expectation.trace)
    assert expectation.processed == frame.processed, (
        f"strategy: processed={frame.processed} [{frame.describe()}]\n"
        f"model: processed={expectation.processed}\n  {trace}"
    )
    if frame.processed:
        assert tuple(expectation.matched_sa_ids) == frame.sa_ids, (
            f"strategy used sa_ids {frame.sa_ids}; model matched {expectation.matched_sa_ids}\n  {trace}"
        )


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted())
@pytest.mark.clause("RX-CRYPTOSTATUS-RESULT")
def test_corruption_label_predicts_model_outcome(case: tuple[Capabilities, SaTable, CorruptedFrame]) -> None:
    """For every corruption, the reference NIC's indication falls in the outcome class the label predicts."""
    caps, table, bad = case
    expectation = loaded_model(caps, table).receive(bad.data)
    assert expectation.reference is not None
    info = expectation.reference.receive_info
    trace = "\n  ".join(expectation.trace)
    assert bad.label.allows(crypto_done=info.crypto_done, crypto_status=info.crypto_status), (
        f"label: {bad.label}\non: {bad.original.describe()}\nmodel: {info.describe()}\n  {trace}"
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(capabilities(max_capacity=8).flatmap(lambda caps: scenarios(caps=caps)))
def test_scenario_frames_agree_with_stateful_model(scenario) -> None:  # type: ignore[no-untyped-def]
    """Played step by step through the model (reference answers), each plain frame is processed as generated and each
    corrupted one lands in its predicted class."""
    model = loaded_model(scenario.caps, SaTable(entries=()))
    frames_iter = iter(frames_of(scenario))
    for step in scenario.steps:
        if isinstance(step, AddSa):
            model.apply_add_sa(step.entries, model.reference_add_sa(step.entries))
        elif isinstance(step, DeleteSa):
            model.apply_delete_sa(step.sa_id, model.reference_delete_sa(step.sa_id))
        elif isinstance(step, UpdateSaStep):
            model.apply_update_sa(step.update, model.reference_update_sa(step.update))
        elif isinstance(step, SetOffload):
            model.apply_set_offload(step.setting, model.reference_set_offload(step.setting))
        else:
            count = 1 if not hasattr(step, "burst") else step.burst.count
            for _ in range(count):
                frame = next(frames_iter)
                expectation = model.receive(frame.data)
                assert expectation.reference is not None
                info = expectation.reference.receive_info
                context = f"{scenario.describe()}\nframe: {_describe(frame)}\nmodel: {info.describe()}"
                if isinstance(frame, CorruptedFrame):
                    ok = frame.label.allows(crypto_done=info.crypto_done, crypto_status=info.crypto_status)
                    assert ok, context
                else:
                    assert expectation.processed == frame.processed, context


def _innermost(frame: Frame | None) -> bytes | None:
    if frame is None:
        return None
    payload = frame.datagram.payload
    while isinstance(payload, Datagram):
        payload = payload.payload
    return payload.data


def _describe(frame: GeneratedFrame | CorruptedFrame) -> str:
    if isinstance(frame, CorruptedFrame):
        return f"{frame.label} of {frame.original.describe()}"
    return frame.describe()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    capabilities().flatmap(
        lambda caps: sa_tables(caps=caps).flatmap(
            lambda table: bursts(sa_table=table, caps=caps, min_size=2, max_size=12).map(
                lambda burst: (caps, table, burst)
            )
        )
    )
)
def test_burst_frames_are_consecutive_and_processed_like_template(case) -> None:  # type: ignore[no-untyped-def]
    """A burst's frames differ from the template only in sequence number (consecutive), IVs and payload bytes; the
    model processes each exactly as the template says, on the same bundles, and decodes the same shape."""
    caps, table, burst = case
    model = loaded_model(caps, table)
    expanded = list(burst.frames())
    assert len(expanded) == burst.count
    first_seq = _outer_seq(expanded[0])
    for index, frame in enumerate(expanded):
        assert len(frame.data) == len(burst.template.data)
        assert _outer_seq(frame) == (first_seq + index) & 0xFFFFFFFF
        expectation = model.receive(frame.data)
        assert expectation.processed == burst.template.processed, f"burst #{index}: {frame.describe()}"
        if frame.processed:
            assert tuple(expectation.matched_sa_ids) == frame.sa_ids
        decoded = decode_frame(frame.data, lookup=lookup_for(table, frame))
        assert decoded.frame == frame.frame, f"burst #{index}: {decoded.error}"
    assert len({f.data for f in expanded}) == len(expanded), "burst frames must differ (fresh IVs and payloads)"


@settings(max_examples=10, deadline=None)
@given(st.data())
def test_steered_frames_can_be_drawn_twice_in_one_example(data: st.DataObject) -> None:
    """``target()`` accepts a label once per example; ``frames(steer=True)`` drawn twice must not trip over it."""
    table = data.draw(sa_tables(caps=EVERYTHING))
    for _ in range(2):
        frame = data.draw(frames(sa_table=table, caps=EVERYTHING, steer=True))
        assert frame.data


def _outer_seq(frame: GeneratedFrame) -> int:
    d = frame.frame.datagram
    layer = d.ah if d.ah is not None else d.esp
    assert layer is not None
    return layer.seq & 0xFFFFFFFF
