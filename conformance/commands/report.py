"""``ipsecov2-conformance report RESULTS.jsonl --out DIR``: rebuild every report from a results file.

The exit status is the run's (0 conformant, 1 any FAIL, 2 any ERROR), recomputed from the records, so CI can gate on a
rebuilt report as it would on the run itself.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from conformance.commands import UserError
from reports.build import build_reports

NAME = "report"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME,
        help="rebuild report.json, junit.xml, index.html, summary.md, coverage.md and failures.pcapng",
        description="Rebuild every report from the results file (JSON lines) a run streamed.",
    )
    parser.add_argument("results", metavar="RESULTS.jsonl", help="results file written by run")
    parser.add_argument("--out", default="conformance-report", metavar="DIR", help="report directory")
    return parser


def run(args: argparse.Namespace) -> int:
    results = Path(args.results)
    if not results.is_file():
        raise UserError(f"results file not found: {results}")
    summary = build_reports(results, Path(args.out))
    print(summary.headline)
    for warning in summary.warnings:
        print(f"warning: {warning}")
    if summary.unexercised:
        print(f"NOT EXERCISED: {len(summary.unexercised)} clauses ({', '.join(summary.unexercised)})")
    print(f"{summary.counterexamples} counterexamples; reports in {summary.out_dir}/")
    return summary.exit_code
