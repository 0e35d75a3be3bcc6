"""Interrupted runs: SIGTERM or SIGINT in the middle of a run leaves a results file of whole JSON lines ending in an
``interrupted`` run_end, partial reports, no IUT process, exit status 130; ``run --resume`` finishes the campaign.

The run is stopped at a known point: nic.py (``late`` with a long delay) holds its 20th receive, and the test signals
the CLI once the log says so. The CLI runs in a subprocess, in its own session, as a user's terminal would run it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _cli_runs import run_cli
from iut_programs.misbehaving.harness import all_lines_json, leftovers, misbehaved, nic_iut, run_end, started

from conformance.cli import main
from reports.records import Check, read_results

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals and /proc")

SELECT = ("-k", "test_sa_matching or test_replayed", "--profile", "quick", "--seed", "3")
MATCHING = "test_receive_families.py::test_sa_matching_spi_and_destination"
REPLAYED = "test_receive_families.py::test_replayed_frames_are_indicated_and_processed"


def interrupted_run(tmp: Path, signum: signal.Signals) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """Start a run, wait until the IUT holds a receive, send ``signum``; (process, out dir, nic log)."""
    log, out = tmp / "nic.log", tmp / "out"
    iut = nic_iut("late", log=log, at=20, extra="--once --delay 60")
    argv = [sys.executable, "-m", "conformance.cli", "run", "--iut", iut, *SELECT, "--timeout", "30"]
    proc = subprocess.Popen(
        [*argv, "--out", str(out), "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not misbehaved(log):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run never reached the 20th receive"
            time.sleep(0.05)
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), out, log


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_mid_run_leaves_whole_records_a_partial_report_and_no_process(
    tmp_path: Path, signum: signal.Signals
) -> None:
    proc, out, log = interrupted_run(tmp_path, signum)
    assert proc.returncode == 130, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"INTERRUPTED ({signum.name})" in proc.stdout
    results = out / "results.jsonl"
    assert all_lines_json(results)
    end = run_end(results)
    assert end is not None
    assert end.status == "interrupted"
    report = json.loads((out / "report.json").read_text())
    assert report["partial"] is True
    assert "RUN INTERRUPTED" in (out / "index.html").read_text()
    assert leftovers(log) == []
    # What was judged before the signal is in the file, and `report` rebuilds the same partial report from it.
    assert any(isinstance(r, Check) and r.test_id == MATCHING for r in read_results(results).records)
    assert main(["report", str(results), "--out", str(tmp_path / "again")]) == 0
    assert json.loads((tmp_path / "again" / "report.json").read_text())["partial"] is True


def test_resume_runs_the_cut_short_and_the_missing_tests_and_completes_the_file(tmp_path: Path) -> None:
    proc, out, log = interrupted_run(tmp_path, signal.SIGTERM)
    assert proc.returncode == 130
    results = out / "results.jsonl"
    before = [r.test_id for r in read_results(results).records if isinstance(r, Check)]
    assert REPLAYED not in before  # the run stopped in the first test
    # --iut, profile and seed come from the file's run_start; the -k selection is given again.
    resumed = run_cli("run", "--resume", str(results), "-k", SELECT[1], "--timeout", "5", out=out)
    assert resumed.code == 0, resumed.stdout + resumed.stderr
    assert all_lines_json(results)
    records = read_results(results).records
    end = run_end(results)
    assert end is not None
    assert end.status == "complete"
    checked = [r.test_id for r in records if isinstance(r, Check)]
    assert REPLAYED in checked
    assert checked.count(MATCHING) > before.count(MATCHING)  # the interrupted test ran again
    assert [type(r).__name__ for r in records].count("RunStart") == 1
    assert json.loads((out / "report.json").read_text())["partial"] is False
    assert len(started(log)) >= 4  # hello check + session, twice
    assert leftovers(log) == []


def test_resume_of_a_missing_or_foreign_file_is_one_line(tmp_path: Path) -> None:
    missing = run_cli("run", "--resume", str(tmp_path / "nope.jsonl"), out=tmp_path / "o1")
    assert missing.code == 2
    assert missing.stderr.strip().splitlines() == [
        f"ipsecov2-conformance: error: --resume {tmp_path / 'nope.jsonl'}: no such file"
    ]
    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text('{"type": "check"}\n')
    result = run_cli("run", "--resume", str(foreign), out=tmp_path / "o2")
    assert result.code == 2
    assert "no run_start record" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
