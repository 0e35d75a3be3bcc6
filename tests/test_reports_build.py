"""Every report built from recorded results files, checked for content: the failing clause and its counterexamples
appear in each format, report.json validates and is deterministic, junit.xml has the right failure count, clauses
are grouped under the spec's section titles in spec order, the testable clauses nobody exercised are listed loudly
and the not-observable ones apart, and an interrupted run still yields a report marked partial.

Content checks read real runs (tests/fixtures/regenerate.sh); every expected number is computed from the records
(``test_reports_fixtures.expected``), so regenerating the fixtures needs no edit here. The interrupted and hostile
files are hand-made (tests/fixtures/README.md says why).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from test_reports_fixtures import FIXTURES, MUTANT_RUN, REFERENCE_RUN, Expected, expected

from reports.build import REPORT_FILES, ReportSummary, build_reports
from reports.records import REPORT_SCHEMA_FILE, Verdict, load_schema

FAILING = "RX-CRYPTOSTATUS-RESULT"
"""The clause mutant:success-on-failure breaks (it reports CRYPTO_SUCCESS for failed checks)."""
ALL_FIXTURES = ("results-reference-run", "results-mutant-run", "results-interrupted", "results-hostile")


@pytest.fixture(scope="module")
def mutant(tmp_path_factory: pytest.TempPathFactory) -> ReportSummary:
    return build_reports(MUTANT_RUN, tmp_path_factory.mktemp("mutant"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> ReportSummary:
    return build_reports(REFERENCE_RUN, tmp_path_factory.mktemp("reference"))


@pytest.fixture(scope="module")
def exp() -> Expected:
    return expected(MUTANT_RUN)


def _report(summary: ReportSummary) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((summary.out_dir / "report.json").read_text(encoding="utf-8"))
    return data


def test_build_writes_every_report_file(mutant: ReportSummary) -> None:
    for name in REPORT_FILES:
        assert (mutant.out_dir / name).stat().st_size > 0, name


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_report_json_validates_against_its_schema(name: str, tmp_path: Path) -> None:
    summary = build_reports(FIXTURES / f"{name}.jsonl", tmp_path)
    jsonschema.Draft202012Validator(load_schema(REPORT_SCHEMA_FILE)).validate(_report(summary))


@pytest.mark.clause(FAILING)
def test_report_json_carries_every_final_failure_as_a_counterexample(mutant: ReportSummary, exp: Expected) -> None:
    data = _report(mutant)
    clauses = {c["id"]: c for c in data["clauses"]}
    assert exp.failing == {FAILING}
    assert {c["id"] for c in data["clauses"] if c["verdict"] == "FAIL"} == exp.failing
    assert clauses[FAILING]["checks"] == exp.checks[FAILING]
    assert data["exit_code"] == 1
    assert data["hypothesis"] == {"profile": "detect", "seed": 0}
    # One counterexample per distinct final finding; provisional (pre-shrink) ones are superseded.
    assert len(data["counterexamples"]) == len(exp.final_findings)
    assert all(cx["final"] for cx in data["counterexamples"])
    by_frame = {(cx["clause"], cx["frame_hex"]): cx for cx in data["counterexamples"]}
    for finding in exp.final_findings:
        cx = by_frame[(finding.clause, finding.frame_hex)]
        assert cx["verdict"] == finding.verdict.value
        assert cx["reproduce"] == finding.reproduce
        assert "--seed 0" in cx["reproduce"]
        assert cx["steps"] == list(finding.steps)
        assert cx["id"] in clauses[finding.clause]["counterexamples"]
    for cx in (c for c in data["counterexamples"] if c["clause"] == FAILING):
        assert cx["observed_info"]["CryptoStatusName"] == "CRYPTO_SUCCESS"
        assert cx["expected_info"]["CryptoStatusName"] != "CRYPTO_SUCCESS"
        status_row = next(r for r in cx["fields"] if r["field"] == "CryptoStatus")
        assert status_row["mismatch"] is True
        assert cx["sa_table"]
        assert cx["frame_length"] == len(cx["frame_hex"]) // 2 > 0
    # FAIL before NON-STRICT: the worst counterexamples come first.
    severities = [Verdict(cx["verdict"]).severity for cx in data["counterexamples"]]
    assert severities == sorted(severities, reverse=True)


def test_reference_report_is_conformant_and_splits_the_unexercised_clauses(reference: ReportSummary) -> None:
    exp = expected(REFERENCE_RUN)
    data = _report(reference)
    assert data["exit_code"] == 0
    assert data["counterexamples"] == []
    assert reference.headline.startswith("CONFORMANT")
    assert data["coverage"]["unexercised"] == list(exp.unexercised)
    assert data["coverage"]["not_observable"] == list(exp.not_observable)
    assert reference.unexercised == exp.unexercised
    assert reference.not_observable == exp.not_observable
    assert set(exp.unexercised).isdisjoint(exp.not_observable)
    clauses = {c["id"]: c for c in data["clauses"]}
    assert clauses["TX-LSO-CAP"]["scope"] == "not-observable"
    assert "send path" in clauses["TX-LSO-CAP"]["scope_reason"]
    assert clauses["RX-INDICATE-ALL"]["scope"] == "testable"
    assert "TX-LSO-CAP" in data["coverage"]["not_observable"]
    assert "OOB-02" in data["coverage"]["not_observable"]


def test_clauses_are_grouped_under_spec_section_titles_in_spec_order(reference: ReportSummary) -> None:
    data = _report(reference)
    sections: list[str] = []
    for c in data["clauses"]:
        if c["section"] not in sections:
            sections.append(c["section"])
    assert "3.2 Receive path: clauses" in sections
    assert "4.5 Capability reporting and configuration: clauses" in sections
    assert "5.6 SA management: clauses" in sections
    assert "6 Send path and LSO (summary)" in sections
    assert "7.1 IETF: ESP" in sections
    numbers = [s.split(" ", 1)[0] for s in sections]
    assert numbers == sorted(numbers, key=lambda n: tuple(int(x) for x in n.split(".")))
    summary = (reference.out_dir / "summary.md").read_text(encoding="utf-8")
    # Markdown escapes its punctuation (``NDIS\\_OFFLOAD``, ``\\(summary\\)``): undo it to compare the text.
    lines = [line[3:] for line in summary.splitlines() if line[:3] == "## " and line[3:4].isdigit()]
    headings = [re.sub(r"\\(.)", r"\1", line) for line in lines]
    assert headings == sections
    page = (reference.out_dir / "index.html").read_text(encoding="utf-8")
    assert page.index("3.2 Receive path: clauses") < page.index("5.6 SA management: clauses")


@pytest.mark.parametrize("path", [MUTANT_RUN, REFERENCE_RUN])
def test_rebuilding_gives_byte_identical_reports(path: Path, tmp_path: Path) -> None:
    first = build_reports(path, tmp_path / "a")
    second = build_reports(path, tmp_path / "b")
    for name in REPORT_FILES:
        assert (first.out_dir / name).read_bytes() == (second.out_dir / name).read_bytes(), name


@pytest.mark.clause(FAILING)
def test_junit_has_one_testcase_per_clause_and_the_right_failure_count(mutant: ReportSummary, exp: Expected) -> None:
    root = ET.parse(mutant.out_dir / "junit.xml").getroot()
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == int(suite.get("tests", "-1")) == len(exp.catalogue)
    failures = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("failures", "-1")) == len(failures) == len(exp.failing)
    failing = next(c for c in cases if c.get("name") == FAILING)
    assert failing.get("classname") == "3.2 Receive path: clauses"
    failure = failing.find("failure")
    assert failure is not None
    assert failure.text is not None
    assert "CRYPTO_SUCCESS" in failure.text
    data = _report(mutant)
    for cx in (c for c in data["counterexamples"] if c["clause"] == FAILING):
        assert cx["id"] in failure.text
        assert cx["expected_info"]["CryptoStatusName"] in failure.text
    skipped = {c.get("name"): c.find("skipped") for c in cases if c.find("skipped") is not None}
    assert set(skipped) == set(exp.unexercised) | set(exp.not_observable)
    for cid in exp.not_observable:
        element = skipped[cid]
        assert element is not None
        assert element.get("message", "").startswith("NOT OBSERVABLE")
    for cid in exp.unexercised:
        element = skipped[cid]
        assert element is not None
        assert element.get("message", "").startswith("NOT EXERCISED")
    # NON-STRICT is reported but does not turn CI red.
    non_strict = next(c for c in cases if c.get("name") == "RX-FAIL-INDICATE-WITH-STATUS")
    assert non_strict.find("failure") is None
    assert non_strict.find("system-out") is not None


@pytest.mark.clause(FAILING)
def test_summary_and_coverage_markdown_show_the_failure_and_the_gaps(mutant: ReportSummary, exp: Expected) -> None:
    summary = (mutant.out_dir / "summary.md").read_text(encoding="utf-8")
    assert "NOT CONFORMANT" in summary
    row = next(line for line in summary.splitlines() if line.startswith(f"| `{FAILING}`"))
    assert "FAIL" in row
    data = _report(mutant)
    for cx in (c for c in data["counterexamples"] if c["clause"] == FAILING):
        assert cx["id"] in row
    assert "CRYPTO_SUCCESS" in summary
    testable = len(exp.catalogue) - len(exp.not_observable)
    assert f"{len(exp.unexercised)} of {testable} testable clauses were NEVER EXERCISED" in summary
    assert f"{len(exp.not_observable)} clauses are not observable through the adapter protocol" in summary
    tx_row = next(line for line in summary.splitlines() if line.startswith("| `TX-LSO-CAP`"))
    assert "not observable" in tx_row
    coverage = (mutant.out_dir / "coverage.md").read_text(encoding="utf-8")
    assert f"NOT EXERCISED: {len(exp.unexercised)} of {testable} testable clauses" in coverage
    assert f"Not observable through the adapter protocol: {len(exp.not_observable)} clauses" in coverage
    loud, quiet = coverage.split("## Not observable", 1)
    for cid in exp.unexercised:
        assert f"`{cid}`" in loud.split("## Checks per clause")[0]
    for cid in exp.not_observable:
        assert f"`{cid}`" in quiet
        assert f"- `{cid}` (" not in loud  # never in the loud list


@pytest.mark.clause(FAILING)
def test_html_has_the_clause_table_the_counterexamples_and_both_lists(mutant: ReportSummary, exp: Expected) -> None:
    page = (mutant.out_dir / "index.html").read_text(encoding="utf-8")
    assert f'id="clause-{FAILING}"' in page
    data = _report(mutant)
    for cx in data["counterexamples"]:
        assert f'id="{cx["id"]}"' in page
    assert "0 CRYPTO_SUCCESS" in page
    assert "dissection (scapy)" in page
    testable = len(exp.catalogue) - len(exp.not_observable)
    assert f"{len(exp.unexercised)} of {testable} testable clauses were NEVER EXERCISED" in page
    loud = page.split('<div class="loud">', 1)[1].split("</div>", 1)[0]
    quiet = page.split('<div class="quiet">', 1)[1].split("</div>", 1)[0]
    assert f"{len(exp.not_observable)} clauses are not observable through the adapter protocol" in quiet
    for cid in exp.unexercised:
        assert f"<code>{cid}</code>" in loud
    for cid in exp.not_observable:
        assert f"<code>{cid}</code>" not in loud
        assert f"<code>{cid}</code>" in quiet
    assert "send path: the adapter protocol has no transmit request" in quiet
    assert '<tr class="notobservable" id="clause-TX-LSO-CAP">' in page
    # self-contained: no external resources
    for needle in ("http://", "https://", "<script", "<link", "src="):
        assert needle not in page, needle


def test_interrupted_results_build_a_partial_report_with_the_warning(tmp_path: Path) -> None:
    summary = build_reports(FIXTURES / "results-interrupted.jsonl", tmp_path)
    data = _report(summary)
    assert data["partial"] is True
    assert data["status"] == "partial"
    assert summary.partial
    assert any("truncated" in w for w in data["warnings"])
    # The only finding of the interrupted run was not final: it is still shown, as the best counterexample known.
    assert [c["clause"] for c in data["counterexamples"]] == [FAILING]
    assert data["exit_code"] == 2  # an adapter timeout is an ERROR
    clauses = {c["id"]: c["verdict"] for c in data["clauses"]}
    assert clauses["RX-CRYPTODONE-SET"] == "ERROR"
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Partial report" in page
    assert "adapter did not answer" in page


def test_catalogue_without_scope_lists_every_unexercised_clause_loudly(tmp_path: Path) -> None:
    """Results files written before ``scope`` existed (the hand-made ones) keep the old, all-loud behaviour."""
    summary = build_reports(FIXTURES / "results-interrupted.jsonl", tmp_path)
    data = _report(summary)
    unexercised = [c["id"] for c in data["clauses"] if c["verdict"] == "NOT-EXERCISED"]
    assert unexercised
    assert data["coverage"]["unexercised"] == unexercised
    assert data["coverage"]["not_observable"] == []
    assert all(c["scope"] is None for c in data["clauses"])
    assert '<div class="quiet">' not in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_results_without_run_start_or_catalogue_still_build(tmp_path: Path) -> None:
    lines = MUTANT_RUN.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if '"type":"run_start"' not in line and '"type":"clause_catalogue"' not in line]
    assert len(kept) == len(lines) - 2
    results = tmp_path / "r.jsonl"
    results.write_text("\n".join(kept) + "\n", encoding="utf-8")
    summary = build_reports(results, tmp_path / "out")
    assert summary.exit_code == 1
    assert any("no run_start" in w for w in summary.warnings)
    assert any("no clause catalogue" in w for w in summary.warnings)
