"""Verdicts and findings: what the judge concludes about one clause on one observation.

A conformance failure of the IUT is data (a ``Finding``), never an exception that escapes the judge (house style).
Verdicts are ordered so that "worst wins" is ``max``: PASS < UNSUPPORTED < NON-STRICT < FAIL < ERROR.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Verdict(Enum):
    """The verdicts of the architecture (section Verdicts)."""

    PASS = "PASS"
    UNSUPPORTED = "UNSUPPORTED"
    NON_STRICT = "NON-STRICT"
    FAIL = "FAIL"
    ERROR = "ERROR"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def is_problem(self) -> bool:
        """FAIL, NON-STRICT and ERROR are reported as counterexamples; PASS and UNSUPPORTED are not."""
        return self in (Verdict.FAIL, Verdict.NON_STRICT, Verdict.ERROR)


_RANK = {Verdict.PASS: 0, Verdict.UNSUPPORTED: 1, Verdict.NON_STRICT: 2, Verdict.FAIL: 3, Verdict.ERROR: 4}


def worst(verdicts: list[Verdict]) -> Verdict:
    return max(verdicts, key=lambda v: v.rank) if verdicts else Verdict.PASS


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One clause judged on one observation, with everything a person needs to act on it."""

    clause: str
    level: str
    verdict: Verdict
    message: str
    expected: dict[str, Any] = field(default_factory=dict)
    observed: dict[str, Any] = field(default_factory=dict)
    frame: bytes = b""
    observed_frame: bytes | None = None
    expected_info: int | None = None
    observed_info: int | None = None
    trace: tuple[str, ...] = ()
    shape: tuple[str, ...] = ()
    reading: str | None = None
    sa_table: tuple[dict[str, Any], ...] = ()
    """The SA table (as ``SaTableRow.to_json()``) when the finding was made."""
    step: int | None = None
    """Index of the scenario step that produced it (into the scenario's step log)."""
