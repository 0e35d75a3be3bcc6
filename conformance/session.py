"""One conformance session: an IUT, its reported capabilities, and the results file every judgement streams into.

The pytest plugin makes one ``IutSession`` per run; each suite test hands it scenarios (``check``). The session keeps
per-clause counts (flushed as ``check`` records), writes a ``finding`` record for every counterexample (the one
Hypothesis replays after shrinking is marked final), writes ``error`` records for adapter failures and lets the run go
on, and raises a per-clause exception (``conformance.failures``) so Hypothesis shrinks each violated clause on its own.
"""

from __future__ import annotations

import datetime as _dt
import shlex
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.adapters.base import Adapter
from conformance.driver import ScenarioDriver, ScenarioOutcome
from conformance.failures import raise_for
from conformance.steps import Step
from conformance.verdicts import Finding, Verdict
from reference_model.clauses import all_clauses, scope_of, section_heading
from reference_model.ndis import Hello
from reference_model.profile import InterpretationProfile
from reports import records

MAX_ERRORS_PER_TEST = 20
"""After this many adapter errors in one test the rest are counted, not written one by one."""


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _is_final_example() -> bool:
    """True while Hypothesis replays the shrunk counterexample (or outside Hypothesis)."""
    try:
        from hypothesis.control import current_build_context

        return bool(current_build_context().is_final)
    except Exception:
        return True


@dataclass(slots=True, kw_only=True)
class SessionConfig:
    """What a run was asked to do; enough to write a reproduction command."""

    iut_spec: str
    hypothesis_profile: str = "default"
    seed: int | None = None
    timeout: float = 5.0
    interpretation_path: str | None = None
    command: tuple[str, ...] = ()
    reproduce: str | None = None
    """The reproduction command, when it is not a ``run`` (e.g. ``judge`` of an offline pack)."""


@dataclass(slots=True)
class _Tally:
    count: int = 0
    shapes: Counter[str] = field(default_factory=Counter)


class IutSession:
    """Drives scenarios against one IUT and streams what it finds."""

    def __init__(
        self,
        config: SessionConfig,
        adapter: Adapter,
        hello: Hello,
        profile: InterpretationProfile,
        writer: records.ResultsWriter | None,
    ) -> None:
        self.config = config
        self.adapter = adapter
        self.hello = hello
        self.profile = profile
        self.writer = writer
        self.driver = ScenarioDriver(adapter, hello.capabilities, profile)
        self._tallies: dict[tuple[str, str, Verdict], _Tally] = {}
        self._recorded: set[tuple[str, str]] = set()
        self._errors: Counter[str] = Counter()
        self.frames_judged = 0
        self.scenarios = 0
        self.worst: Verdict = Verdict.PASS
        self.fail_count = 0
        self.error_count = 0

    # -- records -------------------------------------------------------------------------------------------------

    def _write(self, record: records.Record) -> None:
        if self.writer is not None:
            self.writer.write(record)

    def start(self) -> None:
        self._write(
            records.RunStart(
                iut_name=self.hello.name,
                iut_version=self.hello.version,
                capabilities=self.hello.capabilities.to_json(),
                iut_spec=self.config.iut_spec,
                suite_version=_suite_version(),
                interpretation_profile=self.profile.to_dict(),
                hypothesis_profile=self.config.hypothesis_profile,
                seed=self.config.seed,
                command=self.config.command,
                started_at=now(),
            )
        )
        # Sections carry the spec's heading ("3.2 Receive path: clauses"); the catalogue keeps spec order, which the
        # reports keep. Scope says whether a run can exercise the clause at all (reference_model.clauses.scope_of).
        self._write(
            records.ClauseCatalogue(
                clauses=tuple(
                    records.ClauseInfo(
                        id=c.id,
                        level=_record_level(c.level),
                        section=section_heading(c.section),
                        summary=c.summary,
                        scope=(scope := scope_of(c.id)).kind.value,
                        scope_reason=scope.reason,
                    )
                    for c in all_clauses()
                )
            )
        )

    def unsupported(self, clauses: Sequence[str], test_id: str, why: str) -> None:
        """The IUT did not report the capability these clauses need: UNSUPPORTED, never a failure."""
        for clause in clauses:
            self._tally(test_id, clause, Verdict.UNSUPPORTED, ())

    def reproduce_command(self, test_id: str) -> str:
        if self.config.reproduce is not None:
            return self.config.reproduce
        parts = ["ipsecov2-conformance", "run", "--iut", self.config.iut_spec]
        parts += ["--profile", self.config.hypothesis_profile]
        if self.config.seed is not None:
            parts += ["--seed", str(self.config.seed)]
        if self.config.interpretation_path:
            parts += ["--interpretation", self.config.interpretation_path]
        name = test_id.rsplit("::", maxsplit=1)[-1].split("[", maxsplit=1)[0]
        parts += ["-k", name]
        return shlex.join(parts)

    def _tally(self, test_id: str, clause: str, verdict: Verdict, shapes: Sequence[str] | Counter[str]) -> None:
        tally = self._tallies.setdefault((test_id, clause, verdict), _Tally())
        tally.count += 1
        tally.shapes.update(shapes)

    def flush(self) -> None:
        """Write the aggregated counts as ``check`` records (called at the end of each test and of the run)."""
        for (test_id, clause, verdict), tally in sorted(self._tallies.items(), key=lambda kv: kv[0][:2]):
            self._write(
                records.Check(
                    clause=clause,
                    verdict=records.Verdict(verdict.value),
                    count=tally.count,
                    test_id=test_id,
                    shapes=dict(tally.shapes),
                )
            )
        self._tallies.clear()

    def finish(self, status: str = "complete") -> int:
        self.flush()
        code = self.exit_code()
        self._write(
            records.RunEnd(
                ended_at=now(),
                status=status,
                exit_code=code,
                stats={
                    "frames_judged": self.frames_judged,
                    "scenarios": self.scenarios,
                    "errors": self.error_count,
                    "restarts": int(getattr(self.adapter, "restarts", 0) or 0),
                },
            )
        )
        return code

    def exit_code(self) -> int:
        """0 conformant, 1 any FAIL, 2 any ERROR (an unreliable run outranks a failing one)."""
        if self.error_count:
            return 2
        if self.fail_count:
            return 1
        return 0

    # -- checking ------------------------------------------------------------------------------------------------

    def check(self, steps: Sequence[Step], *, test_id: str) -> ScenarioOutcome:
        """Run one scenario, record everything, and raise the per-clause exception of its worst finding."""
        return self.record(self.driver.run(steps), test_id=test_id)

    def record(self, outcome: ScenarioOutcome, *, test_id: str) -> ScenarioOutcome:
        """Tally and stream what one scenario showed; raise the per-clause exception of its worst finding."""
        self.scenarios += 1
        self.frames_judged += outcome.frames_judged
        failed_clauses = {f.clause: f.verdict for f in outcome.findings}
        for clause, count in outcome.checked.items():
            if clause in failed_clauses:
                continue
            shapes = outcome.shapes.get(clause, Counter())
            tally = self._tallies.setdefault((test_id, clause, Verdict.PASS), _Tally())
            tally.count += count
            tally.shapes.update(shapes)
        if outcome.error is not None:
            self._record_error(outcome, test_id)
        if outcome.findings:
            final = _is_final_example()
            for finding in outcome.findings:
                self._tally(test_id, finding.clause, finding.verdict, finding.shape)
                key = (test_id, finding.clause)
                if final or key not in self._recorded:
                    self._recorded.add(key)
                    self._write(self._finding_record(finding, outcome, test_id, final=final))
                if finding.verdict is Verdict.FAIL and final:
                    self.fail_count += 1
                if finding.verdict.rank > self.worst.rank:
                    self.worst = finding.verdict
            if any(f.verdict is Verdict.FAIL for f in outcome.findings):
                # Count failures even when the run is interrupted before the final replay.
                self.fail_count = max(self.fail_count, 1)
            raise_for(outcome.findings)
        return outcome

    def _record_error(self, outcome: ScenarioOutcome, test_id: str) -> None:
        assert outcome.error is not None
        self.error_count += 1
        self.worst = Verdict.ERROR
        self._errors[test_id] += 1
        self._tally(test_id, outcome.error.clause, Verdict.ERROR, ())
        if self._errors[test_id] <= MAX_ERRORS_PER_TEST:
            stderr = getattr(self.adapter, "stderr_text", "")
            self._write(
                records.ErrorRecord(
                    message=outcome.error.message,
                    test_id=test_id,
                    kind="adapter",
                    stderr_tail=stderr() if callable(stderr) else str(stderr or ""),
                )
            )
        elif self._errors[test_id] == MAX_ERRORS_PER_TEST + 1:
            self._write(
                records.ErrorRecord(
                    message=f"more than {MAX_ERRORS_PER_TEST} adapter errors in this test; further ones are counted",
                    test_id=test_id,
                    kind="adapter",
                )
            )

    def _finding_record(
        self, finding: Finding, outcome: ScenarioOutcome, test_id: str, *, final: bool
    ) -> records.Finding:
        steps = outcome.log if finding.step is None else outcome.log[: finding.step + 1]
        return records.Finding(
            clause=finding.clause,
            level=_record_level(finding.level),
            verdict=records.Verdict(finding.verdict.value),
            message=finding.message,
            expected=_jsonable(finding.expected),
            observed=_jsonable(finding.observed),
            test_id=test_id,
            expected_info=finding.expected_info,
            observed_info=finding.observed_info,
            frame_hex=finding.frame.hex() if finding.frame else None,
            observed_frame_hex=finding.observed_frame.hex() if finding.observed_frame is not None else None,
            sa_table=finding.sa_table,
            steps=tuple(steps),
            trace=finding.trace,
            shape=finding.shape,
            reading=finding.reading,
            reproduce=self.reproduce_command(test_id),
            final=final,
        )


def _record_level(level: str) -> str:
    """The clause registry also has IETF/READING/SUMMARY levels; reports know the strengths of section 0.1."""
    return level if level in records.LEVELS else "INTERPRETATION" if level == "READING" else "DERIVED"


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, bytes):
            out[key] = value.hex()
        elif isinstance(value, (frozenset, set, tuple)):
            out[key] = [v.hex() if isinstance(v, bytes) else v for v in value]
        else:
            out[key] = value
    return out


def _suite_version() -> str:
    try:
        from importlib.metadata import version

        return version("ipsecov2-conformance")
    except Exception:
        return "0+unknown"
