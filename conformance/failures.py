"""One exception type per clause, so Hypothesis reports (and shrinks) each failing clause on its own.

Hypothesis tells distinct bugs apart by the type and origin of the exception. If every conformance failure raised the
same ``AssertionError`` from the same line, an IUT that breaks two clauses would show one, hidden behind the other.
``violation(clause)`` builds (once) a subclass named after the clause, e.g. ``Violation_RX_CRYPTODONE_SET``.
"""

from __future__ import annotations

from collections.abc import Sequence

from conformance.verdicts import Finding, Verdict


class ClauseViolation(AssertionError):  # noqa: N818 -- a failing check, as pytest names them
    """The IUT violated ``clause`` in the example Hypothesis is running (a conformance failure, not a crash)."""

    clause: str = ""


_TYPES: dict[str, type[ClauseViolation]] = {}


def violation(clause: str) -> type[ClauseViolation]:
    cls = _TYPES.get(clause)
    if cls is None:
        name = "Violation_" + "".join(ch if ch.isalnum() else "_" for ch in clause)
        cls = type(name, (ClauseViolation,), {"clause": clause, "__module__": __name__})
        _TYPES[clause] = cls
    return cls


def most_severe(findings: Sequence[Finding]) -> Finding | None:
    """The finding to raise: FAIL before NON-STRICT, then the first in order (deterministic for shrinking)."""
    problems = [f for f in findings if f.verdict in (Verdict.FAIL, Verdict.NON_STRICT)]
    if not problems:
        return None
    return min(problems, key=lambda f: (f.verdict is not Verdict.FAIL, f.clause))


def raise_for(findings: Sequence[Finding]) -> None:
    finding = most_severe(findings)
    if finding is not None:
        others = sorted({f.clause for f in findings} - {finding.clause})
        extra = f" (also violated in this example: {', '.join(others)})" if others else ""
        raise violation(finding.clause)(finding.message + extra)
