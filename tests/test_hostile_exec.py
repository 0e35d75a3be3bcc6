"""Hostile programs behind ``exec``, through the real CLI: every fault is one ERROR, the program is killed and
restarted, the run goes on with the next example, the report is written, and no process outlives the run.

The unit tests of the adapter itself are in ``test_adapter_exec.py``; these drive ``ipsecov2-conformance run`` in a
subprocess against ``tests/iut_programs/misbehaving/nic.py``, the reference NIC with one fault on its 5th receive.
To keep the file fast, one run shows the suite surviving twelve faults in turn: the k-th process misbehaves in the
k-th way, is killed, and the next scenario starts the (k+1)-th process.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from _cli_runs import RunResult, run_cli
from iut_programs.misbehaving.harness import error_messages, leftovers, misbehaved, nic_iut, run_end, started

from conformance.session import MAX_ERRORS_PER_TEST

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process checks use /proc and process groups")

TIMEOUT = "1.5"
"""Per-request timeout of these runs: above a loaded machine's start-up time of nic.py, below the 3 s of ``late``."""
SELECT = ("--profile", "quick", "--seed", "1", "-k", "test_sa_matching", "--timeout", TIMEOUT)

FAULTS: dict[str, str] = {
    "exit": "exited?) without answering (exit status 4)",
    "hang": f"no answer within {TIMEOUT} s",
    "late": f"no answer within {TIMEOUT} s",
    "non-json": "answer line is not JSON",
    "missing-field": "'indications' is a required property",
    "string-number": "$.indications[0].info: '2' is not of type 'integer'",
    "negative-int": "$.indications[0].info: -1 is less than the minimum of 0",
    "huge-int": "$.indications[0].info: 1180591620717411303424 is greater than the maximum",
    "odd-hex": "$.indications[0].frame: 'abc' does not match",
    "twice": "unrequested output before this request (a second answer to the previous one?)",
    "huge-line": "answer line exceeds the limit of 16777216 bytes",
    "flood-exit": "without answering (exit status 5)",
}
"""Each fault of nic.py and what the ERROR message must say about it."""


@dataclass(frozen=True)
class HostileRun:
    result: RunResult
    log: Path

    @property
    def results(self) -> Path:
        return self.result.out / "results.jsonl"


def hostile_run(tmp: Path, modes: str, extra: str = "", at: int = 5) -> HostileRun:
    log = tmp / "nic.log"
    result = run_cli("run", "--iut", nic_iut(modes, log=log, at=at, extra=extra), *SELECT, out=tmp / "out", timeout=300)
    return HostileRun(result, log)


@pytest.fixture(scope="module")
def every_fault(tmp_path_factory: pytest.TempPathFactory) -> HostileRun:
    # Each process faults on its first receive: twelve faults then need twelve scenarios of the 25, whatever frame
    # counts Hypothesis draws (with a later receive the count of frames per example decided how many faults happened).
    return hostile_run(tmp_path_factory.mktemp("faults"), ",".join(FAULTS), at=1, extra="--delay 3")


@pytest.mark.parametrize("mode", list(FAULTS))
def test_exec_fault_is_one_error_saying_what_happened(every_fault: HostileRun, mode: str) -> None:
    index = list(FAULTS).index(mode)
    messages = error_messages(every_fault.results)
    assert [m for _, m in misbehaved(every_fault.log)] == list(FAULTS), "nic.py did not do every fault in turn"
    assert len(messages) == len(FAULTS), messages
    assert FAULTS[mode] in messages[index], messages[index]
    # Names the request that broke; a second answer is only seen at the next request, whichever that is.
    assert ("reset" if mode == "twice" and "during 'reset'" in messages[index] else "receive") in messages[index]


@pytest.mark.parametrize("mode", list(FAULTS))
def test_exec_fault_kills_the_program_and_the_next_scenario_restarts_it(every_fault: HostileRun, mode: str) -> None:
    pids = started(every_fault.log)
    culprit = misbehaved(every_fault.log)[list(FAULTS).index(mode)][0]
    assert culprit in pids
    assert pids.index(culprit) + 1 < len(pids), f"no process was started after the {mode} fault"
    assert leftovers(every_fault.log) == []


def test_exec_faults_do_not_stop_the_run_and_the_report_is_written(every_fault: HostileRun) -> None:
    result = every_fault.result
    assert result.code == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    end = run_end(every_fault.results)
    assert end is not None
    assert end.status == "complete"
    assert end.stats["scenarios"] == 25  # every example of the quick profile ran
    assert end.stats["errors"] == len(FAULTS)
    # The last process (started after the twelfth fault) served receives and was asked to leave.
    served = [line for line in every_fault.log.read_text().splitlines() if line.startswith("bye ")]
    assert served
    assert not served[-1].endswith("receives=0")
    report = json.loads((result.out / "report.json").read_text())
    assert report["exit_code"] == 2
    assert not report["partial"]
    assert len(report["errors"]) == len(FAULTS)
    for name in ("index.html", "summary.md", "junit.xml"):
        assert (result.out / name).is_file()
    # 1 hello check + the session + one restart per fault: nothing else was started, nothing is left.
    assert len(started(every_fault.log)) == 2 + len(FAULTS)
    assert leftovers(every_fault.log) == []


def test_exec_stderr_flood_is_bounded_in_the_error_record(every_fault: HostileRun) -> None:
    flood = error_messages(every_fault.results)[list(FAULTS).index("flood-exit")]
    assert "--- IUT stderr (tail) ---" in flood
    assert len(flood) < 8192  # 16 MB were written; the record keeps the 4 KiB tail


def test_exec_stderr_flood_and_ignored_bye_are_not_errors(tmp_path: Path) -> None:
    """Flooding stderr breaks no rule (the suite drains it, so the program never blocks); ignoring ``bye`` (and
    SIGTERM) only costs the close grace before the process group is killed."""
    run = hostile_run(tmp_path, "flood", extra="--ignore-bye")
    assert run.result.code == 0, run.result.stdout + run.result.stderr
    assert error_messages(run.results) == []
    assert [m for _, m in misbehaved(run.log)] == ["flood"] * (len(started(run.log)) - 1)
    assert len([line for line in run.log.read_text().splitlines() if line.startswith("bye ")]) == 2
    assert leftovers(run.log) == []


def test_exec_program_that_cannot_restart_gives_bounded_errors_and_a_report(tmp_path: Path) -> None:
    run = hostile_run(tmp_path, "dead-after")
    assert run.result.code == 2
    end = run_end(run.results)
    assert end is not None
    assert end.status == "complete"
    messages = error_messages(run.results)
    assert "dying on receive" in messages[0]
    assert all("cannot start again" in m for m in messages[1:-1]), messages[1:3]
    # Every later scenario is an ERROR, but the file says so once per scenario only up to the cap.
    assert len(messages) == MAX_ERRORS_PER_TEST + 1
    assert "further ones are counted" in messages[-1]
    assert end.stats["errors"] > MAX_ERRORS_PER_TEST
    assert (run.result.out / "index.html").is_file()
    assert leftovers(run.log) == []


def test_exec_program_exiting_at_start_is_one_line_and_exit_2(tmp_path: Path) -> None:
    run = hostile_run(tmp_path, "exit-at-start", extra="--at 1")
    assert run.result.code == 2
    lines = run.result.stderr.strip().splitlines()
    assert len(lines) == 1, run.result.stderr
    assert "hello failed" in lines[0]
    assert "exit status 3" in lines[0]
    assert "refusing to start" in lines[0]
    assert "Traceback" not in run.result.stderr
    assert leftovers(run.log) == []
