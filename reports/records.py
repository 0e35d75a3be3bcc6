"""The results file: one JSON object per line, streamed by a run, from which every report is rebuilt.

Why a schema of its own: ``reports/`` imports nothing else of ours (architecture, Reports), so a report can be rebuilt
from a results file alone, years later, on a machine without the suite. Everything a report shows must therefore be
*in* these records, already rendered to plain JSON values (strings, ints, lists, dicts).

Every line is an object with ``"type"`` (one of the record types below) and ``"schema": 1``. The JSON Schema of one
line is ``reports/schemas/results-record.schema.json`` (package data). Record types, in the order a run writes them:

``run_start`` (``RunStart``) — once, first: who the IUT is (name, version, the capabilities it reported as a plain
    dict), the suite version, the interpretation profile in force (a dict of the AMB-* switches), the Hypothesis
    profile and seed, the command line, the ``--iut`` argument, and the start time (ISO 8601, UTC).
``clause_catalogue`` (``ClauseCatalogue``) — once, early: every clause the suite knows ({id, level, section,
    summary}, optionally scope and scope_reason), so a report can group clauses by spec section and list the clauses
    nobody exercised — loudly the testable ones, quietly the ones no run can observe.
``check`` (``Check``) — any number: aggregated counts of judgements. ``count`` judgements of ``clause`` came out
    ``verdict`` in test ``test_id``, on frames of the given packet shapes (``{"ipv6": 3, "tunnel": 1}``). A report sums
    all ``check`` records, so a writer may flush partial counts as often as it likes.
``finding`` (``Finding``) — one per counterexample: a clause not satisfied (verdict FAIL, NON-STRICT or ERROR), with
    the expected and observed values field by field, the raw 32-bit receive info both ways, the frame sent and the
    frame indicated (hex), the SA table, the scenario steps, the trace of the model's decision procedure, and the
    command that reproduces it. ``final`` is False for a failing example seen before Hypothesis finished shrinking; a
    report shows those only when no final one exists for the same test and clause (an interrupted run).
``error`` (``ErrorRecord``) — an adapter or infrastructure error (timeout, crash, malformed answer): verdict ERROR,
    never a conformance failure. Carries the message, the test id, the clause if one was being checked, and the tail
    of the IUT's stderr.
``run_end`` (``RunEnd``) — once, last: the end time, ``complete`` or ``interrupted``, and the exit code
    (0 conformant, 1 any FAIL, 2 any ERROR). A file without it is an interrupted run; its report is marked partial.

``read_results`` never raises on a damaged file: a line that is not JSON (a truncated last line) or not a valid record
is skipped and named in ``ResultsFile.warnings``, which every report shows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import IO, Any, ClassVar, Self

SCHEMA_VERSION = 1
"""Version of the results-record format (the ``"schema"`` member of every line)."""

RECORD_SCHEMA_FILE = "results-record.schema.json"
REPORT_SCHEMA_FILE = "report.schema.json"


class RecordFormatError(ValueError):
    """A results line does not have the shape this module defines; the message names the field."""


class Verdict(Enum):
    """Per finding and per clause (architecture, Verdicts). ``severity`` orders them: the worst wins."""

    PASS = "PASS"
    UNSUPPORTED = "UNSUPPORTED"
    NON_STRICT = "NON-STRICT"
    FAIL = "FAIL"
    ERROR = "ERROR"

    @property
    def severity(self) -> int:
        """PASS < UNSUPPORTED < NON-STRICT < FAIL < ERROR, the same order as ``conformance.verdicts`` (not imported:
        reports stand alone) and as the run's exit status (0 conformant, 1 any FAIL, 2 any ERROR)."""
        return _SEVERITY[self]

    @property
    def is_problem(self) -> bool:
        """FAIL, NON-STRICT and ERROR are what a vendor must look at."""
        return self in (Verdict.FAIL, Verdict.NON_STRICT, Verdict.ERROR)


_SEVERITY = {
    Verdict.PASS: 0,
    Verdict.UNSUPPORTED: 1,
    Verdict.NON_STRICT: 2,
    Verdict.FAIL: 3,
    Verdict.ERROR: 4,
}


def worst(verdicts: Iterable[Verdict]) -> Verdict | None:
    """The worst of ``verdicts`` (``None`` when there are none: the clause was never exercised)."""
    return max(verdicts, key=lambda v: v.severity, default=None)


LEVELS = ("MUST", "SHOULD", "MAY", "V1-INHERITED", "DERIVED", "INTERPRETATION")
"""Clause strengths (spec section 0.1) plus the reading of an AMB-* ambiguity."""

RUN_STATUSES = ("complete", "interrupted")

SCOPES = ("testable", "not-observable")
"""Whether a run can exercise a clause at all through the adapter protocol (``ClauseInfo.scope``)."""
NOT_OBSERVABLE = "not-observable"


# --------------------------------------------------------------------------------------------------------------------
# Strict readers: a wrong type raises RecordFormatError naming the field.


def _get(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise RecordFormatError(f"{where}: missing field {key!r}")
    return obj[key]


def _str(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = _get(obj, key, where)
    if not isinstance(value, str):
        raise RecordFormatError(f"{where}.{key}: expected a string, got {value!r:.60}")
    return value


def _opt_str(obj: Mapping[str, Any], key: str, where: str) -> str | None:
    if obj.get(key) is None:
        return None
    return _str(obj, key, where)


def _int(obj: Mapping[str, Any], key: str, where: str) -> int:
    value = _get(obj, key, where)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordFormatError(f"{where}.{key}: expected an integer, got {value!r:.60}")
    return value


def _opt_int(obj: Mapping[str, Any], key: str, where: str) -> int | None:
    if obj.get(key) is None:
        return None
    return _int(obj, key, where)


def _bool(obj: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    if key not in obj:
        return default
    value = obj[key]
    if not isinstance(value, bool):
        raise RecordFormatError(f"{where}.{key}: expected true/false, got {value!r:.60}")
    return value


def _dict(obj: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> dict[str, Any]:
    if optional and obj.get(key) is None:
        return {}
    value = _get(obj, key, where)
    if not isinstance(value, dict):
        raise RecordFormatError(f"{where}.{key}: expected an object, got {type(value).__name__}")
    return dict(value)


def _strs(obj: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> tuple[str, ...]:
    if optional and obj.get(key) is None:
        return ()
    value = _get(obj, key, where)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RecordFormatError(f"{where}.{key}: expected a list of strings")
    return tuple(value)


def _hex(obj: Mapping[str, Any], key: str, where: str) -> str | None:
    text = _opt_str(obj, key, where)
    if text is None:
        return None
    try:
        bytes.fromhex(text)
    except ValueError:
        raise RecordFormatError(f"{where}.{key}: not a hex string: {text[:40]!r}") from None
    if len(text) % 2 or " " in text:
        raise RecordFormatError(f"{where}.{key}: hex must be an even number of digits without spaces")
    return text


def _verdict(obj: Mapping[str, Any], key: str, where: str) -> Verdict:
    text = _str(obj, key, where)
    try:
        return Verdict(text)
    except ValueError:
        raise RecordFormatError(f"{where}.{key}: unknown verdict {text[:40]!r}") from None


def _level(obj: Mapping[str, Any], key: str, where: str) -> str:
    text = _str(obj, key, where)
    if text not in LEVELS:
        raise RecordFormatError(f"{where}.{key}: unknown level {text[:40]!r} (expected one of {', '.join(LEVELS)})")
    return text


def _header(record_type: str) -> dict[str, Any]:
    return {"type": record_type, "schema": SCHEMA_VERSION}


# --------------------------------------------------------------------------------------------------------------------
# Record types


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStart:
    """First line of a results file: the IUT, the suite and the settings a reproduction needs."""

    TYPE: ClassVar[str] = "run_start"

    iut_name: str
    iut_version: str
    capabilities: Mapping[str, Any]
    """What the IUT reported (``Capabilities.to_json()`` shape), kept as plain JSON."""
    suite_version: str
    interpretation_profile: Mapping[str, Any]
    """The AMB-* switches in force (profile name and values), printed in every report."""
    hypothesis_profile: str
    seed: int | None
    command: tuple[str, ...]
    """argv of the run, for the record."""
    started_at: str
    """ISO 8601, UTC."""
    iut_spec: str = ""
    """The ``--iut`` argument (``mutant:skip-icv``), used in reproduction commands."""

    def to_json(self) -> dict[str, Any]:
        return {
            **_header(self.TYPE),
            "iut": {"name": self.iut_name, "version": self.iut_version, "capabilities": dict(self.capabilities)},
            "iut_spec": self.iut_spec,
            "suite_version": self.suite_version,
            "interpretation_profile": dict(self.interpretation_profile),
            "hypothesis_profile": self.hypothesis_profile,
            "seed": self.seed,
            "command": list(self.command),
            "started_at": self.started_at,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "run_start") -> Self:
        iut = _dict(obj, "iut", where)
        return cls(
            iut_name=_str(iut, "name", f"{where}.iut"),
            iut_version=_str(iut, "version", f"{where}.iut"),
            capabilities=_dict(iut, "capabilities", f"{where}.iut"),
            iut_spec=_opt_str(obj, "iut_spec", where) or "",
            suite_version=_str(obj, "suite_version", where),
            interpretation_profile=_dict(obj, "interpretation_profile", where),
            hypothesis_profile=_str(obj, "hypothesis_profile", where),
            seed=_opt_int(obj, "seed", where),
            command=_strs(obj, "command", where),
            started_at=_str(obj, "started_at", where),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ClauseInfo:
    """One clause of the spec as the report lists it."""

    id: str
    level: str
    """One of ``LEVELS``."""
    section: str
    """The spec section it belongs to, as the report's group heading (e.g. ``3.2 Receive path: clauses``). Reports
    keep the catalogue's order of sections (the spec's), never an alphabetical one."""
    summary: str
    scope: str | None = None
    """One of ``SCOPES``: ``testable`` (a run can exercise it; unexercised means a gap) or ``not-observable`` (no
    run can, through the adapter protocol). ``None`` in files written before the field existed: treated as testable,
    so an old report stays as loud as it was."""
    scope_reason: str = ""
    """One line saying why, shown beside a not-observable clause."""

    @property
    def observable(self) -> bool:
        return self.scope != NOT_OBSERVABLE

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "level": self.level, "section": self.section, "summary": self.summary}
        if self.scope is not None:
            out["scope"] = self.scope
            out["scope_reason"] = self.scope_reason
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str) -> Self:
        scope = _opt_str(obj, "scope", where)
        if scope is not None and scope not in SCOPES:
            raise RecordFormatError(
                f"{where}.scope: unknown scope {scope[:40]!r} (expected one of {', '.join(SCOPES)})"
            )
        return cls(
            id=_str(obj, "id", where),
            level=_level(obj, "level", where),
            section=_str(obj, "section", where),
            summary=_str(obj, "summary", where),
            scope=scope,
            scope_reason=_opt_str(obj, "scope_reason", where) or "",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ClauseCatalogue:
    """Every clause the suite knows, so unexercised ones can be listed without importing ``reference_model``."""

    TYPE: ClassVar[str] = "clause_catalogue"

    clauses: tuple[ClauseInfo, ...]

    def to_json(self) -> dict[str, Any]:
        return {**_header(self.TYPE), "clauses": [c.to_json() for c in self.clauses]}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "clause_catalogue") -> Self:
        items = _get(obj, "clauses", where)
        if not isinstance(items, list) or not all(isinstance(c, dict) for c in items):
            raise RecordFormatError(f"{where}.clauses: expected a list of objects")
        return cls(clauses=tuple(ClauseInfo.from_json(c, f"{where}.clauses[{i}]") for i, c in enumerate(items)))


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """Aggregated judgements: ``count`` checks of ``clause`` gave ``verdict`` in ``test_id``."""

    TYPE: ClassVar[str] = "check"

    clause: str
    verdict: Verdict
    count: int
    test_id: str
    shapes: Mapping[str, int] = field(default_factory=dict)
    """Packet-shape tag -> how many of the ``count`` frames had it (``ipv6``, ``tunnel``, ``ah+esp``, ``udp-esp``)."""

    def to_json(self) -> dict[str, Any]:
        return {
            **_header(self.TYPE),
            "clause": self.clause,
            "verdict": self.verdict.value,
            "count": self.count,
            "shapes": dict(self.shapes),
            "test_id": self.test_id,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "check") -> Self:
        shapes = _dict(obj, "shapes", where, optional=True)
        for tag, n in shapes.items():
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise RecordFormatError(f"{where}.shapes.{tag}: expected a count, got {n!r:.40}")
        count = _int(obj, "count", where)
        if count < 0:
            raise RecordFormatError(f"{where}.count: negative")
        return cls(
            clause=_str(obj, "clause", where),
            verdict=_verdict(obj, "verdict", where),
            count=count,
            shapes=shapes,
            test_id=_str(obj, "test_id", where),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One counterexample: everything a vendor needs to see what went wrong and to replay it."""

    TYPE: ClassVar[str] = "finding"

    clause: str
    level: str
    """One of ``LEVELS``."""
    verdict: Verdict
    message: str
    expected: Mapping[str, Any]
    """Field -> the value, or the list of values, a conforming NIC may give. Field names are the spec's
    (``SaDeleteReq``, ``CryptoDone``, ``NextCryptoDone``, ``CryptoStatus``, ``Reserved``, ``HighBits``, ``indications``,
    ``frame``, ``header_info``, or an NDIS status for an OID)."""
    observed: Mapping[str, Any]
    """Field -> the value the IUT gave (``null`` when it indicated nothing)."""
    test_id: str
    expected_info: int | None = None
    """The receive OOB value (slot 1, up to 64 bits) the reference NIC indicates, if any."""
    observed_info: int | None = None
    """The receive OOB value the IUT indicated, if it indicated anything."""
    frame_hex: str | None = None
    """The frame given to the IUT (Ethernet), hex; ``None`` for findings about a request rather than a frame."""
    observed_frame_hex: str | None = None
    """The frame the IUT indicated, hex (``None`` when nothing was indicated)."""
    sa_table: tuple[Mapping[str, Any], ...] = ()
    """The SA bundles in force (``SaTableRow.to_json()`` shape: entry, result, deleted), as plain JSON."""
    steps: tuple[str, ...] = ()
    """The scenario as sentences: configuration, SA operations, frames, in order."""
    trace: tuple[str, ...] = ()
    """The model's decision procedure for the frame (spec section 3.1), as sentences."""
    shape: tuple[str, ...] = ()
    """Packet-shape tags of the frame."""
    reading: str | None = None
    """The AMB-* reading a NON-STRICT/INTERPRETATION finding rests on."""
    reproduce: str = ""
    """A shell command that replays this counterexample."""
    final: bool = True
    """False while Hypothesis may still shrink it (see the module docstring)."""

    def to_json(self) -> dict[str, Any]:
        return {
            **_header(self.TYPE),
            "clause": self.clause,
            "level": self.level,
            "verdict": self.verdict.value,
            "message": self.message,
            "expected": dict(self.expected),
            "observed": dict(self.observed),
            "expected_info": self.expected_info,
            "observed_info": self.observed_info,
            "frame_hex": self.frame_hex,
            "observed_frame_hex": self.observed_frame_hex,
            "sa_table": [dict(row) for row in self.sa_table],
            "steps": list(self.steps),
            "trace": list(self.trace),
            "shape": list(self.shape),
            "reading": self.reading,
            "reproduce": self.reproduce,
            "test_id": self.test_id,
            "final": self.final,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "finding") -> Self:
        table = obj.get("sa_table") or []
        if not isinstance(table, list) or not all(isinstance(r, dict) for r in table):
            raise RecordFormatError(f"{where}.sa_table: expected a list of objects")
        for key in ("expected_info", "observed_info"):
            value = _opt_int(obj, key, where)
            if value is not None and not 0 <= value < 2**64:
                raise RecordFormatError(f"{where}.{key}: {value} is not a 64-bit slot value")
        return cls(
            clause=_str(obj, "clause", where),
            level=_level(obj, "level", where),
            verdict=_verdict(obj, "verdict", where),
            message=_str(obj, "message", where),
            expected=_dict(obj, "expected", where),
            observed=_dict(obj, "observed", where),
            expected_info=_opt_int(obj, "expected_info", where),
            observed_info=_opt_int(obj, "observed_info", where),
            frame_hex=_hex(obj, "frame_hex", where),
            observed_frame_hex=_hex(obj, "observed_frame_hex", where),
            sa_table=tuple(table),
            steps=_strs(obj, "steps", where, optional=True),
            trace=_strs(obj, "trace", where, optional=True),
            shape=_strs(obj, "shape", where, optional=True),
            reading=_opt_str(obj, "reading", where),
            reproduce=_opt_str(obj, "reproduce", where) or "",
            test_id=_str(obj, "test_id", where),
            final=_bool(obj, "final", where, True),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorRecord:
    """The adapter or the harness broke (verdict ERROR): infrastructure, never blamed on conformance."""

    TYPE: ClassVar[str] = "error"

    message: str
    test_id: str
    kind: str = "error"
    """``timeout``, ``crash``, ``malformed``, ``internal``... free text, shown as given."""
    clause: str | None = None
    stderr_tail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            **_header(self.TYPE),
            "message": self.message,
            "kind": self.kind,
            "clause": self.clause,
            "test_id": self.test_id,
            "stderr_tail": self.stderr_tail,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "error") -> Self:
        return cls(
            message=_str(obj, "message", where),
            kind=_opt_str(obj, "kind", where) or "error",
            clause=_opt_str(obj, "clause", where),
            test_id=_str(obj, "test_id", where),
            stderr_tail=_opt_str(obj, "stderr_tail", where) or "",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RunEnd:
    """Last line of a complete or cleanly interrupted run."""

    TYPE: ClassVar[str] = "run_end"

    ended_at: str
    status: str
    """``complete`` or ``interrupted``."""
    exit_code: int
    stats: Mapping[str, int] = field(default_factory=dict)
    """Optional counters (``examples``, ``frames``, ``requests``...), shown in the report as given."""

    def to_json(self) -> dict[str, Any]:
        return {
            **_header(self.TYPE),
            "ended_at": self.ended_at,
            "status": self.status,
            "exit_code": self.exit_code,
            "stats": dict(self.stats),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "run_end") -> Self:
        status = _str(obj, "status", where)
        if status not in RUN_STATUSES:
            raise RecordFormatError(f"{where}.status: expected complete or interrupted, got {status[:40]!r}")
        stats = _dict(obj, "stats", where, optional=True)
        for key, n in stats.items():
            if isinstance(n, bool) or not isinstance(n, int):
                raise RecordFormatError(f"{where}.stats.{key}: expected an integer")
        return cls(
            ended_at=_str(obj, "ended_at", where),
            status=status,
            exit_code=_int(obj, "exit_code", where),
            stats=stats,
        )


Record = RunStart | ClauseCatalogue | Check | Finding | ErrorRecord | RunEnd

RECORD_TYPES: dict[str, type[RunStart | ClauseCatalogue | Check | Finding | ErrorRecord | RunEnd]] = {
    cls.TYPE: cls for cls in (RunStart, ClauseCatalogue, Check, Finding, ErrorRecord, RunEnd)
}


# --------------------------------------------------------------------------------------------------------------------
# Lines and files


def record_from_json(obj: object) -> Record:
    """One parsed line -> its record. Raises ``RecordFormatError`` on anything unexpected."""
    if not isinstance(obj, dict):
        raise RecordFormatError(f"record: expected an object, got {type(obj).__name__}")
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in RECORD_TYPES:
        raise RecordFormatError(f"record: unknown type {kind!r:.40}")
    version = obj.get("schema")
    if version != SCHEMA_VERSION:
        raise RecordFormatError(f"{kind}: schema {version!r:.20} is not {SCHEMA_VERSION}")
    return RECORD_TYPES[kind].from_json(obj)


def dumps(record: Record) -> str:
    """One line (no newline) of canonical JSON: keys sorted, no insignificant spaces, non-ASCII escaped."""
    return json.dumps(record.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def loads(line: str) -> Record:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise RecordFormatError(f"not JSON: {exc.msg} at column {exc.colno}") from None
    return record_from_json(obj)


class ResultsWriter:
    """Appends records to a results file, one flushed line each, so nothing is lost if the run dies."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, record: Record) -> None:
        self._stream.write(dumps(record) + "\n")
        self._stream.flush()

    def write_all(self, records: Iterable[Record]) -> None:
        for record in records:
            self.write(record)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultsFile:
    """What ``read_results`` found: the valid records, in file order, and what it had to skip."""

    records: tuple[Record, ...]
    warnings: tuple[str, ...] = ()


def parse_results(lines: Sequence[str]) -> ResultsFile:
    """Parse results lines; a bad line is skipped with a warning naming its number (never an exception)."""
    records: list[Record] = []
    warnings: list[str] = []
    last = len(lines)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(loads(line))
        except RecordFormatError as exc:
            where = "last line (truncated?)" if number == last else f"line {number}"
            warnings.append(f"results file {where} skipped: {exc}")
    return ResultsFile(records=tuple(records), warnings=tuple(warnings))


def read_results(path: Path) -> ResultsFile:
    """Read a results file; undecodable bytes are replaced, bad lines skipped with a warning."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    return parse_results(text.splitlines())


def schema_path(name: str) -> Path:
    """Path of a shipped JSON Schema (``RECORD_SCHEMA_FILE`` or ``REPORT_SCHEMA_FILE``)."""
    return Path(__file__).with_name("schemas") / name


def load_schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_path(name).read_text(encoding="utf-8"))
    return loaded
