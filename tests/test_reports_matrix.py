"""``matrix``: several reports joined into one clause x IUT table, and the ``report``/``matrix`` commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from test_reports_fixtures import MUTANT_RUN, REFERENCE_RUN, expected

from conformance.commands import UserError
from conformance.commands import matrix as matrix_command
from conformance.commands import report as report_command
from reports.build import build_reports
from reports.matrix import MatrixInputError, build_matrix

FIXTURES = Path(__file__).parent / "fixtures"
MUTANT = "mutant:success-on-failure"


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    for module in (report_command, matrix_command):
        module.add_parser(sub).set_defaults(module=module)
    return parser.parse_args(argv)


def test_matrix_joins_reports_into_one_clause_by_iut_table(tmp_path: Path) -> None:
    ref = build_reports(REFERENCE_RUN, tmp_path / "iut-reference").out_dir
    mut = build_reports(MUTANT_RUN, tmp_path / "iut-mutants").out_dir
    summary = build_matrix([ref, mut / "report.json"], tmp_path / "matrix")
    assert summary.columns == ("reference", MUTANT)
    assert summary.exit_code == 1
    data = json.loads((tmp_path / "matrix" / "matrix.json").read_text(encoding="utf-8"))
    row = next(c for c in data["clauses"] if c["id"] == "RX-CRYPTOSTATUS-RESULT")
    assert row["verdicts"] == {"reference": "PASS", MUTANT: "FAIL"}
    # Sections keep the spec's titles and order.
    sections = list(dict.fromkeys(c["section"] for c in data["clauses"]))
    assert sections[:2] == ["2 OOB data layouts", "3.2 Receive path: clauses"]
    cxs = json.loads((mut / "report.json").read_text(encoding="utf-8"))["counterexamples"]
    n = sum(1 for cx in cxs if cx["clause"] == "RX-CRYPTOSTATUS-RESULT")
    md = (tmp_path / "matrix" / "matrix.md").read_text(encoding="utf-8")
    line = next(x for x in md.splitlines() if x.startswith("| `RX-CRYPTOSTATUS-RESULT`"))
    assert "✅ PASS" in line
    assert f"❌ FAIL ({n})" in line
    page = (tmp_path / "matrix" / "matrix.html").read_text(encoding="utf-8")
    assert "RX-CRYPTOSTATUS-RESULT" in page
    assert "<script" not in page


def test_matrix_tells_two_runs_of_one_iut_apart_by_folder(tmp_path: Path) -> None:
    a = build_reports(MUTANT_RUN, tmp_path / "run-a").out_dir
    b = build_reports(MUTANT_RUN, tmp_path / "run-b").out_dir
    summary = build_matrix([a, b], tmp_path / "m")
    assert summary.columns == (f"{MUTANT} (run-a)", f"{MUTANT} (run-b)")
    assert summary.exit_code == 1


def test_matrix_rejects_a_file_that_is_not_a_report(tmp_path: Path) -> None:
    bogus = tmp_path / "report.json"
    bogus.write_text("{}", encoding="utf-8")
    with pytest.raises(MatrixInputError, match="report_schema"):
        build_matrix([bogus], tmp_path / "m")
    args = _parse(["matrix", str(tmp_path / "missing"), "--out", str(tmp_path / "m")])
    with pytest.raises(UserError):
        args.module.run(args)


def test_report_command_rebuilds_reports_and_returns_the_run_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _parse(["report", str(MUTANT_RUN), "--out", str(tmp_path / "r")])
    assert args.module.run(args) == 1
    out = capsys.readouterr().out
    assert "NOT CONFORMANT" in out
    # Only the testable gaps are printed; the not-observable clauses are not gaps.
    assert f"NOT EXERCISED: {len(expected(MUTANT_RUN).unexercised)} clauses" in out
    assert "TX-LSO-CAP" not in out
    assert (tmp_path / "r" / "index.html").is_file()
    args = _parse(["matrix", str(tmp_path / "r"), "--out", str(tmp_path / "m")])
    assert args.module.run(args) == 1
    assert (tmp_path / "m" / "matrix.html").is_file()
    missing = _parse(["report", str(tmp_path / "nope.jsonl")])
    with pytest.raises(UserError, match="not found"):
        missing.module.run(missing)
