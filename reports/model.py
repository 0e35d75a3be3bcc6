"""From records to one report: verdict per clause (worst wins), counterexamples, coverage, and ``report.json``.

Every writer (HTML, Markdown, JUnit, pcapng) renders this one ``Report``, so the formats can never disagree about a
verdict. ``Report.to_json()`` is ``report.json``: ordering is fixed (catalogue order for clauses, then a stable sort for
counterexamples) and nothing in it depends on when or where it was built, so rebuilding from the same results file
gives byte-identical output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reports.records import (
    Check,
    ClauseCatalogue,
    ClauseInfo,
    ErrorRecord,
    Finding,
    Record,
    ResultsFile,
    RunEnd,
    RunStart,
    Verdict,
    worst,
)
from reports.rxinfo import FIELDS, DecodedInfo, crypto_status_name, decode_info

REPORT_SCHEMA_VERSION = 1
NOT_EXERCISED = "NOT-EXERCISED"
"""The verdict shown for a catalogue clause no example checked: not a pass, and said loudly."""
UNCATALOGUED_SECTION = "Clauses not in the catalogue"


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldRow:
    """One line of the expected-vs-observed table of a counterexample."""

    field: str
    expected: str
    """What a conforming NIC may give (``—`` when the model says nothing about this field)."""
    reference: str
    """What the reference NIC indicates (decoded from ``expected_info``)."""
    observed: str
    mismatch: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "expected": self.expected,
            "reference": self.reference,
            "observed": self.observed,
            "mismatch": self.mismatch,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Counterexample:
    id: str
    """``CX-1``, ``CX-2``... in report order; the pcapng comments and the JUnit text use the same ids."""
    finding: Finding
    expected_info: DecodedInfo | None
    observed_info: DecodedInfo | None
    rows: tuple[FieldRow, ...]

    @property
    def frame(self) -> bytes:
        return bytes.fromhex(self.finding.frame_hex or "")

    @property
    def observed_frame(self) -> bytes | None:
        hx = self.finding.observed_frame_hex
        return None if hx is None else bytes.fromhex(hx)

    def flags_line(self, which: str) -> str:
        """``expected`` or ``observed`` receive info in one line (falls back to the field dict)."""
        info = self.expected_info if which == "expected" else self.observed_info
        if info is not None:
            return info.describe()
        values = self.finding.expected if which == "expected" else self.finding.observed
        if not values:
            return "(nothing)"
        return " ".join(f"{k}={show_value(k, v)}" for k, v in sorted(values.items()))

    def to_json(self) -> dict[str, Any]:
        f = self.finding
        return {
            "id": self.id,
            "clause": f.clause,
            "level": f.level,
            "verdict": f.verdict.value,
            "message": f.message,
            "test_id": f.test_id,
            "final": f.final,
            "reading": f.reading,
            "fields": [row.to_json() for row in self.rows],
            "expected": dict(f.expected),
            "observed": dict(f.observed),
            "expected_info": None if self.expected_info is None else self.expected_info.to_json(),
            "observed_info": None if self.observed_info is None else self.observed_info.to_json(),
            "frame_hex": f.frame_hex,
            "frame_length": len(self.frame) if f.frame_hex is not None else None,
            "observed_frame_hex": f.observed_frame_hex,
            "sa_table": [dict(r) for r in f.sa_table],
            "steps": list(f.steps),
            "trace": list(f.trace),
            "shape": list(f.shape),
            "reproduce": f.reproduce,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ClauseResult:
    info: ClauseInfo
    verdict: str
    """A ``Verdict`` value or ``NOT-EXERCISED``."""
    checks: int
    by_verdict: Mapping[str, int]
    shapes: Mapping[str, int]
    counterexamples: tuple[str, ...]
    in_catalogue: bool

    @property
    def exercised(self) -> bool:
        return self.verdict != NOT_EXERCISED

    @property
    def not_observable(self) -> bool:
        """Unexercised, and no run could have exercised it (catalogue scope ``not-observable``)."""
        return not self.exercised and not self.info.observable

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.info.id,
            "level": self.info.level,
            "section": self.info.section,
            "summary": self.info.summary,
            "verdict": self.verdict,
            "checks": self.checks,
            "by_verdict": dict(self.by_verdict),
            "shapes": dict(self.shapes),
            "counterexamples": list(self.counterexamples),
            "in_catalogue": self.in_catalogue,
            "scope": self.info.scope,
            "scope_reason": self.info.scope_reason,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    run_start: RunStart
    run_end: RunEnd | None
    clauses: tuple[ClauseResult, ...]
    counterexamples: tuple[Counterexample, ...]
    errors: tuple[ErrorRecord, ...]
    warnings: tuple[str, ...]

    @property
    def status(self) -> str:
        """``complete``, ``interrupted`` (the run said so) or ``partial`` (the file ends without ``run_end``)."""
        return "partial" if self.run_end is None else self.run_end.status

    @property
    def partial(self) -> bool:
        return self.status != "complete"

    @property
    def overall(self) -> Verdict | None:
        verdicts = [Verdict(c.verdict) for c in self.clauses if c.exercised]
        if self.errors:
            verdicts.append(Verdict.ERROR)
        return worst(verdicts)

    @property
    def exit_code(self) -> int:
        """0 conformant, 1 any FAIL, 2 any ERROR (architecture, Verdicts), recomputed from the records."""
        overall = self.overall
        if overall is Verdict.ERROR:
            return 2
        return 1 if overall is Verdict.FAIL else 0

    @property
    def headline(self) -> str:
        overall = self.overall
        fails = sum(1 for c in self.clauses if c.verdict == Verdict.FAIL.value)
        if overall is None:
            text = "NO RESULTS: no clause was checked"
        elif overall is Verdict.ERROR:
            n = len(self.errors)
            text = f"ERROR: the harness or adapter failed ({n} error{'s' if n != 1 else ''}); results are incomplete"
            if fails:
                text += f"; {fails} clause{'s' if fails != 1 else ''} FAIL"
        elif overall is Verdict.FAIL:
            text = f"NOT CONFORMANT: {fails} clause{'s' if fails != 1 else ''} FAIL"
        elif overall is Verdict.NON_STRICT:
            n = sum(1 for c in self.clauses if c.verdict == Verdict.NON_STRICT.value)
            text = f"CONFORMANT, with {n} NON-STRICT finding{'s' if n != 1 else ''} (SHOULD / interpretation)"
        else:
            text = "CONFORMANT: no clause failed"
        if self.partial:
            text += " — PARTIAL RUN (no run_end record)" if self.run_end is None else " — RUN INTERRUPTED"
        return text

    @property
    def unexercised(self) -> tuple[ClauseResult, ...]:
        """Clauses a run can exercise (or of unknown scope) that this one did not: the gaps a vendor must see."""
        return tuple(c for c in self.clauses if not c.exercised and not c.not_observable)

    @property
    def not_observable(self) -> tuple[ClauseResult, ...]:
        """Unexercised clauses no run can observe through the adapter protocol: listed apart, quietly."""
        return tuple(c for c in self.clauses if c.not_observable)

    def sections(self) -> list[tuple[str, list[ClauseResult]]]:
        """Clauses grouped by spec section, in first-seen order."""
        groups: dict[str, list[ClauseResult]] = {}
        for c in self.clauses:
            groups.setdefault(c.info.section, []).append(c)
        return list(groups.items())

    def counts(self) -> dict[str, int]:
        out = {v.value: 0 for v in Verdict}
        out[NOT_EXERCISED] = 0
        for c in self.clauses:
            out[c.verdict] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        rs = self.run_start
        overall = self.overall
        return {
            "report_schema": REPORT_SCHEMA_VERSION,
            "generator": "ipsecov2-conformance reports",
            "suite_version": rs.suite_version,
            "iut": {
                "name": rs.iut_name,
                "version": rs.iut_version,
                "spec": rs.iut_spec,
                "capabilities": dict(rs.capabilities),
            },
            "interpretation_profile": dict(rs.interpretation_profile),
            "hypothesis": {"profile": rs.hypothesis_profile, "seed": rs.seed},
            "command": list(rs.command),
            "started_at": rs.started_at,
            "ended_at": None if self.run_end is None else self.run_end.ended_at,
            "status": self.status,
            "partial": self.partial,
            "recorded_exit_code": None if self.run_end is None else self.run_end.exit_code,
            "exit_code": self.exit_code,
            "stats": {} if self.run_end is None else dict(self.run_end.stats),
            "headline": {"verdict": None if overall is None else overall.value, "text": self.headline},
            "totals": {
                "clauses": len(self.clauses),
                "by_verdict": self.counts(),
                "checks": sum(c.checks for c in self.clauses),
                "counterexamples": len(self.counterexamples),
                "errors": len(self.errors),
            },
            "clauses": [c.to_json() for c in self.clauses],
            "counterexamples": [cx.to_json() for cx in self.counterexamples],
            "errors": [
                {
                    "kind": e.kind,
                    "message": e.message,
                    "clause": e.clause,
                    "test_id": e.test_id,
                    "stderr_tail": e.stderr_tail,
                }
                for e in self.errors
            ],
            "coverage": {
                "exercised": sum(1 for c in self.clauses if c.exercised),
                "unexercised": [c.info.id for c in self.unexercised],
                "not_observable": [c.info.id for c in self.not_observable],
            },
            "warnings": list(self.warnings),
        }


# --------------------------------------------------------------------------------------------------------------------
# Rendering of single values (shared by every writer)


def show_value(field_name: str, value: object) -> str:
    """A field value as a person reads it: CryptoStatus with its name, lists as alternatives, ``None`` as absent."""
    if value is None:
        return "— (not indicated)"
    if isinstance(value, list):
        return " or ".join(show_value(field_name, v) for v in value) if value else "(none allowed)"
    if field_name == "CryptoStatus" and isinstance(value, int) and not isinstance(value, bool):
        return f"{value} {crypto_status_name(value)}"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, dict):
        return ", ".join(f"{k}={show_value(str(k), v)}" for k, v in sorted(value.items()))
    if field_name in ("Reserved", "HighBits") and isinstance(value, int):
        return f"0x{value:x}"
    return str(value)


def _allowed(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else [value]


def _rows(f: Finding, expected: DecodedInfo | None, observed: DecodedInfo | None) -> tuple[FieldRow, ...]:
    exp_info = expected.fields() if expected else {}
    obs_info = observed.fields() if observed else {}
    names: list[str] = []
    if "indications" in f.expected or "indications" in f.observed:
        names.append("indications")
    for name in FIELDS:
        always = name in ("SaDeleteReq", "CryptoDone", "NextCryptoDone", "CryptoStatus") and (expected or observed)
        if always or name in f.expected or name in f.observed or exp_info.get(name) or obs_info.get(name):
            names.append(name)
    names += sorted(k for k in {*f.expected, *f.observed} if k not in names)
    rows = []
    for name in names:
        if name in f.observed:
            obs_value: object = f.observed[name]
        elif name in obs_info:
            obs_value = obs_info[name]
        else:
            obs_value = None
        ref = show_value(name, exp_info[name]) if name in exp_info else "—"
        if name in f.expected:
            exp_text = show_value(name, f.expected[name])
            mismatch = obs_value not in _allowed(f.expected[name])
        else:
            exp_text, mismatch = "—", False
        obs_text = show_value(name, obs_value)
        rows.append(FieldRow(field=name, expected=exp_text, reference=ref, observed=obs_text, mismatch=mismatch))
    return tuple(rows)


# --------------------------------------------------------------------------------------------------------------------
# Aggregation


def _select_findings(findings: Iterable[tuple[int, Finding]]) -> list[tuple[int, Finding]]:
    """Final counterexamples; for a (test, clause) with none, only the last provisional one (the most shrunk)."""
    groups: dict[tuple[str, str], list[tuple[int, Finding]]] = {}
    for item in findings:
        groups.setdefault((item[1].test_id, item[1].clause), []).append(item)
    chosen: list[tuple[int, Finding]] = []
    seen: set[str] = set()
    for items in groups.values():
        finals = [i for i in items if i[1].final]
        for index, finding in finals or items[-1:]:
            key = repr(sorted(finding.to_json().items()))
            if key not in seen:
                seen.add(key)
                chosen.append((index, finding))
    return chosen


def build_report(results: ResultsFile) -> Report:
    """Aggregate the records of one results file into a ``Report`` (never raises on odd but valid records)."""
    warnings = list(results.warnings)
    run_start: RunStart | None = None
    run_end: RunEnd | None = None
    catalogue: list[ClauseInfo] = []
    checks: list[Check] = []
    findings: list[tuple[int, Finding]] = []
    errors: list[ErrorRecord] = []
    record: Record
    for index, record in enumerate(results.records):
        if isinstance(record, RunStart):
            if run_start is not None:
                warnings.append("more than one run_start record; the first one is used")
            else:
                run_start = record
        elif isinstance(record, ClauseCatalogue):
            known = {c.id for c in catalogue}
            catalogue += [c for c in record.clauses if c.id not in known]
        elif isinstance(record, Check):
            checks.append(record)
        elif isinstance(record, Finding):
            findings.append((index, record))
        elif isinstance(record, ErrorRecord):
            errors.append(record)
        elif isinstance(record, RunEnd):
            run_end = record
    if run_start is None:
        warnings.append("the results file has no run_start record: IUT and settings are unknown")
        run_start = RunStart(
            iut_name="unknown",
            iut_version="unknown",
            capabilities={},
            suite_version="unknown",
            interpretation_profile={},
            hypothesis_profile="unknown",
            seed=None,
            command=(),
            started_at="unknown",
        )
    if not catalogue:
        warnings.append("the results file has no clause catalogue: unexercised clauses cannot be listed")

    selected = _select_findings(findings)
    selected.sort(key=lambda item: (-item[1].verdict.severity, item[1].clause, item[0]))
    counterexamples: list[Counterexample] = []
    for number, (_, f) in enumerate(selected, start=1):
        exp = None if f.expected_info is None else decode_info(f.expected_info)
        obs = None if f.observed_info is None else decode_info(f.observed_info)
        counterexamples.append(
            Counterexample(id=f"CX-{number}", finding=f, expected_info=exp, observed_info=obs, rows=_rows(f, exp, obs))
        )

    by_clause: dict[str, dict[str, int]] = {}
    shapes: dict[str, dict[str, int]] = {}
    verdicts: dict[str, list[Verdict]] = {}
    for c in checks:
        counts = by_clause.setdefault(c.clause, {})
        counts[c.verdict.value] = counts.get(c.verdict.value, 0) + c.count
        tags = shapes.setdefault(c.clause, {})
        for tag, n in c.shapes.items():
            tags[tag] = tags.get(tag, 0) + n
        if c.count:
            verdicts.setdefault(c.clause, []).append(c.verdict)
    for _, f in findings:
        verdicts.setdefault(f.clause, []).append(f.verdict)
    for e in errors:
        if e.clause is not None:
            verdicts.setdefault(e.clause, []).append(Verdict.ERROR)

    known_ids = [c.id for c in catalogue]
    infos = {c.id: c for c in catalogue}
    levels = {f.clause: f.level for _, f in findings}
    extra = sorted(set(verdicts) - set(infos))
    for clause_id in extra:
        infos[clause_id] = ClauseInfo(
            id=clause_id, level=levels.get(clause_id, "MUST"), section=UNCATALOGUED_SECTION, summary=""
        )
    if extra and catalogue:
        warnings.append(f"clauses checked but missing from the catalogue: {', '.join(extra)}")

    clauses: list[ClauseResult] = []
    for clause_id in known_ids + extra:
        verdict = worst(verdicts.get(clause_id, ()))
        counts = dict(sorted(by_clause.get(clause_id, {}).items()))
        clauses.append(
            ClauseResult(
                info=infos[clause_id],
                verdict=NOT_EXERCISED if verdict is None else verdict.value,
                checks=sum(counts.values()),
                by_verdict=counts,
                shapes=dict(sorted(shapes.get(clause_id, {}).items())),
                counterexamples=tuple(cx.id for cx in counterexamples if cx.finding.clause == clause_id),
                in_catalogue=clause_id in known_ids,
            )
        )
    errors.sort(key=lambda e: (e.clause or "", e.test_id, e.kind, e.message))
    return Report(
        run_start=run_start,
        run_end=run_end,
        clauses=tuple(clauses),
        counterexamples=tuple(counterexamples),
        errors=tuple(errors),
        warnings=tuple(warnings),
    )


__all__ = [
    "NOT_EXERCISED",
    "REPORT_SCHEMA_VERSION",
    "ClauseResult",
    "Counterexample",
    "FieldRow",
    "Report",
    "build_report",
    "show_value",
]
