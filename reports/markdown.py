"""``summary.md`` (headline and clause table, for a pull request or a ticket) and ``coverage.md``.

Every string from the IUT or a frame goes through ``md_escape``/``md_code``: Markdown viewers render inline HTML.
"""

from __future__ import annotations

from pathlib import Path

from reports.model import NOT_EXERCISED, ClauseResult, Report
from reports.text import md_code, md_escape

VERDICT_MARK = {
    "PASS": "✅ PASS",
    "FAIL": "❌ FAIL",
    "NON-STRICT": "⚠️ NON-STRICT",
    "UNSUPPORTED": "➖ UNSUPPORTED",
    "ERROR": "💥 ERROR",
    NOT_EXERCISED: "❔ NOT EXERCISED",
}
NOT_OBSERVABLE_MARK = "➖ not observable"
"""Shown instead of NOT EXERCISED for a clause no run can observe through the adapter protocol."""


def _mark(c: ClauseResult) -> str:
    return NOT_OBSERVABLE_MARK if c.not_observable else VERDICT_MARK.get(c.verdict, c.verdict)


def _by_reason(clauses: tuple[ClauseResult, ...]) -> list[str]:
    """One bullet per reason, naming its clauses (first-seen order)."""
    groups: dict[str, list[str]] = {}
    for c in clauses:
        groups.setdefault(c.info.scope_reason, []).append(md_code(c.info.id))
    return [f"- {' '.join(ids)} — {md_escape(reason or 'no reason given')}" for reason, ids in groups.items()]


def summary_markdown(report: Report) -> str:
    rs = report.run_start
    counts = report.counts()
    counts[NOT_EXERCISED] = len(report.unexercised)
    out = [
        f"# IPsecOV2 conformance: {md_escape(rs.iut_name)} {md_escape(rs.iut_version)}",
        "",
        f"**{md_escape(report.headline)}**",
        "",
        f"- IUT: {md_code(rs.iut_spec or rs.iut_name)}, version {md_code(rs.iut_version)}",
        f"- Suite {md_escape(rs.suite_version)}; Hypothesis profile {md_code(rs.hypothesis_profile)}, "
        f"seed {md_code(str(rs.seed))}; run {md_escape(report.status)}",
        "- Clauses: "
        + ", ".join(f"{n} {md_escape(v)}" for v, n in counts.items() if n)
        + (f", {len(report.not_observable)} not observable" if report.not_observable else ""),
        f"- Counterexamples: {len(report.counterexamples)}; errors: {len(report.errors)}",
        "",
    ]
    for warning in report.warnings:
        out.append(f"> ⚠️ {md_escape(warning)}")
    if report.warnings:
        out.append("")
    for section, clauses in report.sections():
        out += [
            f"## {md_escape(section)}",
            "",
            "| Clause | Level | Verdict | Checks | Counterexamples |",
            "|---|---|---|---:|---|",
        ]
        for c in clauses:
            out.append(
                f"| {md_code(c.info.id)} | {md_escape(c.info.level)} | {_mark(c)} "
                f"| {c.checks} | {', '.join(c.counterexamples) or '—'} |"
            )
        out.append("")
    if report.counterexamples:
        out += ["## Counterexamples", ""]
        for cx in report.counterexamples:
            f = cx.finding
            out.append(f"- **{cx.id}** {md_code(f.clause)} {VERDICT_MARK[f.verdict.value]}: {md_escape(f.message)}")
            out.append(f"  - expected {md_code(cx.flags_line('expected'))}")
            out.append(f"  - observed {md_code(cx.flags_line('observed'))}")
            if f.reproduce:
                out.append(f"  - reproduce: {md_code(f.reproduce)}")
        out.append("")
    unexercised = report.unexercised
    testable = len(report.clauses) - len(report.not_observable)
    if unexercised:
        out.append(
            f"**{len(unexercised)} of {testable} testable clauses were NEVER EXERCISED:** "
            + ", ".join(md_code(c.info.id) for c in unexercised)
        )
        out.append("")
    if report.not_observable:
        out += [
            f"_{len(report.not_observable)} clauses are not observable through the adapter protocol"
            " (no run can exercise them; not gaps):_",
            "",
            *_by_reason(report.not_observable),
            "",
        ]
    return "\n".join(out)


def coverage_markdown(report: Report) -> str:
    """Per clause: how many checks, their verdicts, and the packet shapes; unexercised clauses listed first, loudly."""
    rs = report.run_start
    out = [f"# Coverage: {md_escape(rs.iut_name)} {md_escape(rs.iut_version)}", ""]
    unexercised = report.unexercised
    testable = len(report.clauses) - len(report.not_observable)
    if unexercised:
        out += [f"## ❔ NOT EXERCISED: {len(unexercised)} of {testable} testable clauses", ""]
        out += [
            f"- {md_code(c.info.id)} ({md_escape(c.info.level)}) — {md_escape(c.info.summary)}" for c in unexercised
        ]
        out.append("")
    else:
        out += ["Every testable clause in the catalogue was exercised.", ""]
    if report.not_observable:
        out += [
            f"## Not observable through the adapter protocol: {len(report.not_observable)} clauses",
            "",
            "No run can exercise these; they are listed so the count adds up, not as gaps.",
            "",
            *_by_reason(report.not_observable),
            "",
        ]
    out += ["## Checks per clause", "", "| Clause | Checks | Verdicts | Packet shapes |", "|---|---:|---|---|"]
    for c in report.clauses:
        verdicts = ", ".join(f"{md_escape(v)} {n}" for v, n in c.by_verdict.items()) or "—"
        shapes = ", ".join(f"{md_escape(t)} {n}" for t, n in c.shapes.items()) or "—"
        verdicts = "not observable" if c.not_observable else verdicts
        out.append(f"| {md_code(c.info.id)} | {c.checks} | {verdicts} | {shapes} |")
    out.append("")
    return "\n".join(out)


def write_markdown(report: Report, out_dir: Path) -> None:
    (out_dir / "summary.md").write_text(summary_markdown(report), encoding="utf-8")
    (out_dir / "coverage.md").write_text(coverage_markdown(report), encoding="utf-8")
