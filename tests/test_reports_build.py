"""Every report built from recorded results files, checked for content: the failing clause and its counterexample
appear in each format, report.json validates and is deterministic, junit.xml has the right failure count, and an
interrupted run still yields a report marked partial.

The fixtures are hand-made by tests/fixtures/make_results.py (see its docstring) until real runs replace them.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from reports.build import REPORT_FILES, ReportSummary, build_reports
from reports.records import REPORT_SCHEMA_FILE, load_schema

FIXTURES = Path(__file__).parent / "fixtures"
FAILING = "RX-CRYPTOSTATUS-RESULT"


@pytest.fixture(scope="module")
def mutant(tmp_path_factory: pytest.TempPathFactory) -> ReportSummary:
    return build_reports(FIXTURES / "results-mutant.jsonl", tmp_path_factory.mktemp("mutant"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> ReportSummary:
    return build_reports(FIXTURES / "results-reference.jsonl", tmp_path_factory.mktemp("reference"))


def _report(summary: ReportSummary) -> dict[str, object]:
    data: dict[str, object] = json.loads((summary.out_dir / "report.json").read_text(encoding="utf-8"))
    return data


def test_build_writes_every_report_file(mutant: ReportSummary) -> None:
    for name in REPORT_FILES:
        assert (mutant.out_dir / name).stat().st_size > 0, name


@pytest.mark.parametrize("name", ["reference", "mutant", "interrupted", "hostile"])
def test_report_json_validates_against_its_schema(name: str, tmp_path: Path) -> None:
    summary = build_reports(FIXTURES / f"results-{name}.jsonl", tmp_path)
    jsonschema.Draft202012Validator(load_schema(REPORT_SCHEMA_FILE)).validate(_report(summary))


@pytest.mark.clause(FAILING)
def test_report_json_carries_the_failing_clause_and_its_counterexample(mutant: ReportSummary) -> None:
    data = _report(mutant)
    clauses = {c["id"]: c for c in data["clauses"]}  # type: ignore[attr-defined]
    assert clauses[FAILING]["verdict"] == "FAIL"
    assert clauses[FAILING]["checks"] == 40
    assert clauses["RX-FAIL-INDICATE-WITH-STATUS"]["verdict"] == "NON-STRICT"
    assert clauses["RX-FRAGMENT-NOT-PROCESSED"]["verdict"] == "NOT-EXERCISED"
    assert data["exit_code"] == 1
    assert data["iut"]["name"] == "mutant:status-success-on-bad-icv"  # type: ignore[index]
    assert data["hypothesis"] == {"profile": "ci", "seed": 4321}
    cx = next(c for c in data["counterexamples"] if c["clause"] == FAILING)  # type: ignore[attr-defined]
    # The provisional (pre-shrink) finding is superseded by the final one: one counterexample, the shrunk seq=1 frame.
    assert sum(1 for c in data["counterexamples"] if c["clause"] == FAILING) == 1  # type: ignore[attr-defined]
    assert cx["final"] is True
    assert cx["expected_info"]["CryptoStatusName"] == "CRYPTO_TRANSPORT_ESP_AUTH_FAILED"
    assert cx["observed_info"]["CryptoStatusName"] == "CRYPTO_SUCCESS"
    status_row = next(r for r in cx["fields"] if r["field"] == "CryptoStatus")
    assert status_row["mismatch"] is True
    assert cx["sa_table"][0]["entry"]["sa_id"] == 1
    assert "--seed 4321" in cx["reproduce"]
    assert cx["frame_hex"]
    assert cx["steps"]


def test_reference_report_is_conformant_and_lists_unexercised_clauses(reference: ReportSummary) -> None:
    data = _report(reference)
    assert data["exit_code"] == 0
    assert data["counterexamples"] == []
    assert data["coverage"]["unexercised"] == ["RX-FRAGMENT-NOT-PROCESSED", "SA-UPDATE-ESN"]  # type: ignore[index]
    assert reference.headline.startswith("CONFORMANT")


def test_rebuilding_gives_byte_identical_report_json(tmp_path: Path) -> None:
    first = build_reports(FIXTURES / "results-mutant.jsonl", tmp_path / "a")
    second = build_reports(FIXTURES / "results-mutant.jsonl", tmp_path / "b")
    for name in ("report.json", "junit.xml", "summary.md", "coverage.md", "failures.pcapng", "index.html"):
        assert (first.out_dir / name).read_bytes() == (second.out_dir / name).read_bytes(), name


@pytest.mark.clause(FAILING)
def test_junit_has_one_testcase_per_clause_and_the_right_failure_count(mutant: ReportSummary) -> None:
    root = ET.parse(mutant.out_dir / "junit.xml").getroot()
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == int(suite.get("tests", "-1")) == 11
    failures = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("failures", "-1")) == len(failures) == 2
    failing = next(c for c in cases if c.get("name") == FAILING)
    failure = failing.find("failure")
    assert failure is not None
    assert failure.text is not None
    assert "CRYPTO_TRANSPORT_ESP_AUTH_FAILED" in failure.text
    assert "CRYPTO_SUCCESS" in failure.text
    assert "CX-1" in failure.text
    skipped = [c.get("name") for c in cases if c.find("skipped") is not None]
    assert skipped == ["RX-FRAGMENT-NOT-PROCESSED", "SA-UPDATE-ESN"]
    # NON-STRICT is reported but does not turn CI red.
    non_strict = next(c for c in cases if c.get("name") == "RX-FAIL-INDICATE-WITH-STATUS")
    assert non_strict.find("failure") is None
    assert non_strict.find("system-out") is not None


@pytest.mark.clause(FAILING)
def test_summary_and_coverage_markdown_show_the_failure_and_the_gaps(mutant: ReportSummary) -> None:
    summary = (mutant.out_dir / "summary.md").read_text(encoding="utf-8")
    assert "NOT CONFORMANT" in summary
    row = next(line for line in summary.splitlines() if line.startswith(f"| `{FAILING}`"))
    assert "FAIL" in row
    assert "CX-1" in row
    assert "CRYPTO_SUCCESS" in summary
    coverage = (mutant.out_dir / "coverage.md").read_text(encoding="utf-8")
    assert "NOT EXERCISED: 2 of 11 clauses" in coverage
    assert "`SA-UPDATE-ESN`" in coverage
    assert "aes-gcm-128" in coverage


@pytest.mark.clause(FAILING)
def test_html_has_the_clause_table_and_the_counterexample(mutant: ReportSummary) -> None:
    page = (mutant.out_dir / "index.html").read_text(encoding="utf-8")
    assert 'id="clause-RX-CRYPTOSTATUS-RESULT"' in page
    assert 'id="CX-1"' in page
    assert "0 CRYPTO_SUCCESS" in page
    assert "3 CRYPTO_TRANSPORT_ESP_AUTH_FAILED" in page
    assert "###[ ESP ]###" in page  # scapy dissection of the frame
    assert "NEVER EXERCISED" in page
    # self-contained: no external resources
    for needle in ("http://", "https://", "<script", "<link", "src="):
        assert needle not in page, needle


def test_interrupted_results_build_a_partial_report_with_the_warning(tmp_path: Path) -> None:
    summary = build_reports(FIXTURES / "results-interrupted.jsonl", tmp_path)
    data = _report(summary)
    assert data["partial"] is True
    assert data["status"] == "partial"
    assert summary.partial
    assert any("truncated" in w for w in data["warnings"])  # type: ignore[attr-defined]
    # The only finding of the interrupted run was not final: it is still shown, as the best counterexample known.
    assert [c["clause"] for c in data["counterexamples"]] == [FAILING]  # type: ignore[attr-defined]
    assert data["exit_code"] == 2  # an adapter timeout is an ERROR
    clauses = {c["id"]: c["verdict"] for c in data["clauses"]}  # type: ignore[attr-defined]
    assert clauses["RX-CRYPTODONE-SET"] == "ERROR"
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Partial report" in page
    assert "adapter did not answer" in page


def test_results_without_run_start_or_catalogue_still_build(tmp_path: Path) -> None:
    lines = (FIXTURES / "results-mutant.jsonl").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if '"type":"run_start"' not in line and '"type":"clause_catalogue"' not in line]
    results = tmp_path / "r.jsonl"
    results.write_text("\n".join(kept) + "\n", encoding="utf-8")
    summary = build_reports(results, tmp_path / "out")
    assert summary.exit_code == 1
    assert any("no run_start" in w for w in summary.warnings)
    assert any("no clause catalogue" in w for w in summary.warnings)
