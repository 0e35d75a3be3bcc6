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
    "ClauseScope",
    "Scope",
    "UnknownClauseError",
    "all_clauses",
    "clause",
    "clause_ids",
    "is_clause",
    "scope_of",
    "section_heading",
    "section_of",
    "section_title",
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
def _document() -> dict[str, Any]:
    text = resources.files(__package__ or "reference_model").joinpath("clauses.json").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


@cache
def _registry() -> dict[str, Clause]:
    return {c.id: c for c in map(_clause_from_json, _document()["clauses"])}


@cache
def _section_titles() -> dict[str, str]:
    return {str(k): str(v) for k, v in _document().get("sections", {}).items()}


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


def section_title(section: str) -> str:
    """The title of a spec section that holds clauses, from the spec's headings (``"3.2"`` -> ``"Receive path:
    clauses"``, ``"7.1"`` -> ``"IETF: ESP"``). Reports group clauses under it, so a reader sees what ``3.2`` is.

    Derived from the headings by ``tools/extract_clauses.py`` and stored in ``clauses.json`` (drift-checked with the
    clauses). A section without clauses has no entry: ``KeyError``.
    """
    titles = _section_titles()
    if section not in titles:
        raise KeyError(f"spec section {section!r} holds no clause (known: {', '.join(titles)})")
    return titles[section]


def section_heading(section: str) -> str:
    """``"3.2 Receive path: clauses"``: number then title, the group label reports show (spec order, not sorted)."""
    return f"{section} {section_title(section)}"


# --------------------------------------------------------------------------------------------------------------------
# Scope: which clauses a run can exercise at all


class ClauseScope(StrEnum):
    """Whether a clause can be exercised through the adapter protocol (``conformance/adapters``, design
    adapter-protocol.md), i.e. whether any check of the suite can ever cite it.

    ``TESTABLE`` clauses are cited by the model or the driver when they judge a received frame or an SA/offload
    request: a run that does not reach one has left a gap a vendor must see. ``NOT_OBSERVABLE`` clauses are true of a
    NIC but invisible through the protocol (memory layouts, initialization-time behaviour, the send path, protocol
    facts the suite uses to build frames, readings built into other clauses' expectations): no run ever exercises
    them, and reports list them apart, quietly, so they do not drown the testable gaps.
    """

    TESTABLE = "testable"
    NOT_OBSERVABLE = "not-observable"


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    kind: ClauseScope
    reason: str
    """One line a report shows beside the clause."""


TESTABLE_REASON = "judged through the adapter protocol: cited by the model's checks of frames or SA/offload requests"

NOT_OBSERVABLE: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "structure layout and constants: the adapter protocol carries the decoded slot values, and a wrong value is "
        "judged under the RX-* clause it breaks",
        ("OOB-*", "CAP-02", "CAP-03", "CAP-04"),
    ),
    (
        "order inside the miniport (OOB slot written before the NBL is indicated): the adapter reports both at once",
        ("RX-OOB-BEFORE-INDICATE",),
    ),
    (
        "initialization-time behaviour (miniport attributes, registry keywords), before the adapter's hello",
        ("CAP-INIT-ATTRIBUTES", "CAP-READ-KEYWORDS"),
    ),
    (
        "checked once on the capabilities reported at hello: a run refuses contradictory ones before any example",
        ("CAP-CONSISTENCY", "CAP-TUNNEL-TRUE", "CAP-ENCAP-8023"),
    ),
    (
        "the protocol cannot express it: set_offload takes only valid settings, and the IUT starts with "
        "OID_OFFLOAD_ENCAPSULATION already set",
        ("CAP-OFFLOAD-PARAMS-INVALID", "CAP-RX-ACTIVATE-ENCAP"),
    ),
    (
        "NDIS plumbing of the SA OIDs (direct OID path, which OIDs a version supports, ADD_SA_EX): the adapter "
        "protocol has one add_sa request with ADD_SA list semantics",
        ("SA-DIRECT-OID", "SA-OID-SUPPORT-VERSION", "SA-ADD-EX-SEMANTICS"),
    ),
    (
        "layout of the add-SA structures: the suite sends well-formed entries and the protocol carries them decoded",
        ("SA-AH-ENTRY", "SA-ESP-ENTRY", "SA-KEY-LAYOUT"),
    ),
    ("a duty of the transport, which the suite itself plays", ("SA-DELETE-REQ-TWO-OIDS",)),
    ("send path: the adapter protocol has no transmit request (the suite covers the receive path)", ("TX-*",)),
    (
        "protocol fact the suite uses to build and check frames; a NIC's error shows under the RX-* clause it breaks",
        ("IETF-*",),
    ),
    (
        "an interpretation built into other clauses' expectations (or a profile switch); no check cites it alone",
        (
            "AMB-01",
            "AMB-02",
            "AMB-03",
            "AMB-04",
            "AMB-05",
            "AMB-06",
            "AMB-10",
            "AMB-11",
            "AMB-12",
            "AMB-13",
            "AMB-14",
            "AMB-15",
            "AMB-18",
            "AMB-19",
            "AMB-20",
            "AMB-21",
            "AMB-22",
            "AMB-23",
            "AMB-25",
        ),
    ),
)
"""Clauses no run can exercise, one group per reason. Every other clause is ``TESTABLE``.

``tests/test_clauses.py`` keeps this table honest against the code: the testable clauses are exactly the clause IDs
that ``reference_model/`` and ``conformance/`` cite as string literals (the ones a constraint or a request judgement
can carry), so a new check citing a clause here, or a clause losing its last check, fails the test.
``ID-*`` names every clause with that prefix."""


def _matches(clause_id: str, pattern: str) -> bool:
    return clause_id.startswith(pattern[:-1]) if pattern.endswith("-*") else clause_id == pattern


def scope_of(clause_id: str) -> Scope:
    """Whether ``clause_id`` can be exercised through the adapter protocol, with the one-line reason
    (``UnknownClauseError`` for an ID the spec does not define)."""
    clause(clause_id)
    for reason, patterns in NOT_OBSERVABLE:
        if any(_matches(clause_id, p) for p in patterns):
            return Scope(kind=ClauseScope.NOT_OBSERVABLE, reason=reason)
    return Scope(kind=ClauseScope.TESTABLE, reason=TESTABLE_REASON)
