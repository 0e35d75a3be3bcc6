"""Coverage of the strategies: over a fixed, derandomized run every shape tag and every corruption kind occurs.

The assertion is on what was collected (the same tags ``hypothesis.event()`` reports), never on timing. The run is
derandomized, so a tag that disappears is a change in the strategies, not bad luck.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference_model.ndis import Capabilities
from strategies import (
    EVERYTHING,
    CorruptedFrame,
    CorruptionKind,
    OutcomeClass,
    SaTable,
    Shape,
    capabilities,
    corruptions,
    frames,
    sa_tables,
)
from strategies.reproducible import reproducible

COVERAGE = settings(
    max_examples=1500,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@st.composite
def corrupted_any(draw: st.DrawFn) -> tuple[Capabilities, SaTable, CorruptedFrame]:
    # Half the runs on the NIC that claims everything, so that rare combinations (nested AH+ESP over IPv6 with
    # extension headers, CBC for block-length corruptions) are reachable often enough.
    caps = draw(st.one_of(st.just(EVERYTHING), capabilities()))
    table = draw(sa_tables(caps=caps, max_groups=4, with_deleted=True))
    frame = draw(frames(sa_table=table, caps=caps, unsupported=True))
    return caps, table, draw(corruptions(frame=frame, sa_table=table, caps=caps))


def collect_counts() -> dict[str, dict[str, int]]:
    """Run the derandomized collection and return the counts as plain JSON (shape, kind and prediction values)."""
    shapes: Counter[Shape] = Counter()
    kinds: Counter[CorruptionKind] = Counter()
    predictions: Counter[OutcomeClass] = Counter()

    @COVERAGE
    @given(corrupted_any())
    def collect(case: tuple[Capabilities, SaTable, CorruptedFrame]) -> None:
        bad = case[2]
        shapes.update(bad.original.shape)
        kinds[bad.label.kind] += 1
        predictions[bad.label.predicts] += 1

    with reproducible():  # counts depend on the strategies, not on which modules are loaded
        collect()
    return {
        "shapes": {s.value: n for s, n in shapes.items()},
        "kinds": {k.value: n for k, n in kinds.items()},
        "predictions": {p.value: n for p, n in predictions.items()},
    }


def test_every_shape_and_corruption_kind_is_generated() -> None:
    """Collected in a fresh interpreter: Hypothesis biases its draws with constants found in the local modules loaded
    so far (``sys.modules``), so a derandomized run inside this test session would depend on which tests ran before
    it in the same worker. A fresh process imports the same modules every time, so the counts are reproducible."""
    script = "import json, test_strategies_coverage as t; print(json.dumps(t.collect_counts()))"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=Path(__file__).parent, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    shapes = Counter({Shape(k): n for k, n in counts["shapes"].items()})
    kinds = Counter({CorruptionKind(k): n for k, n in counts["kinds"].items()})
    predictions = Counter({OutcomeClass(k): n for k, n in counts["predictions"].items()})
    missing_shapes = [s.value for s in Shape if shapes[s] == 0]
    missing_kinds = [k.value for k in CorruptionKind if kinds[k] == 0]
    assert not missing_shapes, f"shapes never generated: {missing_shapes}; counts: {dict(shapes)}"
    assert not missing_kinds, f"corruption kinds never generated: {missing_kinds}; counts: {dict(kinds)}"
    # The headline classes of RX-CRYPTOSTATUS-RESULT must all be predicted somewhere.
    for needed in (
        OutcomeClass.NOT_PROCESSED,
        OutcomeClass.SUCCESS,
        OutcomeClass.TRANSPORT_ESP_AUTH_FAILED,
        OutcomeClass.TUNNEL_ESP_AUTH_FAILED,
        OutcomeClass.TRANSPORT_AH_AUTH_FAILED,
        OutcomeClass.TUNNEL_AH_AUTH_FAILED,
        OutcomeClass.INVALID_PACKET_SYNTAX,
        OutcomeClass.INVALID_PROTOCOL,
        OutcomeClass.BAD_PADDING,
    ):
        assert predictions[needed] > 0, f"no corruption predicted {needed.value}; counts: {dict(predictions)}"
