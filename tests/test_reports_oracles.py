"""Reports checked by independent programs: headless Chromium renders index.html (screenshot + DOM), tshark reads
failures.pcapng back with its comments, and a hostile IUT's HTML is shown as inert text in the rendered DOM.

Skipped with a visible reason when chromium or tshark is not installed.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import pytest
from test_reports_fixtures import MUTANT_RUN

from reports.build import ReportSummary, build_reports

pytestmark = [pytest.mark.oracle]

FIXTURES = Path(__file__).parent / "fixtures"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
TSHARK = shutil.which("tshark")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def _chromium(page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def _dom(page: Path) -> str:
    result = _chromium(page, "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def mutant(tmp_path_factory: pytest.TempPathFactory) -> ReportSummary:
    return build_reports(MUTANT_RUN, tmp_path_factory.mktemp("mutant"))


@needs_chromium
@pytest.mark.clause("RX-CRYPTOSTATUS-RESULT")
def test_html_renders_in_chromium_with_clause_table_and_counterexample(mutant: ReportSummary) -> None:
    page = mutant.out_dir / "index.html"
    shot = mutant.out_dir / "index.png"
    result = _chromium(page, f"--screenshot={shot}", "--window-size=1280,2400")
    assert result.returncode == 0, result.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1280, 2400)
    assert len(png) > 20_000  # a blank page compresses to a few kB; the report is dense
    dom = _dom(page)
    assert '<table class="clauses">' in dom
    assert 'id="clause-RX-CRYPTOSTATUS-RESULT"' in dom
    assert '<section class="cx fail" id="CX-1">' in dom  # FAIL sorts first
    assert "0 CRYPTO_SUCCESS" in dom
    assert "testable clauses were NEVER EXERCISED" in dom
    assert "not observable through the adapter protocol" in dom
    assert '<tr class="section"><td colspan="6">3.2 Receive path: clauses</td></tr>' in dom


@needs_chromium
def test_hostile_iut_strings_are_inert_in_the_rendered_page(tmp_path: Path) -> None:
    build_reports(FIXTURES / "results-hostile.jsonl", tmp_path)
    page = tmp_path / "index.html"
    source = page.read_text(encoding="utf-8")
    assert "<script" not in source
    assert "<img" not in source
    assert "<svg" not in source
    assert "<b>x" not in source
    dom = _dom(page)
    # Chromium parsed no element out of the IUT's strings...
    assert not re.search(r"<(script|img|svg)\b", dom)
    assert "<b>x</b>" not in dom
    # ...and shows them as text.
    assert '&lt;script&gt;alert("iut")&lt;/script&gt;' in dom
    assert '1.0"&gt;&lt;script&gt;alert("version")&lt;/script&gt;' in dom
    # Markdown: outside code spans (where CommonMark shows markup literally) no tag survives.
    for name in ("summary.md", "coverage.md"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        outside_code = re.sub(r"`[^`\n]*`", "", text)
        assert "<" not in outside_code, name
        assert "&lt;script&gt;" in text


@needs_tshark
@pytest.mark.clause("RX-CRYPTOSTATUS-RESULT")
def test_tshark_reads_failures_pcapng_with_one_commented_frame_per_counterexample(mutant: ReportSummary) -> None:
    assert TSHARK is not None
    report = (mutant.out_dir / "report.json").read_text(encoding="utf-8")
    import json

    cxs = [c for c in json.loads(report)["counterexamples"] if c["frame_hex"] is not None]
    assert len(cxs) >= 2
    assert mutant.pcap_frames == len(cxs)
    comments: list[str] = []
    for field in ("frame.comment", "pkt_comment"):  # tshark >= 4.0 / older releases
        result = subprocess.run(
            [TSHARK, "-r", str(mutant.out_dir / "failures.pcapng"), "-T", "fields", "-e", "frame.number", "-e", field],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode == 0:
            comments = [line.split("\t", 1)[1] for line in result.stdout.splitlines() if "\t" in line]
            if any("CX-" in c for c in comments):
                break
    assert len(comments) == len(cxs)
    for cx, comment in zip(cxs, comments, strict=True):
        assert comment.startswith(f"{cx['id']} {cx['clause']} {cx['verdict']}")
        assert "expected: " in comment
        assert "observed: " in comment
        assert f"CryptoStatus={cx['expected_info']['CryptoStatusName']}" in comment
        assert f"CryptoStatus={cx['observed_info']['CryptoStatusName']}" in comment
    # tshark reads each frame back whole and dissects it as IPsec: the bytes written are the counterexamples' frames.
    result = subprocess.run(
        [
            TSHARK,
            "-r",
            str(mutant.out_dir / "failures.pcapng"),
            "-T",
            "fields",
            "-e",
            "frame.len",
            "-e",
            "frame.protocols",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [int(length) for length, _ in rows] == [cx["frame_length"] for cx in cxs]
    for _, protocols in rows:
        assert {"esp", "ah"} & set(protocols.split(":")), protocols
