"""Meta-properties of the strategies: what they build is what the reference model finds in the bytes.

The model never reads the generator's intent (architecture, step 4), so agreement here is two independent views of
one frame meeting. A disagreement names both sides: the strategy's shape/label and the model's trace.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference_model.ndis import Capabilities
from reference_model.packets import Datagram, Frame
from reference_model.wire.frame import decode_frame
from strategies import (
    CorruptedFrame,
    GeneratedFrame,
    SaTable,
    capabilities,
    corruptions,
    frames,
    frames_of,
    sa_tables,
    scenarios,
)
from strategies.values import AddSa, DeleteSa, SetOffload, UpdateSaStep
from tests._strategy_helpers import loaded_model, lookup_for

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
