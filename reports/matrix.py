"""``matrix``: several ``report.json`` files (one per IUT, e.g. a tox run) joined into one clause × IUT table.

Reads only ``report.json`` (nothing else of ours), writes ``matrix.html`` (self-contained, escaped like index.html),
``matrix.md`` and ``matrix.json``. Rows follow the first report's clause order, grouped by spec section; a clause a
report does not know shows as ``—``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reports.html import CSS, badge, e
from reports.markdown import VERDICT_MARK
from reports.text import md_code, md_escape


class MatrixInputError(ValueError):
    """A path given to ``build_matrix`` is not a readable report.json (or a folder holding one)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    label: str
    source: str
    headline: str
    exit_code: int
    partial: bool
    verdicts: Mapping[str, str]
    counterexamples: Mapping[str, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class MatrixSummary:
    out_dir: Path
    files: tuple[Path, ...]
    columns: tuple[str, ...]
    clauses: int
    exit_code: int
    """The worst exit status among the reports (0 conformant, 1 any FAIL, 2 any ERROR)."""


def _load(path: Path) -> tuple[Path, dict[str, Any]]:
    file = path / "report.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MatrixInputError(f"{file}: cannot read a report: {exc}") from None
    if not isinstance(data, dict) or data.get("report_schema") != 1:
        raise MatrixInputError(f"{file}: not a report.json of report_schema 1")
    return file, data


def _column(file: Path, data: Mapping[str, Any], label: str) -> Column:
    verdicts: dict[str, str] = {}
    cxs: dict[str, int] = {}
    for clause in data.get("clauses", []):
        verdicts[str(clause["id"])] = str(clause["verdict"])
        cxs[str(clause["id"])] = len(clause.get("counterexamples", []))
    return Column(
        label=label,
        source=str(file),
        headline=str(data.get("headline", {}).get("text", "")),
        exit_code=int(data.get("exit_code", 2)),
        partial=bool(data.get("partial", True)),
        verdicts=verdicts,
        counterexamples=cxs,
    )


def _labels(loaded: Sequence[tuple[Path, dict[str, Any]]]) -> list[str]:
    labels = []
    for _, data in loaded:
        iut = data.get("iut", {})
        labels.append(str(iut.get("spec") or iut.get("name") or "?"))
    plain = list(labels)
    for i, label in enumerate(plain):  # two runs of the same IUT: tell them apart by their folder
        if plain.count(label) > 1:
            labels[i] = f"{label} ({loaded[i][0].parent.name})"
    return labels


def _rows(loaded: Sequence[tuple[Path, dict[str, Any]]]) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Sections in first-seen order, each with (clause id, level, summary) rows."""
    sections: dict[str, list[tuple[str, str, str]]] = {}
    seen: set[str] = set()
    for _, data in loaded:
        for clause in data.get("clauses", []):
            cid = str(clause["id"])
            if cid in seen:
                continue
            seen.add(cid)
            row = (cid, str(clause.get("level", "")), str(clause.get("summary", "")))
            sections.setdefault(str(clause.get("section", "")), []).append(row)
    return list(sections.items())


def matrix_markdown(columns: Sequence[Column], rows: Sequence[tuple[str, list[tuple[str, str, str]]]]) -> str:
    out = ["# IPsecOV2 conformance matrix", ""]
    out += [f"- {md_code(c.label)}: {md_escape(c.headline)}" for c in columns]
    out.append("")
    head = "| Clause | Level | " + " | ".join(md_code(c.label) for c in columns) + " |"
    sep = "|---|---|" + "---|" * len(columns)
    for section, clauses in rows:
        out += [f"## {md_escape(section)}", "", head, sep]
        for cid, level, _ in clauses:
            cells = []
            for c in columns:
                verdict = c.verdicts.get(cid)
                cell = "—" if verdict is None else VERDICT_MARK.get(verdict, md_escape(verdict))
                if c.counterexamples.get(cid):
                    cell += f" ({c.counterexamples[cid]})"
                cells.append(cell)
            out.append(f"| {md_code(cid)} | {md_escape(level)} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def matrix_html(columns: Sequence[Column], rows: Sequence[tuple[str, list[tuple[str, str, str]]]]) -> str:
    head = "<tr><th>Clause</th><th>Level</th>" + "".join(f"<th>{e(c.label)}</th>" for c in columns) + "</tr>"
    body = []
    for section, clauses in rows:
        body.append(f'<tr class="section"><td colspan="{2 + len(columns)}">{e(section)}</td></tr>')
        for cid, level, summary in clauses:
            cells = []
            for c in columns:
                verdict = c.verdicts.get(cid)
                if verdict is None:
                    cells.append("<td class='muted'>—</td>")
                    continue
                n = c.counterexamples.get(cid, 0)
                extra = f" <span class='muted'>{n}×</span>" if n else ""
                cells.append(f"<td>{badge(verdict)}{extra}</td>")
            body.append(
                f"<tr><td><code>{e(cid)}</code><div class='muted'>{e(summary)}</div></td><td>{e(level)}</td>"
                + "".join(cells)
                + "</tr>"
            )
    heads = "".join(
        f"<li><b>{e(c.label)}</b>: {e(c.headline)} <span class='muted'>({e(c.source)})</span></li>" for c in columns
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>IPsecOV2 conformance matrix</title><style>{CSS}</style></head>\n<body><main>"
        f"<h1>IPsecOV2 conformance matrix</h1><ul>{heads}</ul>"
        f"<table>{head}{''.join(body)}</table></main></body></html>\n"
    )


def build_matrix(report_paths: Sequence[Path], out_dir: Path) -> MatrixSummary:
    """Join reports (``report.json`` files or folders holding one) into ``matrix.html/.md/.json`` in ``out_dir``."""
    if not report_paths:
        raise MatrixInputError("no reports given")
    loaded = [_load(Path(p)) for p in report_paths]
    labels = _labels(loaded)
    columns = [_column(file, data, label) for (file, data), label in zip(loaded, labels, strict=True)]
    rows = _rows(loaded)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = (out_dir / "matrix.html", out_dir / "matrix.md", out_dir / "matrix.json")
    files[0].write_text(matrix_html(columns, rows), encoding="utf-8")
    files[1].write_text(matrix_markdown(columns, rows), encoding="utf-8")
    as_json = {
        "matrix_schema": 1,
        "iuts": [
            {
                "label": c.label,
                "source": c.source,
                "headline": c.headline,
                "exit_code": c.exit_code,
                "partial": c.partial,
            }
            for c in columns
        ],
        "clauses": [
            {
                "id": cid,
                "level": level,
                "section": section,
                "verdicts": {c.label: c.verdicts.get(cid) for c in columns},
            }
            for section, clauses in rows
            for cid, level, _ in clauses
        ],
    }
    files[2].write_text(json.dumps(as_json, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return MatrixSummary(
        out_dir=out_dir,
        files=files,
        columns=tuple(labels),
        clauses=sum(len(c) for _, c in rows),
        exit_code=max(c.exit_code for c in columns),
    )
