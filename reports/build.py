"""``build_reports``: one results file in, every report out (report.json, junit.xml, index.html, summary.md,
coverage.md, failures.pcapng). ``ipsecov2-conformance report RESULTS.jsonl --out DIR`` calls it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from reports.html import write_html
from reports.junit import write_junit
from reports.markdown import write_markdown
from reports.model import Report, build_report
from reports.pcapng import write_pcapng
from reports.records import read_results

REPORT_FILES = ("report.json", "junit.xml", "index.html", "summary.md", "coverage.md", "failures.pcapng")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportSummary:
    """What was written, for the CLI to print and for callers to pick an exit status."""

    out_dir: Path
    files: tuple[Path, ...]
    headline: str
    exit_code: int
    """0 conformant, 1 any FAIL, 2 any ERROR, recomputed from the records."""
    partial: bool
    counterexamples: int
    pcap_frames: int
    unexercised: tuple[str, ...]
    """Testable clauses (or of unknown scope) no example checked."""
    warnings: tuple[str, ...]
    not_observable: tuple[str, ...] = ()
    """Unexercised clauses no run can observe through the adapter protocol."""


def report_json_text(report: Report) -> str:
    """``report.json``: sorted keys, fixed indentation, trailing newline: byte-identical on every rebuild."""
    return json.dumps(report.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def build_reports(results_path: Path, out_dir: Path) -> ReportSummary:
    """Read ``results_path`` (never fails on a damaged line: see ``read_results``) and write every report."""
    report = build_report(read_results(results_path))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(report_json_text(report), encoding="utf-8")
    write_junit(report, out_dir / "junit.xml")
    write_html(report, out_dir / "index.html")
    write_markdown(report, out_dir)
    frames = write_pcapng(report.counterexamples, out_dir / "failures.pcapng")
    return ReportSummary(
        out_dir=out_dir,
        files=tuple(out_dir / name for name in REPORT_FILES),
        headline=report.headline,
        exit_code=report.exit_code,
        partial=report.partial,
        counterexamples=len(report.counterexamples),
        pcap_frames=frames,
        unexercised=tuple(c.info.id for c in report.unexercised),
        warnings=report.warnings,
        not_observable=tuple(c.info.id for c in report.not_observable),
    )
