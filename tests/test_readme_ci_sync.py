"""The README's test command and the one ``.ci/run`` executes must be the same command.

Why: the README promises "this is how the project's tests are run"; CI is what actually runs. If they drift, the README
lies or CI tests something else. The README's first code block holds two commands: the main job, then the tests.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CI_SUFFIX = re.compile(r"\s*\|\|\s*rc=\$\?\s*$")


def readme_commands() -> list[str]:
    """The command lines of the README's first fenced code block, without trailing ``# comments``."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M)
    assert match, "README.md has no fenced code block"
    return [cmd for line in match.group(1).splitlines() if (cmd := _strip_comment(line))]


def _strip_comment(line: str) -> str:
    """``line`` without a trailing ``# ...`` comment (a ``#`` outside quotes), whitespace-trimmed."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].strip()
    return line.strip()


def ci_command_lines() -> list[str]:
    """Executable lines of ``.ci/run`` (comments dropped), with the exit-status capture ``|| rc=$?`` removed."""
    lines = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return [CI_SUFFIX.sub("", line).strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_readme_first_block_has_main_job_then_tests() -> None:
    commands = readme_commands()
    assert len(commands) == 2, commands
    assert "ipsecov2-conformance run" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    test_command = readme_commands()[1]
    assert test_command in ci_command_lines(), f".ci/run does not run the README's test command: {test_command}"


def test_ci_script_is_strict_and_fails_on_no_tests() -> None:
    text = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "set -euo pipefail" in ci_command_lines()
    assert '"$rc" -eq 5' in text
    assert "ruff check ." in ci_command_lines()
    assert "mypy --strict" in ci_command_lines()


def test_strip_comment_keeps_hashes_inside_quotes() -> None:
    assert _strip_comment('pytest -k "a#b"   # the tests') == 'pytest -k "a#b"'
    assert _strip_comment("pip install .  # main") == "pip install ."
