"""Generation speed of the strategies: values (and frames) per second each (``python -m benchmarks.bench_strategies``).

Each strategy runs inside a real ``@given`` test (generate phase only, no database, no shrinking), so the figure
includes Hypothesis' own per-example cost, which is what a suite run pays. ``bursts`` and ``scenarios`` also report
frames/s after expansion: the architecture's point that one example can feed many frames ("Where the time goes").
Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from strategies import (
    EVERYTHING,
    Burst,
    bursts,
    capabilities,
    corruptions,
    frames,
    frames_of,
    sa_tables,
    scenarios,
    security_associations,
)


def _run(strategy: st.SearchStrategy[Any], examples: int, count: Callable[[Any], int]) -> tuple[float, int, int]:
    """(seconds, examples run, frames produced)."""
    produced = [0, 0]

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def body(value: Any) -> None:
        produced[0] += 1
        produced[1] += count(value)

    start = time.perf_counter()
    body()
    return time.perf_counter() - start, produced[0], produced[1]


def _table_then(make: Callable[[Any, Any], st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    return sa_tables(caps=EVERYTHING, max_groups=3).flatmap(lambda table: make(table, EVERYTHING))


def _corrupted(table: Any, caps: Any) -> st.SearchStrategy[Any]:
    return frames(sa_table=table, caps=caps).flatmap(
        lambda frame: corruptions(frame=frame, sa_table=table, caps=caps)
    )


def _burst_frames(burst: Burst) -> int:
    return sum(1 for _ in burst.frames())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=300, help="examples per strategy (default 300)")
    args = parser.parse_args(argv)
    n = args.examples

    fixed = find(
        sa_tables(caps=EVERYTHING, min_groups=3, max_groups=3),
        lambda table: len(table.inbound) >= 4,
        settings=settings(database=None, derandomize=True, phases=[Phase.generate]),
    )
    cases: list[tuple[str, st.SearchStrategy[Any], Callable[[Any], int]]] = [
        ("frames(one fixed table of 3 groups)", frames(sa_table=fixed, caps=EVERYTHING), lambda _v: 1),
        ("capabilities()", capabilities(), lambda _v: 0),
        ("security_associations(caps=EVERYTHING)", security_associations(caps=EVERYTHING), lambda _v: 0),
        ("sa_tables(caps=EVERYTHING)", sa_tables(caps=EVERYTHING), lambda _v: 0),
        ("frames(table drawn per example)", _table_then(lambda t, c: frames(sa_table=t, caps=c)), lambda _v: 1),
        ("frames(unsupported=True, steer=True)",
         _table_then(lambda t, c: frames(sa_table=t, caps=c, unsupported=True, steer=True)), lambda _v: 1),
        ("corruptions(frame drawn per example)", _table_then(_corrupted), lambda _v: 1),
        ("bursts(max_size=64), expanded",
         _table_then(lambda t, c: bursts(sa_table=t, caps=c, min_size=32, max_size=64)), _burst_frames),
        ("scenarios(caps drawn), expanded",
         capabilities(max_capacity=8).flatmap(lambda c: scenarios(caps=c)), lambda s: len(frames_of(s))),
    ]
    print(f"{'strategy':48} {'examples/s':>11} {'frames/s':>10}   ({n} examples each, generate phase only)")
    for name, strategy, count in cases:
        seconds, examples, produced = _run(strategy, n, count)
        frames_rate = f"{produced / seconds:10.0f}" if produced else f"{'-':>10}"
        print(f"{name:48} {examples / seconds:11.0f} {frames_rate}")


if __name__ == "__main__":
    main()
