"""Throughput of the conformance engine and time-to-detect per mutant (``python -m benchmarks.bench_conformance``).

Prints, never asserts (tests never assert on wall time):

1. judged frames per second with the ``reference`` IUT in this process, on one core: adapter + model + judge, per frame;
2. a bare encode + decode loop over the *same* frames (``encode_frame`` then ``decode_frame`` with the SA keys): the
   codec floor the engine is compared with, and the ratio of the two;
3. for every mutant, time-to-detect: scenarios from the trace generator (every family, a fixed seed each) are played
   one by one against the mutant until a finding names the clause the mutant breaks; the median over 5 seeds of the
   driving time, and how many scenarios and frames that took. The mutation score (caught / total) closes the table.

Scenario generation (Hypothesis) is done up front and reported separately: it is the cost of *finding* inputs, which
a long campaign pays once per example however many frames the example expands into.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence

from conformance.adapters.mutants import catalogue
from conformance.adapters.reference import ReferenceNic
from conformance.driver import ScenarioDriver
from conformance.steps import AddSaStep, ReceiveStep
from conformance.trace_scenarios import PackScenario, generate_scenarios
from reference_model.constants import Operation
from reference_model.ndis import AddSaEntry, Capabilities, SecAssoc
from reference_model.profile import default_profile
from reference_model.wire.frame import decode_frame


def _frames(scenarios: Sequence[PackScenario]) -> int:
    return sum(isinstance(s, ReceiveStep) for sc in scenarios for s in sc.steps)


def judged_frames_per_second(scenarios: Sequence[PackScenario], caps: Capabilities) -> tuple[float, int, float]:
    driver = ScenarioDriver(ReferenceNic(caps), caps, default_profile())
    start = time.perf_counter()
    judged = 0
    for scenario in scenarios:
        judged += driver.run(scenario.steps).frames_judged
    elapsed = time.perf_counter() - start
    return judged / elapsed, judged, elapsed


def decode_frames_per_second(scenarios: Sequence[PackScenario]) -> tuple[float, int]:
    """The bare codec on the same frames: decode (and the lookup of every SA) with no judging."""
    work: list[tuple[bytes, dict[tuple[int, Operation], SecAssoc]]] = []
    for scenario in scenarios:
        keys: dict[tuple[int, Operation], SecAssoc] = {}
        for step in scenario.steps:
            if isinstance(step, AddSaStep):
                keys.update(_keys(step.entries))
            elif isinstance(step, ReceiveStep):
                work.append((step.frame, dict(keys)))
    start = time.perf_counter()
    for data, keys in work:
        decode_frame(data, lookup=lambda spi, dst, op, k=keys: k.get((spi, op)))  # type: ignore[misc]
    return len(work) / (time.perf_counter() - start), len(work)


def _keys(entries: Sequence[AddSaEntry]) -> dict[tuple[int, Operation], SecAssoc]:
    return {(sa.spi, sa.operation): sa for e in entries if e.inbound for sa in e.sec_assoc}


def time_to_detect(name: str, clause: str, scenarios: Sequence[PackScenario]) -> tuple[float | None, int, int]:
    """Seconds of driving until ``clause`` is reported, scenarios and frames needed (None if never)."""
    factory = next(m.factory for m in catalogue() if m.name == name)
    nic = factory()
    driver = ScenarioDriver(nic, nic.hello().capabilities, default_profile())
    start = time.perf_counter()
    frames = 0
    for count, scenario in enumerate(scenarios, start=1):
        outcome = driver.run(scenario.steps)
        frames += outcome.frames_judged
        if any(f.clause == clause for f in outcome.findings):
            return time.perf_counter() - start, count, frames
    return None, len(scenarios), frames


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=120, help="scenarios per seed (default 120)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds for time-to-detect (default 5)")
    args = parser.parse_args(argv)
    caps = Capabilities()

    t0 = time.perf_counter()
    per_seed = {seed: generate_scenarios(caps, seed=seed, count=args.scenarios) for seed in range(args.seeds)}
    gen = time.perf_counter() - t0
    total = sum(len(s) for s in per_seed.values())
    frames = sum(_frames(s) for s in per_seed.values())
    print(f"generation: {total} scenarios, {frames} frames in {gen:.1f} s ({total / gen:.0f} scenarios/s, "
          f"{frames / gen:.0f} frames/s)")

    judged_rate, judged, elapsed = judged_frames_per_second(per_seed[0], caps)
    decode_rate, decoded = decode_frames_per_second(per_seed[0])
    print(f"judged (reference IUT, in process, one core): {judged} frames in {elapsed:.2f} s "
          f"= {judged_rate:,.0f} frames/s (SA operations of the scenarios included)")
    print(f"bare decode_frame of the same frames:         {decoded} frames = {decode_rate:,.0f} frames/s")
    print(f"ratio codec/judged: {decode_rate / judged_rate:.1f}x (a judged frame = the IUT's model + ours + the judge)")

    print()
    print(f"{'mutant':<55} {'clause':<38} {'median s':>9} {'scen.':>6} {'frames':>7} caught")
    caught = 0
    for m in catalogue():
        runs = [time_to_detect(m.name, m.breaks, per_seed[seed]) for seed in range(args.seeds)]
        found = [r for r in runs if r[0] is not None]
        if len(found) == len(runs):
            caught += 1
        if found:
            med = statistics.median(r[0] for r in found if r[0] is not None)
            scen = statistics.median(r[1] for r in found)
            frm = statistics.median(r[2] for r in found)
            print(f"{m.name:<55} {m.breaks:<38} {med:9.3f} {scen:6.0f} {frm:7.0f} {len(found)}/{len(runs)}")
        else:
            print(f"{m.name:<55} {m.breaks:<38} {'-':>9} {'-':>6} {'-':>7} 0/{len(runs)}")
    print(f"\nmutation score: {caught}/{len(catalogue())} mutants caught under their own clause on every seed "
          f"({args.scenarios} scenarios per seed)")


if __name__ == "__main__":
    main()
