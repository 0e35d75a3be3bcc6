"""Run the real ``ipsecov2-conformance`` command in a subprocess and read back what it wrote.

A subprocess, not ``conformance.cli.main`` in this process: a conformance run is a pytest run of its own, and nesting
it here would load its Hypothesis profile and plugin state into the project's test session.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from conformance.commands.run import clause_table

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class RunResult:
    code: int
    stdout: str
    stderr: str
    out: Path
    verdicts: dict[str, str]
    checks: dict[str, int]

    def failing(self) -> set[str]:
        """Clauses with a verdict worse than PASS (FAIL, NON-STRICT or ERROR)."""
        return {c for c, v in self.verdicts.items() if v in ("FAIL", "NON-STRICT", "ERROR")}


def run_cli(*args: str, out: Path, timeout: float = 600) -> RunResult:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run(
        [sys.executable, "-m", "conformance.cli", *args, "--out", str(out), "--no-progress"],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=out.parent,
        env=env,
    )
    results = out / "results.jsonl"
    rows, _ = clause_table(results) if results.exists() else ([], 2)
    return RunResult(
        code=proc.returncode,
        stdout=proc.stdout,
        stderr=proc.stderr,
        out=out,
        verdicts={c: v for c, v, _ in rows},
        checks={c: n for c, _, n in rows},
    )


def exec_reference_argument(extra: str = "") -> str:
    """``--iut exec:...`` for the reference NIC behind the wire protocol (tests/iut_programs/reference_nic.py)."""
    program = REPO / "tests" / "iut_programs" / "reference_nic.py"
    return f"exec:{sys.executable} {program}{(' ' + extra) if extra else ''}"
