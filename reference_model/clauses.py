"""The registry of spec clause IDs (``RX-``, ``OOB-``, ``CAP-``, ``SA-``, ``TX-``, ``IETF-``, ``AMB-`` prefixes).

Why a registry: every finding, test marker and report row names a clause, and a typo in an ID would silently create a
clause nobody can look up. The registry is generated from the spec by ``tools/extract_clauses.py`` into
``clauses.json`` (package data, shipped in the wheel) and checked for drift against the spec by
``tests/test_clauses.py``, so it is the spec's own list of IDs, not a second hand-kept copy.

Reading the JSON is the only I/O here: it is package data read through :mod:`importlib.resources`, lazily on first use.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "Clause",
    "ClauseLevel",
    "UnknownClauseError",
    "all_clauses",
    "clause",
    "clause_ids",
    "is_clause",
    "section_of",
]

PREFIXES = ("RX", "OOB", "CAP", "SA", "TX", "IETF", "AMB")
"""Clause-ID prefixes of spec section 0.1, in spec order."""


class ClauseLevel(StrEnum):
    """The strength of a clause as the registry records it.

    The first five are the spec's strength labels (section 0.1). The others name clauses that carry no strength of
    their own: ``IETF`` protocol facts (section 7), ``READING`` interpretation choices (AMB-*, section 8) and the
    ``SUMMARY`` of the send path (TX-*, section 6).
    """

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"
    V1_INHERITED = "V1-INHERITED"
    DERIVED = "DERIVED"
    IETF = "IETF"
    READING = "READING"
    SUMMARY = "SUMMARY"


@dataclass(frozen=True, slots=True, kw_only=True)
class Clause:
    """One clause of the spec: its ID, strength, a one-line summary, the source tags it rests on, and where it is.

    ``sources`` are the spec's tags (``MS-RX2``, ``H-SDK``, ...) and RFCs as ``"RFC 4303"``; ``section`` is the spec
    section number as text (``"3.2"``); ``parent`` is set for the rows of a clause's table (the RX-CAPS-* rows have
    parent ``RX-CAPS-CHECK``).
    """

    id: str
    level: ClauseLevel
    summary: str
    sources: tuple[str, ...]
    section: str
    parent: str | None = None

    @property
    def prefix(self) -> str:
        """The area prefix, e.g. ``"RX"`` for ``RX-INDICATE-ALL``."""
        return self.id.split("-", 1)[0]


class UnknownClauseError(KeyError):
    """A clause ID that the spec does not define; the message lists close matches."""

    def __init__(self, clause_id: str, suggestions: tuple[str, ...]) -> None:
        super().__init__(clause_id)
        self.clause_id = clause_id
        self.suggestions = suggestions

    def __str__(self) -> str:
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        return f"unknown clause ID {self.clause_id!r} (not defined in the spec){hint}"


def _clause_from_json(raw: dict[str, Any]) -> Clause:
    return Clause(
        id=str(raw["id"]),
        level=ClauseLevel(raw["level"]),
        summary=str(raw["summary"]),
        sources=tuple(str(s) for s in raw["sources"]),
        section=str(raw["section"]),
        parent=None if raw.get("parent") is None else str(raw["parent"]),
    )


@cache
def _registry() -> dict[str, Clause]:
    text = resources.files(__package__ or "reference_model").joinpath("clauses.json").read_text(encoding="utf-8")
    doc = json.loads(text)
    return {c.id: c for c in map(_clause_from_json, doc["clauses"])}


def all_clauses() -> tuple[Clause, ...]:
    """Every clause, in spec order."""
    return tuple(_registry().values())


def clause_ids() -> frozenset[str]:
    """The set of defined clause IDs."""
    return frozenset(_registry())


def is_clause(clause_id: str) -> bool:
    """Whether ``clause_id`` is defined by the spec."""
    return clause_id in _registry()


def clause(clause_id: str) -> Clause:
    """The clause with this ID; :class:`UnknownClauseError` (a ``KeyError``) naming close matches otherwise."""
    registry = _registry()
    try:
        return registry[clause_id]
    except KeyError:
        close = difflib.get_close_matches(clause_id.upper(), registry, n=3, cutoff=0.6)
        raise UnknownClauseError(clause_id, tuple(close)) from None


def section_of(clause_id: str) -> str:
    """The spec section that defines the clause, e.g. ``"3.2"`` for ``RX-INDICATE-ALL``."""
    return clause(clause_id).section
