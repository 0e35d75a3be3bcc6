"""The judge: Observation vs Expectation -> Findings.

For one received frame the model gives alternatives (``Expectation.outcomes``). If the IUT's indications satisfy any
of them, every clause that alternative rests on passes. Otherwise the judge takes the closest alternative (fewest
strict violations, then fewest violations, then the primary) and reports each clause it violates, once, with every
violated field: a MUST clause is FAIL, anything weaker (SHOULD, V1-INHERITED, DERIVED, an AMB-* reading) NON-STRICT.

This runs once per frame, thousands of times a second, so the satisfied case does no allocation beyond the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from conformance.verdicts import Finding, Verdict
from reference_model.constants import NdisStatus
from reference_model.expectation import Constraint, Expectation, Level, ObservedField, Outcome, StatusExpectation
from reference_model.ndis import Indication, ReceiveInfo

MAX_FRAME_IN_MESSAGE = 64
"""Frames are shown truncated (with their length) in messages; the report has the full hex."""


@dataclass(frozen=True, slots=True)
class Judgement:
    """The clauses an observation exercised and the findings among them that are not PASS."""

    checked: frozenset[str]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.findings


def _verdict_for(level: Level) -> Verdict:
    return Verdict.FAIL if level.strict else Verdict.NON_STRICT


def _show(field: ObservedField, value: object) -> object:
    """A JSON-friendly, bounded rendering of a field value."""
    if isinstance(value, bytes):
        text = value[:MAX_FRAME_IN_MESSAGE].hex()
        return text + ("…" if len(value) > MAX_FRAME_IN_MESSAGE else "") + f" ({len(value)} bytes)"
    if field is ObservedField.HEADER_INFO and isinstance(value, tuple):
        return {"next_header": value[0], "pad_length": value[1]}
    return value


def _allowed(constraint: Constraint) -> object:
    values = [_show(constraint.field, v) for v in constraint.allowed]
    values.sort(key=lambda v: (v is None, str(v)))
    return values[0] if len(values) == 1 else values


def _closest(outcomes: Sequence[Outcome], indications: Sequence[Indication]) -> tuple[Outcome, list[Constraint]]:
    best: tuple[int, int, int] | None = None
    chosen: tuple[Outcome, list[Constraint]] | None = None
    for index, outcome in enumerate(outcomes):
        violated = outcome.violations(indications)
        if not violated:
            return outcome, violated
        score = (sum(1 for c in violated if c.level.strict), len(violated), index)
        if best is None or score < best:
            best, chosen = score, (outcome, violated)
    assert chosen is not None, "an Expectation has at least one outcome"
    return chosen


def judge_receive(expectation: Expectation, frame: bytes, indications: Sequence[Indication]) -> Judgement:
    """Judge what the IUT indicated for ``frame`` against what the model expects."""
    outcome, violated = _closest(expectation.outcomes, indications)
    checked = frozenset(c.clause for c in outcome.constraints)
    if not violated:
        return Judgement(checked, ())
    by_clause: dict[str, list[Constraint]] = {}
    for constraint in violated:
        by_clause.setdefault(constraint.clause, []).append(constraint)
    first = indications[0] if indications else None
    observed_info = first.info if first is not None else None
    expected_info = expectation.reference.info if expectation.reference is not None else None
    findings = []
    for clause, constraints in by_clause.items():
        level = min((c.level for c in constraints), key=lambda lv: not lv.strict)
        expected = {c.field.value: _allowed(c) for c in constraints}
        observed = {c.field.value: _show(c.field, c.value_of(indications)) for c in constraints}
        why = "; ".join(dict.fromkeys(c.why for c in constraints))
        reading = next((c.reading for c in constraints if c.reading), None)
        message = f"{clause}: {why} (expected {_render(expected)}, observed {_render(observed)})"
        if observed_info is not None:
            message += f"; observed receive info: {ReceiveInfo.unpack(observed_info).describe()}"
        findings.append(
            Finding(
                clause=clause,
                level=level.value,
                verdict=_verdict_for(level),
                message=message,
                expected=expected,
                observed=observed,
                frame=frame,
                observed_frame=first.frame if first is not None else None,
                expected_info=expected_info,
                observed_info=observed_info,
                trace=(*expectation.trace, f"judged against: {outcome.label}"),
                shape=expectation.shape,
                reading=reading,
            )
        )
    return Judgement(checked, tuple(findings))


def _render(values: dict[str, object]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def judge_status(expectation: StatusExpectation, status: NdisStatus, *, request: str) -> Judgement:
    """Judge the final status of one request (SA-*, CAP-* clauses)."""
    if status in expectation.allowed:
        return Judgement(frozenset({expectation.clause}), ())
    if status in expectation.also_allowed:
        return Judgement(frozenset({expectation.clause}), ())
    allowed = sorted(s.name for s in expectation.allowed | expectation.also_allowed)
    finding = Finding(
        clause=expectation.clause,
        level=expectation.level.value,
        verdict=_verdict_for(expectation.level),
        message=f"{expectation.clause}: {request} answered {status.name}; {expectation.why} (allowed: {allowed})",
        expected={"status": allowed},
        observed={"status": status.name},
    )
    return Judgement(frozenset({expectation.clause}), (finding,))


def error_finding(message: str, *, clause: str = "ADAPTER", trace: tuple[str, ...] = ()) -> Finding:
    """An infrastructure failure (timeout, crash, malformed answer): verdict ERROR, never blamed on conformance."""
    return Finding(clause=clause, level="ERROR", verdict=Verdict.ERROR, message=message, trace=trace)
