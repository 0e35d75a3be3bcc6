"""Reports stay safe against what the IUT says: its strings are inert text in HTML and Markdown, its frames are shown
with their length, and nothing it sends is evaluated or used as a path.

One real run through the CLI against nic.py announcing itself with markup and a path-like name, and indicating a
1 MiB frame once (a FAIL for the judge, so the frame reaches the report). The report modules' own tests
(``test_reports_oracles.py``) check escaping on a hand-made results file; this one checks the whole path from the wire.
"""

from __future__ import annotations

import json
import os
import re
import shlex

import pytest
from _cli_runs import RunResult, run_cli
from iut_programs.misbehaving.harness import leftovers, nic_iut

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process checks use /proc")

NAME = '<script>alert("name")</script>../../../pwned | `tick` **bold** [link](javascript:alert(1))'
VERSION = '"><img src=x onerror=alert(2)>/etc/passwd'
EXPECTED_FILES = {
    "results.jsonl",
    "pytest.log",
    "index.html",
    "report.json",
    "junit.xml",
    "summary.md",
    "coverage.md",
    "failures.pcapng",
}


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    tmp = tmp_path_factory.mktemp("reports")
    extra = f"--once --name {shlex.quote(NAME)} --version {shlex.quote(VERSION)}"
    iut = nic_iut("huge-frame", log=tmp / "nic.log", at=3, extra=extra)
    result = run_cli(
        "run", "--iut", iut, "--profile", "quick", "--seed", "2", "-k", "test_sa_matching", out=tmp / "out"
    )
    assert leftovers(tmp / "nic.log") == []
    return result


def test_iut_strings_are_escaped_in_the_html_report(hostile_report: RunResult) -> None:
    assert hostile_report.code == 1, hostile_report.stdout + hostile_report.stderr  # the huge frame is a FAIL
    page = (hostile_report.out / "index.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;" in page or "&lt;script&gt;alert(" in page
    assert "javascript:alert(1)" not in page.replace("[link](javascript:alert(1))", "")  # never an href


def test_iut_strings_are_inert_in_the_markdown_summary(hostile_report: RunResult) -> None:
    summary = (hostile_report.out / "summary.md").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert" in summary  # the heading escapes it
    prose = re.sub(r"`[^`\n]*`", "", summary)  # code spans render literally (the IUT's backticks become quotes)
    assert "<script>" not in prose
    assert "<img src=x" not in prose


def test_iut_name_is_never_used_as_a_path(hostile_report: RunResult) -> None:
    out = hostile_report.out
    assert {p.name for p in out.iterdir()} <= EXPECTED_FILES
    for parent in (out.parent, out.parent.parent, out.parent.parent.parent):
        assert not (parent / "pwned").exists()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["iut"]["name"] == NAME  # kept verbatim as data


def test_huge_indicated_frame_is_shown_with_its_length(hostile_report: RunResult) -> None:
    page = (hostile_report.out / "index.html").read_text(encoding="utf-8")
    assert f"({1024 * 1024} bytes)" in page


def test_huge_indicated_frame_is_truncated_in_the_html(hostile_report: RunResult) -> None:
    assert (hostile_report.out / "index.html").stat().st_size < 1024 * 1024
