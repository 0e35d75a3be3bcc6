"""The report fixtures themselves, and what the report tests expect from them, computed from their records.

The real-run fixtures (``tests/fixtures/regenerate.sh``) change whenever the engine or the suite does; the tests must
keep checking the same properties without editing numbers. Each helper below reads the records with
``reports.records`` only and derives the expectation in the plainest way (sums and sets), independently of
``reports.model``'s aggregation. The other ``test_reports_*`` modules import ``expected`` from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from reports.records import Check, ClauseCatalogue, ClauseInfo, Finding, RunEnd, RunStart, Verdict, read_results

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE_RUN = FIXTURES / "results-reference-run.jsonl"
MUTANT_RUN = FIXTURES / "results-mutant-run.jsonl"


@dataclass(frozen=True, slots=True, kw_only=True)
class Expected:
    catalogue: tuple[ClauseInfo, ...]
    checks: dict[str, int]
    """Clause -> the sum of its ``check`` counts."""
    final_findings: tuple[Finding, ...]
    failing: frozenset[str]
    """Clauses with a FAIL judgement (a finding or a FAIL check)."""
    unexercised: tuple[str, ...]
    """Testable catalogue clauses (or of no scope) with no judgement at all, catalogue order."""
    not_observable: tuple[str, ...]
    """Not-observable catalogue clauses with no judgement, catalogue order."""

    @property
    def framed_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.final_findings if f.frame_hex is not None)

    def scope_reason(self, clause_id: str) -> str:
        return next(c.scope_reason for c in self.catalogue if c.id == clause_id)


def expected(path: Path) -> Expected:
    records = read_results(path).records
    catalogue = next(r for r in records if isinstance(r, ClauseCatalogue)).clauses
    checks: dict[str, int] = {}
    judged: set[str] = set()
    failing: set[str] = set()
    for r in records:
        if isinstance(r, Check):
            checks[r.clause] = checks.get(r.clause, 0) + r.count
            if r.count:
                judged.add(r.clause)
                if r.verdict is Verdict.FAIL:
                    failing.add(r.clause)
        elif isinstance(r, Finding):
            judged.add(r.clause)
            if r.verdict is Verdict.FAIL:
                failing.add(r.clause)
    finals: list[Finding] = []
    for r in records:
        if isinstance(r, Finding) and r.final and r not in finals:
            finals.append(r)
    missing = [c for c in catalogue if c.id not in judged]
    return Expected(
        catalogue=catalogue,
        checks=checks,
        final_findings=tuple(finals),
        failing=frozenset(failing),
        unexercised=tuple(c.id for c in missing if c.scope != "not-observable"),
        not_observable=tuple(c.id for c in missing if c.scope == "not-observable"),
    )


@pytest.mark.parametrize(("path", "iut", "exit_code"), [(REFERENCE_RUN, "reference", 0), (MUTANT_RUN, "mutant:", 1)])
def test_real_run_fixtures_were_written_by_the_cli_and_are_small(path: Path, iut: str, exit_code: int) -> None:
    results = read_results(path)
    assert results.warnings == ()
    start = results.records[0]
    assert isinstance(start, RunStart)
    assert start.iut_spec.startswith(iut)
    assert start.command[1:3] == ("run", "--iut")
    assert (start.hypothesis_profile, start.seed) == ("detect", 0)
    end = results.records[-1]
    assert isinstance(end, RunEnd)
    assert (end.status, end.exit_code) == ("complete", exit_code)
    assert path.stat().st_size < 300_000
    # Written by the current session code: titled sections and a scope for every clause.
    catalogue = next(r for r in results.records if isinstance(r, ClauseCatalogue)).clauses
    assert all(c.scope in ("testable", "not-observable") for c in catalogue)
    assert any(c.section == "3.2 Receive path: clauses" for c in catalogue)


@pytest.mark.clause("RX-CRYPTOSTATUS-RESULT")
def test_mutant_run_fixture_has_failing_counterexamples_with_frames() -> None:
    exp = expected(MUTANT_RUN)
    framed_fails = [f for f in exp.framed_findings if f.verdict is Verdict.FAIL]
    assert len(framed_fails) >= 2, "regenerate.sh: pick a mutant that yields a few FAILs with frames"
    assert any(not f.final for f in read_results(MUTANT_RUN).records if isinstance(f, Finding))
    assert exp.unexercised, "the reference-path suite leaves some testable clauses unexercised"
    assert exp.not_observable
