"""What a conforming NIC may do with one frame or one request: expectations as data, not control flow.

An ``Expectation`` is a tuple of acceptable ``Outcome`` alternatives; the first is the reading the spec's section 3.1
and section 8 lead to, the others are documented alternatives (an AMB-* reading, a MAY). Each outcome is a set of
``Constraint``s on observable fields (section 0.2: IND, RXINFO, FRAME), each tied to the clause it rests on, that
clause's strength, and a sentence saying why. The judge picks the alternative the observation satisfies; when none
is satisfied it reports every violated constraint of the closest one under its own clause.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from reference_model.constants import NdisStatus
from reference_model.ndis import Indication, ReceiveInfo


class Level(Enum):
    """Clause strength (section 0.1), plus the reading of an ambiguity."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"
    V1_INHERITED = "V1-INHERITED"
    DERIVED = "DERIVED"
    INTERPRETATION = "INTERPRETATION"
    """A constraint that holds only under an AMB-* reading (named in ``Constraint.reading``)."""

    @property
    def strict(self) -> bool:
        """Violations of strict levels are FAIL; the others are NON-STRICT (architecture, Verdicts)."""
        return self is Level.MUST


class ObservedField(Enum):
    """The observable a constraint is about."""

    INDICATION_COUNT = "indications"
    SA_DELETE_REQ = "SaDeleteReq"
    CRYPTO_DONE = "CryptoDone"
    NEXT_CRYPTO_DONE = "NextCryptoDone"
    CRYPTO_STATUS = "CryptoStatus"
    RESERVED = "Reserved"
    HIGH_BITS = "HighBits"
    FRAME = "frame"
    HEADER_INFO = "header_info"


@dataclass(frozen=True, slots=True, kw_only=True)
class Constraint:
    """One field, the values it may take, and the clause that says so.

    ``allowed`` holds ints for flag/status fields (booleans as 0/1), frame byte strings for ``FRAME``, and
    ``(next_header, pad_length)`` pairs for ``HEADER_INFO`` (``None`` in the set allows "not filled").
    """

    field: ObservedField
    allowed: frozenset[object]
    clause: str
    level: Level
    why: str
    reading: str | None = None

    def value_of(self, indications: Sequence[Indication]) -> object:
        """The observed value of ``field`` (fields of the first indication; ``None`` when nothing was indicated)."""
        if self.field is ObservedField.INDICATION_COUNT:
            return len(indications)
        if not indications:
            return None
        first = indications[0]
        if self.field is ObservedField.FRAME:
            return first.frame
        if self.field is ObservedField.HEADER_INFO:
            h = first.header_info
            return None if h is None else (h.next_header, h.pad_length)
        info = first.receive_info
        return _INFO_GETTERS[self.field](info)

    def satisfied_by(self, indications: Sequence[Indication]) -> bool:
        if self.field is not ObservedField.INDICATION_COUNT and not indications:
            # Nothing to look at: only the indication-count constraint can speak about a missing indication.
            return True
        return self.value_of(indications) in self.allowed


_INFO_GETTERS: dict[ObservedField, Callable[[ReceiveInfo], int]] = {
    ObservedField.SA_DELETE_REQ: lambda i: int(i.sa_delete_req),
    ObservedField.CRYPTO_DONE: lambda i: int(i.crypto_done),
    ObservedField.NEXT_CRYPTO_DONE: lambda i: int(i.next_crypto_done),
    ObservedField.CRYPTO_STATUS: lambda i: i.crypto_status,
    ObservedField.RESERVED: lambda i: i.reserved,
    ObservedField.HIGH_BITS: lambda i: i.high_bits,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """One acceptable behaviour: all constraints must hold together."""

    constraints: tuple[Constraint, ...]
    label: str
    """Short name of this behaviour, e.g. ``processed: transport ESP ICV failed``."""
    reading: str | None = None
    """The AMB-* reading this alternative rests on (``None`` for the primary reading)."""

    def violations(self, indications: Sequence[Indication]) -> list[Constraint]:
        return [c for c in self.constraints if not c.satisfied_by(indications)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Expectation:
    """Acceptable outcomes for one received frame, with the model's reasoning for the report."""

    outcomes: tuple[Outcome, ...]
    trace: tuple[str, ...] = ()
    """The decision procedure's steps (section 3.1) as sentences, e.g. ``step 2: SPI 0x1234 matched sa_id 3``."""
    shape: tuple[str, ...] = ()
    """Packet-shape tags the model saw (``ipv6``, ``tunnel``, ``ah+esp``, ``udp-esp``...), for coverage counts."""
    processed: bool = False
    """Whether the primary outcome has the NIC process the frame (CryptoDone = 1)."""
    matched_sa_ids: tuple[int, ...] = ()
    """The inbound bundles the frame matched, outermost first (empty when none)."""
    reference: Indication | None = None
    """What the reference NIC indicates: the concrete values of the primary outcome (the ``reference`` adapter)."""

    @property
    def primary(self) -> Outcome:
        return self.outcomes[0]

    @property
    def clauses(self) -> frozenset[str]:
        return frozenset(c.clause for o in self.outcomes for c in o.constraints)


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusExpectation:
    """Acceptable NDIS statuses for one request (SA-*, CAP-* clauses)."""

    allowed: frozenset[NdisStatus]
    clause: str
    level: Level
    why: str
    also_allowed: frozenset[NdisStatus] = field(default_factory=frozenset)
    """Statuses a documented alternative (MAY, AMB-*) permits; seeing one is NON-STRICT at worst, never FAIL."""
    also_reading: str | None = None

    def accepts(self, status: NdisStatus) -> bool:
        return status in self.allowed or status in self.also_allowed
