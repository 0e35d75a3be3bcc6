"""Helpers of the hostile-IUT tests: the ``--iut`` argument for ``nic.py``, its event log, and leftover processes.

``nic.py --log FILE`` appends ``start PID``, ``misbehave PID MODE``, ``bye PID receives=K`` and ``eof PID receives=K``
lines; every process of a run (the one ``run`` asks ``hello`` before starting pytest, the session's, and each restart)
is in it, so a test can count restarts and check that none of them outlived the run.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path

from reports.records import ErrorRecord, RunEnd, read_results

PROGRAM = Path(__file__).resolve().parent / "nic.py"
IN_PROCESS = Path(__file__).resolve().parent / "inprocess"


def nic_iut(modes: str, *, log: Path, at: int = 5, extra: str = "") -> str:
    """``exec:`` spec running ``nic.py MODES --at N --log LOG`` with this interpreter."""
    argv = [sys.executable, str(PROGRAM), modes, "--at", str(at), "--log", str(log), *shlex.split(extra)]
    return "exec:" + shlex.join(argv)


def events(log: Path, word: str) -> list[list[str]]:
    """The fields after ``word`` of each log line starting with it, in order."""
    if not log.exists():
        return []
    return [line.split()[1:] for line in log.read_text().splitlines() if line.split()[:1] == [word]]


def started(log: Path) -> list[int]:
    return [int(fields[0]) for fields in events(log, "start")]


def misbehaved(log: Path) -> list[tuple[int, str]]:
    return [(int(fields[0]), fields[1]) for fields in events(log, "misbehave")]


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live (non-zombie) run of nic.py (a reused pid running something else does not count)."""
    proc = Path("/proc") / str(pid)
    if proc.is_dir():
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            return False
        state = stat[stat.rindex(")") + 2 :].split()[0]
        return b"nic.py" in cmdline and state not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def leftovers(log: Path, *, wait: float = 2.0) -> list[int]:
    """Processes of the log that are still running (polls briefly: SIGKILL delivery is asynchronous)."""
    deadline = time.monotonic() + wait
    while True:
        remaining = [pid for pid in started(log) if alive(pid)]
        if not remaining or time.monotonic() > deadline:
            return remaining
        time.sleep(0.05)


def error_messages(results: Path) -> list[str]:
    return [r.message for r in read_results(results).records if isinstance(r, ErrorRecord)]


def run_end(results: Path) -> RunEnd | None:
    ends = [r for r in read_results(results).records if isinstance(r, RunEnd)]
    return ends[-1] if ends else None


def all_lines_json(results: Path) -> bool:
    """Every line of the file is one complete JSON object (what an interrupted run must still guarantee)."""
    import json

    for line in results.read_text(encoding="utf-8").splitlines():
        try:
            if not isinstance(json.loads(line), dict):
                return False
        except ValueError:
            return False
    return results.read_bytes().endswith(b"\n")


def write_dist_info(site: Path) -> dict[str, str]:
    """Register ``hostile`` (and a ``broken`` one that cannot be imported) as adapters, as a third party would: a
    ``.dist-info`` in ``site``. Returns the environment a subprocess needs to see them (``PYTHONPATH``)."""
    info = site / "hostile_adapters-0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hostile-adapters\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text(
        "[ipsecov2_conformance.adapters]\n"
        "hostile = hostile_adapters:create\n"
        "broken = hostile_adapters_that_do_not_exist:create\n"
    )
    path = os.pathsep.join([str(site), str(IN_PROCESS), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}
