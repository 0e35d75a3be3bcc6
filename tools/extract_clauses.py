#!/usr/bin/env python3
"""Parse the spec markdown (``shared/spec/ipsec-offload-v2.md``) into ``reference_model/clauses.json``.

Why a generator instead of a hand-written table: the spec is the single source of truth for clause IDs, strengths and
sources, and the suite cites those IDs in code, findings and reports. Generating the registry and checking it for drift
in the test suite (``tests/test_clauses.py``) means a spec edit can never silently leave the registry stale.

The spec defines clauses in five shapes, each handled below:

* ``### OOB-01 Title`` / ``### 4.2 CAP-02 Title`` headings (layout and constant tables);
* ``**RX-...** — rule`` paragraphs followed by ``- Strength: ...`` and ``Source: ...`` bullets (RX, CAP, SA, IETF);
* ``- **TX-...** — rule (MS-TX2).`` bullets (send-path summary);
* ``| RX-CAPS-... | property | capability | strength |`` rows of the RX-CAPS-CHECK table;
* ``**AMB-01 Title.** reading`` paragraphs.

Usage::

    python tools/extract_clauses.py [--spec PATH] [--out PATH] [--check]

``--check`` exits 1 when the committed JSON differs from a fresh extraction (what CI and the drift test do).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "reference_model" / "clauses.json"
SPEC_RELATIVE = Path("spec") / "ipsec-offload-v2.md"

LEVELS = ("MUST", "SHOULD", "MAY", "V1-INHERITED", "DERIVED")
"""Strength labels of spec section 0.1, in the order they are tried when reading a ``Strength:`` line."""

PREFIX_LEVELS = {"IETF": "IETF", "AMB": "READING", "TX": "SUMMARY"}
"""Prefixes whose clauses carry no ``Strength:`` line: IETF facts, AMB readings, and the TX summary of section 6."""

HEADING_LEVEL_OVERRIDES = {"OOB-06": "V1-INHERITED"}
"""Heading clauses (layout/constant tables) are MUST by default: they define what the miniport reads and writes.
OOB-06 describes the version-1 structure that shares slot 1, so it is V1-INHERITED like the rules built on it."""

ID_RE = r"(?:RX|OOB|CAP|SA|TX|IETF|AMB)-[A-Z0-9]+(?:-[A-Z0-9]+)*"
SECTION_RE = re.compile(r"^(#{2,3}) (?:(\d+(?:\.\d+)*)\.? )?(.*)$")
HEADING_CLAUSE_RE = re.compile(r"^((?:OOB|CAP)-\d+) (.+)$")
BOLD_CLAUSE_RE = re.compile(r"^(- )?\*\*((?:RX|CAP|SA|TX|IETF)-[A-Z0-9]+(?:-[A-Z0-9]+)*)\*\*(?: \(([^)]*)\))? — (.*)$")
AMB_RE = re.compile(r"^\*\*(AMB-\d+) (.+?)\*\*\s*(.*)$")
CAPS_ROW_RE = re.compile(r"^\| (RX-CAPS-[A-Z0-9-]+) \| (.*?) \| (.*?) \| (.*?) \|\s*$")
TAG_TABLE_RE = re.compile(r"^\| ((?:MS|H)-[A-Z0-9-]+) \|")
TAG_RUN_RE = re.compile(r"\b(?:MS|H)-[A-Z0-9]+(?:-[A-Z0-9]+)*(?:/(?:(?:MS|H)-)?[A-Z0-9]+(?:-[A-Z0-9]+)*)*")
RFC_RE = re.compile(r"\bRFC (\d{3,5})\b")
SENTENCE_END_RE = re.compile(r"(?<!e\.g)(?<!i\.e)(?<!\bvs)\.(?=\s|$)")
REFERENCE_RE = re.compile(ID_RE + r"(?![-*A-Za-z0-9])")
SUMMARY_MAX = 160

CHAPTER_SHORT_TITLES = {"7": "IETF"}
"""Chapter titles too long to lead each subsection title (``7.1 IETF: ESP``); the chapter keeps its full title."""
PARENTHETICAL_RE = re.compile(r"\s*\(([^()]*)\)$")

SUMMARY_OVERRIDES = {
    "IETF-ESP-PAD": "ESP padding: block-size multiple, 4-byte alignment of the trailer, default pad bytes 1, 2, 3, …",
    "IETF-REPLAY": "Anti-replay: sliding window over validated sequence numbers, done by the transport, not the NIC",
    "IETF-ESN-SEQH": "Inferring the ESN high-order 32 bits from the received low bits and the replay window",
    "IETF-HMAC": "HMAC-MD5-96, HMAC-SHA-1-96 and HMAC-SHA-256-128: key sizes and truncated ICV lengths",
    "IETF-AH-MUTABLE-V4": "IPv4 base-header fields included, predicted or zeroed for the AH ICV",
    "IETF-AH-MUTABLE-V6": "IPv6 header fields and options included, predicted or zeroed for the AH ICV",
}
"""Where the first sentence of a clause is only a lead-in to a list, a one-line summary in our own words."""


def spec_path_candidates(repo_root: Path = REPO_ROOT) -> list[Path]:
    """Where the spec may be: ``$IPSECOV2_SHARED/spec`` first, then ``shared/`` beside the clone (CI layout)."""
    out: list[Path] = []
    env = os.environ.get("IPSECOV2_SHARED")
    if env:
        out.append(Path(env) / SPEC_RELATIVE)
    out.append(repo_root.parent / "shared" / SPEC_RELATIVE)
    return out


def find_spec(repo_root: Path = REPO_ROOT) -> Path | None:
    """The first existing spec file among :func:`spec_path_candidates`, or ``None``."""
    for candidate in spec_path_candidates(repo_root):
        if candidate.is_file():
            return candidate
    return None


def known_tags(lines: Sequence[str]) -> frozenset[str]:
    """Source tags defined in the tables of spec section 0.3 (``| MS-RX2 | ...`` and ``| H-SDK | ...``)."""
    return frozenset(m.group(1) for line in lines if (m := TAG_TABLE_RE.match(line)))


def source_tags(text: str, tags: frozenset[str]) -> list[str]:
    """Source tags cited in ``text``, in order of first appearance.

    Handles the spec's abbreviations: ``MS-OID-ADD/ADDEX/DEL/UPD`` expands to four tags, ``MS-ADD/MS-ADDEX`` to two.
    RFCs are returned as ``RFC NNNN``. Unknown ``MS-``/``H-`` tokens are ignored (they are not source tags).
    """
    found: list[tuple[int, str]] = []
    for m in TAG_RUN_RE.finditer(text):
        parts = m.group(0).split("/")
        first = parts[0]
        # The regex is greedy over hyphens; trim to the longest known tag (e.g. "MS-RX2" inside "MS-RX2-like").
        while first not in tags and "-" in first[3:]:
            first = first.rsplit("-", 1)[0]
        if first not in tags:
            continue
        found.append((m.start(), first))
        stem = first.rsplit("-", 1)[0]
        for part in parts[1:]:
            for candidate in (part, f"{stem}-{part}"):
                if candidate in tags:
                    found.append((m.start(), candidate))
                    break
    found.extend((m.start(), f"RFC {m.group(1)}") for m in RFC_RE.finditer(text))
    found.sort(key=lambda pair: pair[0])
    return _unique(tag for _, tag in found)


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


def one_line(text: str) -> str:
    """``text`` as a plain one-line summary: no markdown, first sentence, at most ``SUMMARY_MAX`` characters."""
    text = " ".join(text.replace("`", "").replace("**", "").split())
    m = SENTENCE_END_RE.search(text)
    if m:
        text = text[: m.end()]
    text = text.rstrip(".:; ")
    if len(text) > SUMMARY_MAX:
        cut = text.rfind(" ", 0, SUMMARY_MAX - 1)
        text = text[: cut if cut > 0 else SUMMARY_MAX - 1].rstrip(",;:( ") + "…"
    return text


def strength_level(text: str) -> str:
    """The level a ``Strength:`` value starts with (``MUST (report) / MAY (fail)`` is MUST: the stronger part leads)."""
    value = text.strip()
    for level in LEVELS:
        if value.startswith(level):
            return level
    raise ValueError(f"cannot read a strength level from {text!r}")


def _paragraph(lines: Sequence[str], start: int, *, bullet: bool) -> list[str]:
    """Lines of the clause defined at ``start``: up to a blank line (or the next ``- **`` bullet for TX items)."""
    out = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.strip() or (bullet and line.startswith("- **")) or line.startswith("**"):
            break
        out.append(line)
    return out


def _section_body(lines: Sequence[str], start: int) -> list[str]:
    """Lines after a heading up to the next heading of level 2 or 3."""
    out: list[str] = []
    for line in lines[start + 1 :]:
        if SECTION_RE.match(line):
            break
        out.append(line)
    return out


def chapter_title(title: str) -> str:
    """A ``##`` heading's title without its clause-prefix hint: ``SA management (SA-*)`` -> ``SA management``,
    ``Send path and LSO (summary, TX-*)`` -> ``Send path and LSO (summary)``."""
    title = title.replace("`", "").strip()
    m = PARENTHETICAL_RE.search(title)
    if m is None:
        return title
    kept = [part for part in m.group(1).split(", ") if not part.endswith("-*")]
    base = title[: m.start()]
    return f"{base} ({', '.join(kept)})" if kept else base


def subsection_title(title: str) -> str:
    """A ``###`` heading's title as the second half of a group title: no markup, no leading clause ID, no trailing
    parenthetical (``ESP (RFC 4303)`` -> ``ESP``), and a lower-case first word unless it is an acronym."""
    title = PARENTHETICAL_RE.sub("", title.replace("`", "").strip())
    if hm := HEADING_CLAUSE_RE.match(title):
        title = hm.group(2)
    if len(title) > 1 and title[0].isupper() and title[1].islower():
        title = title[0].lower() + title[1:]
    return title


def section_titles(spec_text: str) -> dict[str, str]:
    """Every numbered section of the spec -> the title a report shows beside the number, in spec order.

    Chapters (``##``) keep their own title (``Receive path``); subsections (``###``) are named after their chapter
    (``Receive path: clauses``) because their own titles (``Clauses``, ``Algorithms``) say little on their own.
    """
    titles: dict[str, str] = {}
    chapter = ""
    for line in spec_text.splitlines():
        m = SECTION_RE.match(line)
        if m is None or m.group(2) is None:
            continue
        hashes, number, title = m.groups()
        if hashes == "##":
            titles[number] = chapter_title(title)
            chapter = CHAPTER_SHORT_TITLES.get(number, titles[number])
        else:
            titles[number] = f"{chapter}: {subsection_title(title)}"
    return titles


def extract(spec_text: str) -> list[dict[str, Any]]:
    """Every clause the spec defines, in spec order, as JSON-ready dicts.

    Keys: ``id``, ``level``, ``summary``, ``sources`` (list of tags), ``section`` (e.g. ``"3.2"``), ``parent``
    (``"RX-CAPS-CHECK"`` for the rows of its table, else ``None``).
    """
    lines = spec_text.splitlines()
    tags = known_tags(lines)
    clauses: list[dict[str, Any]] = []
    chapter = section = ""
    section_rfcs: list[str] = []
    caps_table_sources: list[str] = []

    def add(cid: str, level: str, summary: str, sources: list[str], parent: str | None = None) -> None:
        if any(c["id"] == cid for c in clauses):
            raise ValueError(f"clause {cid} is defined twice in the spec")
        summary = SUMMARY_OVERRIDES.get(cid, summary)
        clauses.append(
            {"id": cid, "level": level, "summary": summary, "sources": sources, "section": section, "parent": parent}
        )

    for i, line in enumerate(lines):
        if m := SECTION_RE.match(line):
            hashes, number, title = m.groups()
            if hashes == "##":
                chapter = number or ""
                section = chapter
            else:
                section = number or chapter
            section_rfcs = [f"RFC {n}" for n in RFC_RE.findall(title)]
            if hm := HEADING_CLAUSE_RE.match(title):
                cid, heading = hm.groups()
                body = "\n".join(_section_body(lines, i))
                add(cid, HEADING_LEVEL_OVERRIDES.get(cid, "MUST"), one_line(heading), source_tags(body, tags))
            continue
        if line.startswith("Explicit and derived applications of RX-CAPS-CHECK"):
            caps_table_sources = source_tags(line, tags)
            continue
        if m := CAPS_ROW_RE.match(line):
            cid, prop, capability, strength = m.groups()
            capability = capability.split(" (", 1)[0].removeprefix("present in ").removeprefix("matching ")
            summary = one_line(f"{prop[:1].upper()}{prop[1:]}: processed only if the NIC reports {capability}")
            sources = _unique([*caps_table_sources, *source_tags(strength, tags)])
            add(cid, strength_level(strength), summary, sources, parent="RX-CAPS-CHECK")
            continue
        if m := AMB_RE.match(line):
            cid, title, _ = m.groups()
            amb_text = "\n".join(_paragraph(lines, i, bullet=False))
            add(cid, PREFIX_LEVELS["AMB"], one_line(title), source_tags(amb_text, tags))
            continue
        if m := BOLD_CLAUSE_RE.match(line):
            bullet, cid, qualifier, _ = m.groups()
            para = _paragraph(lines, i, bullet=bullet is not None)
            prefix = cid.split("-", 1)[0]
            rule_lines = [para[0].split(" — ", 1)[1]]
            for extra in para[1:]:
                if extra.startswith("- ") or extra.startswith("|"):
                    break
                rule_lines.append(extra)
            rule = " ".join(rule_lines)
            if qualifier:
                rule = f"({qualifier}) {rule}"
            if prefix in PREFIX_LEVELS:
                level = PREFIX_LEVELS[prefix]
                sources = source_tags("\n".join(para), tags)
                if prefix == "IETF":
                    sources = _unique([*sources, *section_rfcs])
            else:
                meta = [x for x in para if x.startswith("- Strength:") or x.startswith("- Source:")]
                strength_lines = [x for x in meta if x.startswith("- Strength:")]
                if not strength_lines:
                    raise ValueError(f"clause {cid} has no Strength line")
                level = strength_level(strength_lines[0].removeprefix("- Strength:"))
                sources = source_tags("\n".join(meta), tags)
            add(cid, level, one_line(_drop_trailing_citation(rule)), sources)
    return clauses


def _drop_trailing_citation(rule: str) -> str:
    """Remove a trailing ``(MS-TX2)``-style parenthetical that only names sources (TX bullets end with one)."""
    return re.sub(r"\s*\((?:(?:MS|H)-[A-Z0-9-]+(?:, )?)+\)\.?\s*$", ".", rule.strip())


def undefined_references(spec_text: str, defined: Iterable[str]) -> list[str]:
    """Clause-ID tokens used in the spec text that no clause defines (wildcards like ``RX-CAPS-*`` excluded)."""
    ids = set(defined)
    return sorted({m.group(0) for m in REFERENCE_RE.finditer(spec_text)} - ids)


def render(clauses: list[dict[str, Any]], spec_name: str, sections: dict[str, str] | None = None) -> str:
    """The JSON text written to ``clauses.json`` (stable formatting so diffs stay readable).

    ``sections`` (from :func:`section_titles`) is cut down to the sections that hold a clause, in spec order.
    """
    used = {c["section"] for c in clauses}
    doc = {
        "generated_by": "tools/extract_clauses.py",
        "spec": spec_name,
        "count": len(clauses),
        "sections": {number: title for number, title in (sections or {}).items() if number in used},
        "clauses": clauses,
    }
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--spec", type=Path, help="spec markdown (default: $IPSECOV2_SHARED/spec or ../shared/spec)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON to write (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if --out is out of date")
    args = parser.parse_args(argv)
    spec = args.spec or find_spec()
    if spec is None:
        print("extract_clauses: spec not found; pass --spec or set IPSECOV2_SHARED", file=sys.stderr)
        return 2
    text = spec.read_text(encoding="utf-8")
    clauses = extract(text)
    missing = undefined_references(text, (c["id"] for c in clauses))
    if missing:
        print(f"extract_clauses: spec references undefined clause IDs: {', '.join(missing)}", file=sys.stderr)
    rendered = render(clauses, spec.name, section_titles(text))
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        if current != rendered:
            print(f"extract_clauses: {args.out} is out of date; rerun tools/extract_clauses.py", file=sys.stderr)
            return 1
        print(f"extract_clauses: {args.out} is up to date ({len(clauses)} clauses)")
        return 0
    args.out.write_text(rendered, encoding="utf-8")
    print(f"extract_clauses: wrote {len(clauses)} clauses to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
