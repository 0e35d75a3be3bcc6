"""``index.html``: the one page a person reads first. Self-contained: inline CSS, no script, no network, no fonts.

Every string that came from the IUT, a frame, a test id or the results file goes through ``e()`` (``html.escape`` with
quotes), so a hostile IUT name or version is shown as text and never becomes markup.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from reports.dissect import dissect
from reports.model import NOT_EXERCISED, ClauseResult, Counterexample, Report
from reports.text import hexdump

VERDICT_CLASS = {
    "PASS": "pass",
    "FAIL": "fail",
    "NON-STRICT": "nonstrict",
    "UNSUPPORTED": "unsupported",
    "ERROR": "error",
    NOT_EXERCISED: "unexercised",
}

CSS = """
:root { --fg:#1d2330; --muted:#5b6475; --line:#d9dee7; --bg:#f6f7fa; --card:#fff;
  --pass:#1a7f37; --fail:#c62828; --nonstrict:#a15c00; --unsupported:#6b7280; --error:#7b1fa2; --unexercised:#8a6d00; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color:var(--fg); background:var(--bg); }
main { max-width: 1200px; margin: 0 auto; padding: 20px 24px 60px; }
h1 { font-size: 22px; margin: 0 0 4px; word-break: break-word; }
h2 { font-size: 18px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background:#0f1420; color:#e6e9ef; padding:10px 12px; border-radius:6px; overflow-x:auto; margin:6px 0;
  white-space: pre; }
pre.wrap { white-space: pre-wrap; word-break: break-all; }
.banner { border-radius: 10px; padding: 16px 20px; color:#fff; margin: 12px 0 16px; }
.banner .big { font-size: 20px; font-weight: 700; }
.banner.pass { background: var(--pass); } .banner.fail { background: var(--fail); }
.banner.nonstrict { background: var(--nonstrict); } .banner.error { background: var(--error); }
.banner.unexercised, .banner.unsupported { background: var(--unsupported); }
.partial { background:#fff4d6; border:1px solid #e7c35a; color:#5c4400; padding:8px 12px; border-radius:6px;
  margin: 8px 0; }
.cards { display:flex; gap:10px; flex-wrap:wrap; margin: 8px 0 4px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:8px 14px; min-width:110px; }
.card .n { font-size:20px; font-weight:700; } .card .l { color:var(--muted); font-size:12px; }
table { border-collapse: collapse; width: 100%; background: var(--card); margin: 6px 0; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #eef1f6; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv th { width: 200px; }
tr.section td { background:#e8ecf3; font-weight:700; }
.badge { display:inline-block; padding: 1px 8px; border-radius: 10px; font-weight:700; font-size:12px; color:#fff;
  white-space: nowrap; }
.badge.pass { background:var(--pass); } .badge.fail { background:var(--fail); }
.badge.nonstrict { background:var(--nonstrict); } .badge.unsupported { background:var(--unsupported); }
.badge.error { background:var(--error); } .badge.unexercised { background:var(--unexercised); }
tr.fail td { background:#fdecec; } tr.error td { background:#f6eafa; } tr.nonstrict td { background:#fff6e5; }
tr.unexercised td { background:#fffbe6; }
tr.notobservable td { color: var(--muted); }
.badge.notobservable { background:#c3c8d1; color:#2d3340; font-weight:600; }
.quiet { background:#f0f2f6; border:1px solid var(--line); border-radius:8px; padding:8px 14px; margin:10px 0;
  color: var(--muted); font-size: 13px; }
.quiet ul { margin: 4px 0; padding-left: 20px; } .quiet code { color: var(--fg); }
.muted { color: var(--muted); }
.loud { background:#fff3cd; border:2px solid #d4a000; border-radius:8px; padding:10px 14px; margin:10px 0; }
.loud b { color:#7a5a00; }
.cx { background: var(--card); border:1px solid var(--line); border-left: 6px solid var(--fail); border-radius:8px;
  padding: 4px 18px 14px; margin: 16px 0; }
.cx.nonstrict { border-left-color: var(--nonstrict); } .cx.error { border-left-color: var(--error); }
.cx h3 { font-size: 16px; }
.msg { font-size: 15px; margin: 4px 0 10px; }
table.flags td.mismatch { background:#fde2e2; font-weight:700; color:#8e1b1b; }
table.flags tr.mismatch th { background:#fbd0d0; }
.side { display:grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.flagline { border:1px solid var(--line); border-radius:6px; padding:6px 10px; background:#fafbfc; }
.flagline .t { color:var(--muted); font-size:12px; }
.flagline.obs { border-color:#e9a5a5; background:#fff5f5; }
details > summary { cursor: pointer; color: #2b4c8c; margin: 6px 0; }
.shapes span { display:inline-block; background:#eef1f6; border-radius:4px; padding:0 6px; margin:1px 2px;
  font-size:12px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
a { color:#2b4c8c; }
"""


def e(value: object) -> str:
    """Escape anything for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def badge(verdict: str) -> str:
    label = "NOT EXERCISED" if verdict == NOT_EXERCISED else verdict
    return f'<span class="badge {VERDICT_CLASS.get(verdict, "unsupported")}">{e(label)}</span>'


NOT_OBSERVABLE_BADGE = '<span class="badge notobservable">NOT OBSERVABLE</span>'
"""Shown instead of NOT EXERCISED for a clause no run can observe through the adapter protocol: grey, not amber."""


def clause_badge(c: ClauseResult) -> str:
    """The verdict badge; for a not-observable clause the grey badge, with the reason as its tooltip (the reasons
    are listed once, grouped, above the table, rather than repeated on every row)."""
    if not c.not_observable:
        return badge(c.verdict)
    return NOT_OBSERVABLE_BADGE.replace("<span ", f'<span title="{e(c.info.scope_reason)}" ', 1)


def _kv(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table; values are already HTML."""
    body = "".join(f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="kv">{body}</table>'


def _json_block(value: Mapping[str, Any]) -> str:
    return f'<pre class="wrap">{e(json.dumps(value, indent=2, sort_keys=True))}</pre>'


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _header(report: Report) -> str:
    rs = report.run_start
    overall = report.overall
    cls = VERDICT_CLASS.get(overall.value if overall else NOT_EXERCISED, "unsupported")
    counts = report.counts()
    counts[NOT_EXERCISED] = len(report.unexercised)
    cards = "".join(
        f'<div class="card"><div class="n">{n}</div><div class="l">{badge(v)}</div></div>'
        for v, n in counts.items()
        if n
    )
    if report.not_observable:
        cards += (
            f'<div class="card"><div class="n muted">{len(report.not_observable)}</div>'
            f'<div class="l">{NOT_OBSERVABLE_BADGE}</div></div>'
        )
    cards += (
        f'<div class="card"><div class="n">{len(report.counterexamples)}</div>'
        f'<div class="l">counterexamples</div></div>'
        f'<div class="card"><div class="n">{sum(c.checks for c in report.clauses)}</div>'
        f'<div class="l">checks</div></div>'
    )
    parts = [
        f"<h1>IPsecOV2 receive-path conformance: {e(rs.iut_name)} <span class='muted'>{e(rs.iut_version)}</span></h1>",
        f'<div class="banner {cls}"><div class="big">{e(report.headline)}</div>'
        f"<div>exit status {report.exit_code} · {_n(len(report.clauses), 'clause')} · "
        f"{_n(len(report.counterexamples), 'counterexample')} · {_n(len(report.errors), 'error')}</div></div>",
    ]
    if report.partial:
        parts.append(
            f'<div class="partial"><b>Partial report.</b> The run is {e(report.status)}: '
            "verdicts cover only what was checked before it stopped.</div>"
        )
    for warning in report.warnings:
        parts.append(f'<div class="partial">⚠ {e(warning)}</div>')
    parts.append(f'<div class="cards">{cards}</div>')
    return "\n".join(parts)


def _run_info(report: Report) -> str:
    rs = report.run_start
    ended = "— (no run_end record)" if report.run_end is None else report.run_end.ended_at
    stats = {} if report.run_end is None else dict(report.run_end.stats)
    rows = [
        ("IUT", f"<b>{e(rs.iut_name)}</b> version <code>{e(rs.iut_version)}</code>"),
        ("--iut", f"<code>{e(rs.iut_spec)}</code>"),
        ("Suite version", e(rs.suite_version)),
        ("Hypothesis", f"profile <code>{e(rs.hypothesis_profile)}</code>, seed <code>{e(rs.seed)}</code>"),
        ("Started / ended", f"{e(rs.started_at)} / {e(ended)}"),
        (
            "Status",
            f"{e(report.status)}; recorded exit status "
            f"{e('—' if report.run_end is None else report.run_end.exit_code)}",
        ),
        ("Command", f"<code>{e(' '.join(rs.command))}</code>"),
    ]
    if stats:
        rows.append(("Stats", e(", ".join(f"{k}={v}" for k, v in sorted(stats.items())))))
    rows.append(("Interpretation profile", _json_block(rs.interpretation_profile)))
    caps = f"<details><summary>capabilities the IUT reported</summary>{_json_block(rs.capabilities)}</details>"
    rows.append(("Capabilities", caps))
    return "<h2>Run</h2>" + _kv(rows)


def _shapes(shapes: Mapping[str, int]) -> str:
    return "".join(f"<span>{e(t)}&nbsp;{n}</span>" for t, n in shapes.items()) or '<span class="muted">—</span>'


def _clause_table(report: Report) -> str:
    rows = []
    for section, clauses in report.sections():
        rows.append(f'<tr class="section"><td colspan="6">{e(section)}</td></tr>')
        for c in clauses:
            links = (
                " ".join(f'<a href="#{e(i)}">{e(i)}</a>' for i in c.counterexamples) or '<span class="muted">—</span>'
            )
            counts = ", ".join(f"{e(v)} {n}" for v, n in c.by_verdict.items())
            row_class = "notobservable" if c.not_observable else VERDICT_CLASS.get(c.verdict, "")
            rows.append(
                f'<tr class="{row_class}" id="clause-{e(c.info.id)}">'
                f"<td><code>{e(c.info.id)}</code><div class='muted'>{e(c.info.summary)}</div></td>"
                f"<td>{e(c.info.level)}</td><td>{clause_badge(c)}</td>"
                f'<td class="num">{c.checks}</td><td class="muted">{counts or "—"}</td><td>{links}</td></tr>'
            )
    head = (
        "<tr><th>Clause</th><th>Level</th><th>Verdict</th><th class='num'>Checks</th>"
        "<th>By verdict</th><th>Counterexamples</th></tr>"
    )
    return f'<h2 id="clauses">Clauses</h2><table class="clauses">{head}{"".join(rows)}</table>'


def _unexercised(report: Report) -> str:
    """Loud: testable clauses this run did not reach. Quiet, apart: clauses no run can observe, grouped by reason."""
    parts = []
    missing = report.unexercised
    quiet = report.not_observable
    if missing:
        testable = len(report.clauses) - len(quiet)
        items = ", ".join(f'<a href="#clause-{e(c.info.id)}"><code>{e(c.info.id)}</code></a>' for c in missing)
        parts.append(
            f'<div class="loud"><b>{len(missing)} of {testable} testable clauses were NEVER EXERCISED</b> — no '
            f"example checked them, so this run says nothing about them: {items}</div>"
        )
    if quiet:
        groups: dict[str, list[ClauseResult]] = {}
        for c in quiet:
            groups.setdefault(c.info.scope_reason, []).append(c)
        items = "".join(
            f"<li>{' '.join(f'<code>{e(c.info.id)}</code>' for c in clauses)} — {e(reason or 'no reason given')}</li>"
            for reason, clauses in groups.items()
        )
        parts.append(
            f'<div class="quiet"><b>{len(quiet)} clauses are not observable through the adapter protocol</b> — no run '
            f"can exercise them; listed so the count adds up, not as gaps.<ul>{items}</ul></div>"
        )
    return "\n".join(parts)


def _errors(report: Report) -> str:
    if not report.errors:
        return ""
    items = []
    for err in report.errors:
        tail = f"<pre class='wrap'>{e(err.stderr_tail)}</pre>" if err.stderr_tail else ""
        clause = f" while checking <code>{e(err.clause)}</code>" if err.clause else ""
        items.append(
            f'<div class="cx error"><h3>{badge("ERROR")} {e(err.kind)}{clause}</h3>'
            f'<div class="msg">{e(err.message)}</div><div class="muted">test <code>{e(err.test_id)}</code></div>'
            f"{tail}</div>"
        )
    return "<h2>Adapter and harness errors</h2><p class='muted'>Infrastructure, not conformance.</p>" + "".join(items)


def _sa_table(rows: Iterable[Mapping[str, Any]]) -> str:
    body = []
    for row in rows:
        entry = row.get("entry")
        if not isinstance(entry, Mapping):
            body.append(f"<tr><td colspan='7'>{_json_block(row)}</td></tr>")
            continue
        sas = []
        for sa in entry.get("sec_assoc") or []:
            if not isinstance(sa, Mapping):
                continue
            parts = [f"<b>{e(str(sa.get('operation', '?')).upper())}</b>"]
            spi = sa.get("spi")
            parts.append(f"spi=0x{spi:08x}" if isinstance(spi, int) else f"spi={e(spi)}")
            parts.append(f"esn={e(sa.get('esn'))} seq_hi={e(sa.get('seq_hi'))}")
            for role in ("encryption", "authentication"):
                alg = sa.get(role)
                if isinstance(alg, Mapping):
                    detail = " ".join(f"{k}={v}" for k, v in sorted(alg.items()) if k != "algorithm")
                    parts.append(f"{role[:4]} <b>{e(alg.get('algorithm'))}</b> <span class='mono'>{e(detail)}</span>")
            sas.append(" ".join(parts))
        result = row.get("result")
        status = result.get("status", "") if isinstance(result, Mapping) else "—"
        handle = result.get("handle", "—") if isinstance(result, Mapping) else "—"
        direction = "inbound" if entry.get("inbound") else "outbound"
        family = "IPv6" if entry.get("ipv6") else "IPv4"
        body.append(
            f"<tr><td class='num'>{e(entry.get('sa_id'))}</td><td>{direction} {family}</td>"
            f"<td class='mono'>{e(entry.get('src'))} → {e(entry.get('dst'))}</td>"
            f"<td class='num'>{e(entry.get('udp_esp_encapsulation'))}</td><td>{'<br>'.join(sas)}</td>"
            f"<td>{e(status)}<div class='muted'>handle {e(handle)}</div></td>"
            f"<td>{'deleted' if row.get('deleted') else 'offloaded'}</td></tr>"
        )
    if not body:
        return "<p class='muted'>No SA in force.</p>"
    head = (
        "<tr><th class='num'>sa_id</th><th>Direction</th><th>src → dst</th><th class='num'>UDP-ESP</th>"
        "<th>SecAssoc</th><th>Add result</th><th>State</th></tr>"
    )
    return f"<table>{head}{''.join(body)}</table>"


MAX_DUMP_BYTES = 4096
"""Frames are hex-dumped up to this many bytes; the rest is counted (the whole frame is in report.json)."""
MAX_DISSECTION_CHARS = 20_000


def _frame_block(title: str, frame: bytes) -> str:
    shown = frame[:MAX_DUMP_BYTES]
    d = dissect(shown)
    text = d.text
    if text is not None and len(text) > MAX_DISSECTION_CHARS:
        text = text[:MAX_DISSECTION_CHARS] + f"\n… ({len(text) - MAX_DISSECTION_CHARS} more characters)"
    dissection = (
        f"<details open><summary>dissection (scapy)</summary><pre>{e(text)}</pre></details>"
        if text is not None
        else f"<p class='muted'>No dissection: {e(d.problem)}</p>"
    )
    rest = len(frame) - len(shown)
    more = (
        f"<p class='muted'>… {rest} more bytes not shown (the whole frame is in report.json and failures.pcapng)</p>"
        if rest
        else ""
    )
    return f"<h3>{e(title)} ({len(frame)} bytes)</h3><pre>{e(hexdump(shown))}</pre>{more}{dissection}"


def _counterexample(cx: Counterexample) -> str:
    f = cx.finding
    cls = VERDICT_CLASS.get(f.verdict.value, "fail")
    flag_rows = "".join(
        f'<tr class="{"mismatch" if r.mismatch else ""}"><th>{e(r.field)}</th><td>{e(r.expected)}</td>'
        f"<td>{e(r.reference)}</td>"
        f'<td class="{"mismatch" if r.mismatch else ""}">{e(r.observed)}{" ✗" if r.mismatch else ""}</td></tr>'
        for r in cx.rows
    )
    raw_exp = "—" if cx.expected_info is None else f"0x{cx.expected_info.raw:08x}"
    raw_obs = "—" if cx.observed_info is None else f"0x{cx.observed_info.raw:08x}"
    parts = [
        f'<section class="cx {cls}" id="{e(cx.id)}">',
        f"<h3>{e(cx.id)} · <code>{e(f.clause)}</code> {badge(f.verdict.value)} <span class='muted'>"
        f"{e(f.level)}</span></h3>",
        f'<div class="msg">{e(f.message)}</div>',
        '<div class="side">'
        f'<div class="flagline"><div class="t">expected (reference NIC) · OOB[1] {e(raw_exp)}</div>'
        f"<code>{e(cx.flags_line('expected'))}</code></div>"
        f'<div class="flagline obs"><div class="t">observed (IUT) · OOB[1] {e(raw_obs)}</div>'
        f"<code>{e(cx.flags_line('observed'))}</code></div></div>",
        '<table class="flags"><tr><th>Field</th><th>Conforming values</th><th>Reference NIC</th>'
        f"<th>Observed</th></tr>{flag_rows}</table>",
    ]
    if f.reading:
        parts.append(f"<p>Reading: <code>{e(f.reading)}</code></p>")
    if f.reproduce:
        parts.append(f"<h3>Reproduce</h3><pre class='wrap'>{e(f.reproduce)}</pre>")
    if f.frame_hex is not None:
        parts.append(_frame_block("Frame given to the IUT", cx.frame))
    observed = cx.observed_frame
    if observed is not None and f.observed_frame_hex != f.frame_hex:
        parts.append(_frame_block("Frame the IUT indicated", observed))
    elif observed is not None:
        parts.append("<p class='muted'>The IUT indicated the frame unchanged.</p>")
    parts.append("<h3>SA table</h3>" + _sa_table(f.sa_table))
    if f.steps:
        parts.append("<h3>Scenario steps</h3><ol>" + "".join(f"<li>{e(s)}</li>" for s in f.steps) + "</ol>")
    if f.trace:
        parts.append(
            "<details><summary>model decision trace</summary><ol>"
            + "".join(f"<li>{e(s)}</li>" for s in f.trace)
            + "</ol></details>"
        )
    shape = " ".join(f"<span>{e(s)}</span>" for s in f.shape)
    parts.append(f"<p class='muted'>test <code>{e(f.test_id)}</code> · shape <span class='shapes'>{shape}</span></p>")
    parts.append("</section>")
    return "\n".join(parts)


def _coverage(report: Report) -> str:
    rows = "".join(
        f'<tr class="{"notobservable" if c.not_observable else "" if c.exercised else "unexercised"}">'
        f"<td><code>{e(c.info.id)}</code>{' <span class=muted>(not observable)</span>' if c.not_observable else ''}"
        f'</td><td class="num">{c.checks}</td><td class="shapes">{_shapes(c.shapes)}</td></tr>'
        for c in _coverage_order(report.clauses)
    )
    return (
        '<h2 id="coverage">Coverage</h2><p class="muted">How many checks exercised each clause, and on which packet '
        "shapes. Testable clauses never exercised come first, clauses not observable through the adapter protocol "
        "last.</p>"
        f"<table><tr><th>Clause</th><th class='num'>Checks</th><th>Packet shapes</th></tr>{rows}</table>"
    )


def _coverage_order(clauses: Iterable[ClauseResult]) -> list[ClauseResult]:
    items = list(clauses)
    gaps = [c for c in items if not c.exercised and not c.not_observable]
    return gaps + [c for c in items if c.exercised] + [c for c in items if c.not_observable]


def report_html(report: Report) -> str:
    rs = report.run_start
    cxs = "".join(_counterexample(cx) for cx in report.counterexamples)
    cx_section = (
        f'<h2 id="counterexamples">Counterexamples ({len(report.counterexamples)})</h2>{cxs}'
        if report.counterexamples
        else '<h2 id="counterexamples">Counterexamples</h2><p>None: no clause was violated.</p>'
    )
    body = "\n".join(
        [
            _header(report),
            _unexercised(report),
            _clause_table(report),
            _errors(report),
            cx_section,
            _coverage(report),
            _run_info(report),
            "<footer>Written by ipsecov2-conformance from the run's results file; rebuild with "
            "<code>ipsecov2-conformance report RESULTS.jsonl --out DIR</code>.</footer>",
        ]
    )
    title = f"IPsecOV2 conformance: {rs.iut_name} {rs.iut_version}"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{e(title)}</title><style>{CSS}</style></head>\n<body><main>\n{body}\n</main></body></html>\n"
    )


def write_html(report: Report, path: Path) -> None:
    path.write_text(report_html(report), encoding="utf-8")
