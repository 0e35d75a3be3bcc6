"""``ipsecov2-conformance export``: write a vector pack for offline replay on a hardware rig.

``export --iut-caps CAPS.json --out PACK/ [--seed N] [--scenarios N]`` draws N scenarios for the capabilities in
CAPS.json (deterministically from the seed: ``conformance.trace_scenarios``), plays them against the reference NIC
with those capabilities through a ``RecordingAdapter``, and writes what was asked as a pack
(``conformance.adapters.trace.export_pack``): ``requests.jsonl`` (``hello``, then each scenario from its ``reset``,
then ``bye``), ``frames.pcapng``, ``sas.json``, ``README.txt``. The reference NIC's answers steer the scenarios (an SA
the model refuses is not used later), but none of them is in the pack: the rig's answers are what ``judge`` checks.

The pack also holds ``scenarios.json``: the seed, the capabilities, the Hypothesis version, which request line starts
which scenario and of what family, and a description of every frame. A rig ignores it; ``judge`` uses it only to
label results (it rebuilds the scenarios from ``requests.jsonl`` alone).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Final

from conformance.commands import UserError
from reference_model.ndis import Capabilities

NAME = "export"
SCENARIOS_FILE: Final = "scenarios.json"
SCENARIOS_FORMAT: Final = 1
DEFAULT_SCENARIOS: Final = 200


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(NAME, help="write a vector pack for offline replay on a hardware rig")
    parser.add_argument(
        "--iut-caps",
        required=True,
        metavar="CAPS.json",
        help="the IUT's capabilities (the 'capabilities' object of the adapter protocol's hello, or a whole hello)",
    )
    parser.add_argument("--out", required=True, metavar="PACK", help="pack directory to write")
    parser.add_argument("--seed", type=int, default=0, help="generation seed (the same seed writes the same pack)")
    parser.add_argument(
        "--scenarios", type=int, default=DEFAULT_SCENARIOS, metavar="N", help="number of scenarios (default 200)"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    from conformance.adapters.errors import AdapterLoadError
    from conformance.adapters.reference import load_capabilities

    if args.scenarios < 1:
        raise UserError("--scenarios must be at least 1")
    if args.seed < 0:
        raise UserError("--seed must be a non-negative integer")
    try:
        caps = load_capabilities(args.iut_caps)
    except AdapterLoadError as exc:
        raise UserError(str(exc)) from None
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a directory")
    summary = write_pack(caps, out, seed=args.seed, count=args.scenarios, caps_source=args.iut_caps)
    print(
        f"ipsecov2-conformance: wrote {out}/ ({summary['scenarios']} scenarios, {summary['requests']} requests, "
        f"{summary['frames']} frames, seed {args.seed})"
    )
    if summary["disagreements"]:
        print(
            f"ipsecov2-conformance: warning: the reference NIC disagreed with the model in "
            f"{summary['disagreements']} scenarios (a bug in the suite; the pack is still valid)",
            file=sys.stderr,
        )
    return 0


def write_pack(caps: Capabilities, out: Path, *, seed: int, count: int, caps_source: str = "") -> dict[str, int]:
    """Generate, record and write the pack; returns counts (scenarios, requests, frames, disagreements)."""
    import hypothesis

    from conformance.adapters.reference import ReferenceNic
    from conformance.adapters.trace import RecordingAdapter, export_pack
    from conformance.driver import ScenarioDriver
    from conformance.steps import ReceiveStep
    from conformance.trace_scenarios import NoUsableSa, generate_scenarios
    from reference_model.profile import default_profile

    try:
        scenarios = generate_scenarios(caps, seed=seed, count=count)
    except NoUsableSa as exc:
        raise UserError(f"capabilities file {caps_source}: {exc}") from None
    recorder = RecordingAdapter(ReferenceNic(caps))
    recorder.hello()
    driver = ScenarioDriver(recorder, caps, default_profile())
    index: list[dict[str, Any]] = []
    notes: dict[str, str] = {}
    disagreements = 0
    for number, scenario in enumerate(scenarios):
        first = len(recorder.requests)  # 0-based index of the reset the driver sends first
        outcome = driver.run(scenario.steps)
        disagreements += bool(outcome.findings or outcome.error)
        stop = len(recorder.requests)
        index.append(
            {"scenario": number, "family": scenario.family, "test_id": scenario.test_id, "first_line": first + 1,
             "lines": stop - first}
        )
        receive_lines = [i + 1 for i in range(first, stop) if recorder.requests[i]["op"] == "receive"]
        receive_steps = [s for s in scenario.steps if isinstance(s, ReceiveStep)]
        for line, step in zip(receive_lines, receive_steps, strict=False):
            if step.note:
                notes[str(line)] = step.note
    recorder.close()
    note = (
        f"Generated by ipsecov2-conformance export --seed {seed} --scenarios {count} for the capabilities in "
        f"{caps_source or 'the file given'} (Hypothesis {hypothesis.__version__}).\n"
        f"{SCENARIOS_FILE} says which request line starts which scenario and describes every frame "
        "(a rig may ignore it)."
    )
    pack = export_pack(recorder.requests, out, note=note)
    meta = {
        "format": SCENARIOS_FORMAT,
        "seed": seed,
        "scenario_count": len(scenarios),
        "hypothesis_version": hypothesis.__version__,
        "suite_version": _suite_version(),
        "capabilities": caps.to_json(),
        "scenarios": index,
        "notes": notes,
    }
    (out / SCENARIOS_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return {
        "scenarios": len(scenarios),
        "requests": len(pack.requests),
        "frames": len(pack.frames),
        "disagreements": disagreements,
    }


def _suite_version() -> str:
    try:
        from importlib.metadata import version

        return version("ipsecov2-conformance")
    except Exception:
        return "0+unknown"
