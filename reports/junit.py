"""``junit.xml``: one testcase per clause, for CI viewers (Jenkins, GitLab, GitHub test reporters).

Mapping, chosen so that CI goes red exactly when the run's exit status is non-zero: FAIL -> ``<failure>`` carrying
every counterexample of the clause as text; ERROR -> ``<error>``; UNSUPPORTED and NOT-EXERCISED -> ``<skipped>`` with
the reason; NON-STRICT passes, its counterexamples in ``<system-out>`` (a SHOULD is reported, never a red build).
ElementTree escapes markup; ``xml_safe`` removes the control characters XML cannot carry.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from reports.model import NOT_EXERCISED, ClauseResult, Counterexample, Report
from reports.text import xml_safe


def counterexample_text(cx: Counterexample) -> str:
    """The counterexample as plain text: what CI shows under a failing test."""
    f = cx.finding
    lines = [
        f"{cx.id}: {f.clause} {f.verdict.value} ({f.level}) in {f.test_id}",
        f.message,
        f"expected: {cx.flags_line('expected')}",
        f"observed: {cx.flags_line('observed')}",
    ]
    lines += [
        f"  {row.field}: expected {row.expected}, observed {row.observed}{'  <-- differs' if row.mismatch else ''}"
        for row in cx.rows
    ]
    if f.reading:
        lines.append(f"reading: {f.reading}")
    if f.frame_hex is not None:
        lines.append(f"frame ({len(cx.frame)} bytes): {f.frame_hex}")
    if f.observed_frame_hex is not None and f.observed_frame_hex != f.frame_hex:
        lines.append(f"observed frame: {f.observed_frame_hex}")
    if f.steps:
        lines.append("steps:")
        lines += [f"  {i}. {s}" for i, s in enumerate(f.steps, start=1)]
    if f.reproduce:
        lines.append(f"reproduce: {f.reproduce}")
    return "\n".join(lines)


def _clause_text(clause: ClauseResult, by_id: dict[str, Counterexample]) -> str:
    parts = [counterexample_text(by_id[i]) for i in clause.counterexamples]
    if not parts:
        parts.append(f"{clause.info.id}: verdict {clause.verdict}; counts {dict(clause.by_verdict)}")
    return "\n\n".join(parts)


def junit_tree(report: Report) -> ET.ElementTree[ET.Element]:
    by_id = {cx.id: cx for cx in report.counterexamples}
    rs = report.run_start
    suite_name = xml_safe(f"ipsecov2-conformance: {rs.iut_name} {rs.iut_version}")
    counts = report.counts()
    root = ET.Element("testsuites", name="ipsecov2-conformance")
    suite = ET.SubElement(
        root,
        "testsuite",
        name=suite_name,
        tests=str(len(report.clauses)),
        failures=str(counts["FAIL"]),
        errors=str(counts["ERROR"]),
        skipped=str(counts["UNSUPPORTED"] + counts[NOT_EXERCISED]),
        timestamp=xml_safe(rs.started_at),
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("iut.name", rs.iut_name),
        ("iut.version", rs.iut_version),
        ("iut.spec", rs.iut_spec),
        ("suite.version", rs.suite_version),
        ("hypothesis.profile", rs.hypothesis_profile),
        ("hypothesis.seed", "" if rs.seed is None else str(rs.seed)),
        ("status", report.status),
        ("headline", report.headline),
    ):
        ET.SubElement(props, "property", name=name, value=xml_safe(value))
    for clause in report.clauses:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=xml_safe(clause.info.section),
            name=xml_safe(clause.info.id),
            assertions=str(clause.checks),
        )
        text = xml_safe(_clause_text(clause, by_id))
        if clause.verdict == "FAIL":
            first = by_id[clause.counterexamples[0]].finding.message if clause.counterexamples else "FAIL"
            ET.SubElement(case, "failure", message=xml_safe(first), type="FAIL").text = text
        elif clause.verdict == "ERROR":
            errs = [e for e in report.errors if e.clause == clause.info.id]
            detail = "\n".join(f"{e.kind}: {e.message}\n{e.stderr_tail}" for e in errs)
            ET.SubElement(case, "error", message=xml_safe(errs[0].message if errs else "ERROR"), type="ERROR").text = (
                xml_safe(detail) or text
            )
        elif clause.verdict == "UNSUPPORTED":
            ET.SubElement(case, "skipped", message="UNSUPPORTED: the IUT did not report the capability")
        elif clause.not_observable:
            why = xml_safe(f"NOT OBSERVABLE through the adapter protocol: {clause.info.scope_reason}")
            ET.SubElement(case, "skipped", message=why)
        elif clause.verdict == NOT_EXERCISED:
            ET.SubElement(case, "skipped", message="NOT EXERCISED: no example checked this clause")
        elif clause.verdict == "NON-STRICT":
            ET.SubElement(case, "system-out").text = "NON-STRICT (not a failure)\n" + text
    run_errors = [e for e in report.errors if e.clause is None]
    if run_errors:
        case = ET.SubElement(suite, "testcase", classname="harness", name="adapter and harness errors")
        detail = "\n\n".join(f"{e.kind}: {e.message} ({e.test_id})\n{e.stderr_tail}" for e in run_errors)
        ET.SubElement(case, "error", message=xml_safe(run_errors[0].message), type="ERROR").text = xml_safe(detail)
        suite.set("tests", str(len(report.clauses) + 1))
        suite.set("errors", str(counts["ERROR"] + 1))
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(report: Report, path: Path) -> None:
    junit_tree(report).write(path, encoding="utf-8", xml_declaration=True)
