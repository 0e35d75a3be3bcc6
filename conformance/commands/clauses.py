"""``ipsecov2-conformance clauses``: list the spec clauses the suite knows (the registry in ``reference_model``).

Why it exists: reports and failing tests cite clause IDs; this lets a vendor look one up (``clauses RX-NO-SA-NO-OOB``)
or list a whole area (``clauses --prefix RX- --level MUST``) without opening the spec.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence

from conformance.commands import UserError
from reference_model.clauses import Clause, ClauseLevel, UnknownClauseError, all_clauses, clause

NAME = "clauses"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    levels = ", ".join(level.value for level in ClauseLevel)
    parser = subparsers.add_parser(
        NAME,
        help="list the spec clauses (ID, level, section, summary)",
        description="List the clauses of the IPsecOV2 spec that findings and reports refer to.",
    )
    parser.add_argument("ids", nargs="*", metavar="ID", help="show only these clause IDs")
    parser.add_argument(
        "--level",
        action="append",
        default=[],
        metavar="LEVEL",
        help=f"keep clauses of this level (repeatable or comma-separated; one of {levels})",
    )
    parser.add_argument(
        "--prefix", action="append", default=[], metavar="PREFIX", help="keep IDs starting with PREFIX, e.g. RX-"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON array instead of a table")
    return parser


def _levels(values: Sequence[str]) -> frozenset[ClauseLevel]:
    out: set[ClauseLevel] = set()
    for value in values:
        for part in filter(None, (p.strip().upper() for p in value.split(","))):
            try:
                out.add(ClauseLevel(part))
            except ValueError:
                valid = ", ".join(level.value for level in ClauseLevel)
                raise UserError(f"unknown level {part!r}; choose from {valid}") from None
    return frozenset(out)


def select(ids: Sequence[str], levels: Sequence[str], prefixes: Sequence[str]) -> list[Clause]:
    """The clauses the options name, in spec order (or in the order given, for explicit IDs)."""
    try:
        chosen = [clause(i.strip().upper()) for i in ids] if ids else list(all_clauses())
    except UnknownClauseError as exc:
        raise UserError(str(exc)) from None
    wanted_levels = _levels(levels)
    if wanted_levels:
        chosen = [c for c in chosen if c.level in wanted_levels]
    wanted_prefixes = tuple(p.upper() for p in prefixes)
    if wanted_prefixes:
        chosen = [c for c in chosen if c.id.startswith(wanted_prefixes)]
    return chosen


def as_json(clauses: Iterable[Clause]) -> str:
    rows = [
        {
            "id": c.id,
            "level": c.level.value,
            "section": c.section,
            "summary": c.summary,
            "sources": list(c.sources),
            "parent": c.parent,
        }
        for c in clauses
    ]
    return json.dumps(rows, indent=2, ensure_ascii=False)


def as_table(clauses: Sequence[Clause]) -> str:
    header = ("ID", "LEVEL", "SECTION", "SUMMARY")
    rows = [header, *((c.id, c.level.value, c.section, c.summary) for c in clauses)]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join([*(r[i].ljust(widths[i]) for i in range(3)), r[3]]).rstrip() for r in rows]
    lines.append(f"{len(clauses)} clause(s)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    chosen = select(args.ids, args.level, args.prefix)
    print(as_json(chosen) if args.json else as_table(chosen))
    return 0
