"""Faults of the harness or the adapter, never of the IUT's conformance.

The house style separates three parties: a fault of ours (``ModelInvariantError``), a fault of the adapter or the
program behind it (the classes here), and a conformance failure of the IUT, which is data (a Finding), never an
exception. Every ``AdapterError`` becomes verdict ERROR in the judge, never FAIL: a timeout, a crash or a malformed
answer says nothing about whether the NIC follows the spec.

Each error carries the tail of what the IUT wrote to stderr, because that is usually where the real reason is.
"""

from __future__ import annotations

STDERR_TAIL_CHARS = 4096
"""How much of the IUT's stderr an exception carries; the adapter keeps more (see ``ExecAdapter.stderr_text``)."""


class AdapterError(Exception):
    """The adapter could not give a usable answer to one request (verdict ERROR).

    ``op`` names the request being served (``"receive"``, ...) or is empty when no request was in flight.
    ``iut_stderr`` is the last ``STDERR_TAIL_CHARS`` characters the IUT wrote to stderr (empty for in-process adapters).
    """

    def __init__(self, message: str, *, op: str = "", iut_stderr: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.op = op
        self.iut_stderr = iut_stderr[-STDERR_TAIL_CHARS:]

    def __str__(self) -> str:
        prefix = f"{self.op}: " if self.op else ""
        if not self.iut_stderr:
            return prefix + self.message
        return f"{prefix}{self.message}\n--- IUT stderr (tail) ---\n{self.iut_stderr.rstrip()}"


class AdapterTimeout(AdapterError):  # noqa: N818 -- name fixed by house-style.md
    """No complete answer line arrived within the per-request timeout."""


class AdapterCrashed(AdapterError):  # noqa: N818 -- name fixed by house-style.md
    """The IUT program exited (or could not be started); ``returncode`` is its exit status when known."""

    def __init__(self, message: str, *, op: str = "", iut_stderr: str = "", returncode: int | None = None) -> None:
        super().__init__(message, op=op, iut_stderr=iut_stderr)
        self.returncode = returncode


class AdapterProtocolError(AdapterError):
    """The answer broke the wire protocol: not UTF-8, not JSON, too long, wrong shape, or an extra answer.

    The message says exactly what was wrong and, for a shape error, which field (as a JSON path like
    ``$.results[0].handle``).
    """


class AdapterRefused(AdapterError):  # noqa: N818 -- named like its siblings
    """The IUT answered ``{"ok": false, "error": ...}``: it did not understand a request the suite considers valid.

    ``error`` is the IUT's own text.
    """

    def __init__(self, error: str, *, op: str = "", iut_stderr: str = "") -> None:
        super().__init__(f"IUT refused the request: {error}", op=op, iut_stderr=iut_stderr)
        self.error = error


class AdapterLoadError(Exception):
    """``--iut NAME[:ARGUMENT]`` names no installed adapter, or its entry point cannot be imported or created.

    A configuration fault of the person running the suite: reported before any check runs, not as a finding.
    """
