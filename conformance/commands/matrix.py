"""``ipsecov2-conformance matrix REPORT… --out DIR``: join several reports into one clause-by-IUT table.

Each REPORT is a ``report.json``, a report directory holding one (what ``run --out`` and ``report --out`` write), or a
directory of such directories (what ``mutants --out`` writes: one report folder per mutant).
Exit status: the worst among the reports (0 conformant, 1 any FAIL, 2 any ERROR).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from conformance.commands import UserError
from reports.matrix import MatrixInputError, build_matrix

NAME = "matrix"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(NAME, help="join reports into a clause-by-IUT matrix (HTML, Markdown, JSON)")
    parser.add_argument("reports", nargs="+", metavar="REPORT", help="report.json files or report directories")
    parser.add_argument("--out", default="matrix", metavar="DIR", help="output directory")
    return parser


def expand_reports(paths: list[Path]) -> list[Path]:
    """A directory without report.json but with report folders inside stands for those folders, in name order."""
    out: list[Path] = []
    for path in paths:
        nested = sorted(p for p in path.iterdir() if (p / "report.json").is_file()) if path.is_dir() else []
        out.extend(nested if nested and not (path / "report.json").exists() else [path])
    return out


def run(args: argparse.Namespace) -> int:
    try:
        summary = build_matrix(expand_reports([Path(p) for p in args.reports]), Path(args.out))
    except MatrixInputError as exc:
        raise UserError(str(exc)) from None
    print(f"{len(summary.columns)} IUTs x {summary.clauses} clauses: {', '.join(summary.columns)}")
    print(f"matrix in {summary.out_dir}/")
    return summary.exit_code
