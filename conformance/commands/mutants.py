"""``ipsecov2-conformance mutants --out DIR``: run the suite against every catalogued mutant, one report folder each.

The mutation score of the suite: a mutant is *caught* when the clause it was built to break (``MutantInfo.breaks``)
is among the clauses its run reports as FAIL, NON-STRICT or ERROR. Each mutant runs in its own process (a conformance
run is a pytest run; nesting them would share Hypothesis and plugin state), by default in the ``detect`` profile
(no shrinking: the question is whether a fault is found, not its minimal example). The reports of all mutants are
joined into ``DIR/matrix`` (the clause-by-mutant table). Exit status 0 when every mutant was caught, else 1.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from conformance.adapters.mutants import catalogue
from conformance.commands import UserError
from conformance.commands.run import clause_table
from conformance.pytest_plugin import PROFILES

NAME = "mutants"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(NAME, help="run the suite against every mutant; print the mutation score")
    parser.add_argument("--out", default="mutants-report", metavar="DIR", help="one report folder per mutant in DIR")
    parser.add_argument("--profile", default="detect", choices=sorted(PROFILES), help="Hypothesis profile")
    parser.add_argument("--seed", type=int, default=0, help="Hypothesis seed of every run")
    parser.add_argument("--only", default=None, metavar="NAME[,NAME]", help="only these mutants")
    return parser


def run(args: argparse.Namespace) -> int:
    mutants = catalogue()
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {m.name for m in mutants}
        if unknown:
            raise UserError(f"--only: unknown mutant(s) {', '.join(sorted(unknown))}")
        mutants = [m for m in mutants if m.name in wanted]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    caught = 0
    print(f"{'mutant':<55} {'breaks':<38} {'caught':<7} {'seconds':>7}  failing clauses")
    for m in mutants:
        folder = out / m.name
        started = time.monotonic()
        command = [sys.executable, "-m", "conformance.cli", "run", "--iut", f"mutant:{m.name}", "--out", str(folder)]
        command += ["--profile", args.profile, "--seed", str(args.seed), "--no-progress"]
        subprocess.run(command, capture_output=True, text=True, check=False)
        results = folder / "results.jsonl"
        rows, _ = clause_table(results) if results.exists() else ([], 2)
        failing = sorted(c for c, v, _ in rows if v in ("FAIL", "NON-STRICT", "ERROR"))
        ok = m.breaks in failing
        caught += ok
        seconds = time.monotonic() - started
        verdict = "yes" if ok else "NO"
        print(f"{m.name:<55} {m.breaks:<38} {verdict:<7} {seconds:7.1f}  {', '.join(failing)}", flush=True)
    print(f"\nmutation score: {caught}/{len(mutants)} caught under the clause each breaks")
    from conformance.commands.matrix import expand_reports
    from reports.matrix import MatrixInputError, build_matrix

    try:
        build_matrix(expand_reports([out]), out / "matrix")
        print(f"clause-by-mutant matrix in {out / 'matrix'}/")
    except MatrixInputError as exc:
        print(f"ipsecov2-conformance: no matrix: {exc}", file=sys.stderr)
    return 0 if caught == len(mutants) else 1
