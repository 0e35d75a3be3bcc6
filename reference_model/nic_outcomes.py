"""Building blocks of receive expectations: the constraint sets of "not processed" and "processed" outcomes.

Why a module of its own: the decision procedure (``nic_receive``) says *what* happened to a frame; this module says
which observable values that allows and under which clause and strength. Keeping the two apart keeps the procedure
readable as the spec's section 3.1 and keeps the expectations data (house style: expectations as data, not control
flow). Constraint sets that do not depend on the frame bytes are built once and cached: ``receive`` runs per frame by
the thousand.

Strength: a constraint's level is its clause's strength from the registry (``reference_model.clauses``); AMB-* readings
are ``Level.INTERPRETATION`` with ``reading`` set. The strength of a "not processed" expectation is that of the clause
that makes the frame unprocessed: a NIC that processes a frame the capabilities exclude breaks RX-CAPS-* (DERIVED),
and RX-FLAGS-CLEAR-NOT-DECRYPTED is cited at no more than that strength, since it applies only once the frame is
rightly unprocessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from reference_model.clauses import ClauseLevel, clause
from reference_model.constants import CryptoStatus
from reference_model.expectation import Constraint, Level, ObservedField, Outcome

FAILURE_CODES = frozenset(int(c) for c in CryptoStatus if c is not CryptoStatus.SUCCESS)

_LEVELS = {
    ClauseLevel.MUST: Level.MUST,
    ClauseLevel.SHOULD: Level.SHOULD,
    ClauseLevel.MAY: Level.MAY,
    ClauseLevel.V1_INHERITED: Level.V1_INHERITED,
    ClauseLevel.DERIVED: Level.DERIVED,
    ClauseLevel.IETF: Level.MUST,
    ClauseLevel.READING: Level.INTERPRETATION,
    ClauseLevel.SUMMARY: Level.DERIVED,
}
_RANK = {Level.MUST: 0, Level.SHOULD: 1, Level.V1_INHERITED: 2, Level.DERIVED: 3, Level.INTERPRETATION: 4, Level.MAY: 5}


@cache
def level_of(clause_id: str) -> Level:
    """The ``Level`` of a clause, from its strength in the spec (an unknown ID raises: no typo survives)."""
    return _LEVELS[clause(clause_id).level]


def weakest(*levels: Level) -> Level:
    return max(levels, key=_RANK.__getitem__)


def _c(
    field: ObservedField,
    allowed: frozenset[object],
    clause_id: str,
    why: str,
    *,
    level: Level | None = None,
    reading: str | None = None,
) -> Constraint:
    if reading is not None and level is None:
        level = Level.INTERPRETATION
    return Constraint(
        field=field, allowed=allowed, clause=clause_id, level=level or level_of(clause_id), why=why, reading=reading
    )


ZERO = frozenset({0})
ONE = frozenset({1})
ZERO_OR_ONE = frozenset({0, 1})
NO_HEADER_INFO: frozenset[object] = frozenset({None})

INDICATE_ONE = _c(
    ObservedField.INDICATION_COUNT, ONE, "RX-INDICATE-ALL", "every received frame is indicated exactly once"
)
RESERVED_ZERO = _c(ObservedField.RESERVED, ZERO, "RX-RESERVED-ZERO", "Receive.Reserved (bits 3..15) is left zero")
HIGH_BITS_ZERO = _c(
    ObservedField.HIGH_BITS,
    ZERO,
    "AMB-24",
    "the bytes of the OOB slot above the receive ULONG read zero",
    reading="AMB-24",
)
_COMMON = (INDICATE_ONE, RESERVED_ZERO, HIGH_BITS_ZERO)


def _sa_delete_req(sa_matched: bool, processed: bool) -> Constraint:
    if not sa_matched:
        return _c(
            ObservedField.SA_DELETE_REQ,
            ZERO,
            "RX-NO-SA-NO-OOB",
            "no offloaded inbound SA matched, so there is no SA to ask the transport to delete (AMB-10)",
        )
    if processed:
        return _c(ObservedField.SA_DELETE_REQ, ZERO_OR_ONE, "RX-SADELETEREQ", "SaDeleteReq is an optional signal")
    return _c(
        ObservedField.SA_DELETE_REQ,
        ZERO_OR_ONE,
        "RX-SADELETEREQ-INDEPENDENT",
        "SaDeleteReq may be set with CryptoDone = 0 on a frame that matched an offloaded SA",
    )


@cache
def _unprocessed_core(deciding: str, why: str, sa_matched: bool, no_sa: bool) -> tuple[Constraint, ...]:
    level = level_of(deciding)
    flags_level = weakest(level, level_of("RX-FLAGS-CLEAR-NOT-DECRYPTED"))
    status = (
        _c(ObservedField.CRYPTO_STATUS, ZERO, "RX-NO-SA-NO-OOB", "no SA matched: the whole receive ULONG reads 0")
        if no_sa
        else _c(
            ObservedField.CRYPTO_STATUS,
            ZERO,
            "RX-CRYPTOSTATUS-SUCCESS-NOT-DECRYPTED",
            "a frame the NIC did not process carries CryptoStatus = CRYPTO_SUCCESS (AMB-02)",
        )
    )
    return (
        *_COMMON,
        _c(ObservedField.CRYPTO_DONE, ZERO, deciding, why, level=level),
        _c(
            ObservedField.CRYPTO_DONE,
            ZERO,
            "RX-FLAGS-CLEAR-NOT-DECRYPTED",
            "a frame the NIC did not process has CryptoDone = 0, AH and ESP alike",
            level=flags_level,
        ),
        _c(
            ObservedField.NEXT_CRYPTO_DONE,
            ZERO,
            "RX-FLAGS-CLEAR-NOT-DECRYPTED",
            "a frame the NIC did not process has NextCryptoDone = 0",
            level=flags_level,
        ),
        status,
        _sa_delete_req(sa_matched, processed=False),
        # The header info of a frame that must not be processed is absent *because* of the deciding clause: a NIC that
        # wrongly decrypts and fills it in breaks that clause, not RX-HDRINFO-VALID-FLAG.
        _c(ObservedField.HEADER_INFO, NO_HEADER_INFO, deciding, "nothing was decrypted: no header info", level=level),
    )


def unprocessed(frame: bytes, *, deciding: str, why: str, sa_matched: bool, no_sa: bool) -> Outcome:
    """The frame is indicated untouched with no IPsec processing; ``deciding`` is the clause that made it so."""
    core = _unprocessed_core(deciding, why, sa_matched, no_sa)
    frame_constraint = _c(
        ObservedField.FRAME,
        frozenset({frame}),
        deciding,
        "a frame the NIC does not process is indicated byte for byte as received (AMB-09)",
        level=level_of(deciding),
    )
    return Outcome(constraints=(*core, frame_constraint), label=f"not processed ({deciding})")


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusSpec:
    """The CryptoStatus a processed frame may carry, at two strengths.

    ``allowed`` holds under ``clause`` at ``level`` (RX-CRYPTOSTATUS-RESULT, MUST, unless the only fault is one the
    mapping table does not name); ``narrow`` (when not None) is the subset an AMB reading (``narrow_reading``) picks,
    e.g. the code family of AMB-07. ``reference`` is what the reference NIC reports. ``failure`` says whether the
    frame failed a check (then RX-FAIL-INDICATE-WITH-STATUS and RX-CRYPTODONE-SET apply).
    """

    reference: int
    allowed: frozenset[int]
    why: str
    level: Level = Level.MUST
    reading: str | None = None
    narrow: frozenset[int] | None = None
    narrow_reading: str | None = None
    failure: bool = True
    integrity_failure: bool = True
    """An ICV, decryption, syntax or protocol failure (RX-FAIL-INDICATE-WITH-STATUS); False for pad content only."""


SUCCESS_SPEC = StatusSpec(
    reference=0, allowed=ZERO, why="every decryption and ICV check succeeded", failure=False, integrity_failure=False
)


@cache
def _processed_core(status: StatusSpec, both: bool, sa_matched: bool) -> tuple[Constraint, ...]:
    done_clause = "RX-CRYPTODONE-SET" if status.failure else "RX-PROCESS-ALL-MATCHING"
    done_why = (
        "the NIC checked an IPsec payload of this frame (CryptoDone = 1 whatever the result)"
        if status.failure
        else "a well-formed frame matching an offloaded inbound SA within the capabilities is processed"
    )
    out = [
        *_COMMON,
        _c(ObservedField.CRYPTO_DONE, ONE, done_clause, done_why),
        _c(
            ObservedField.NEXT_CRYPTO_DONE,
            ONE if both else ZERO,
            "RX-NEXTCRYPTODONE-BOTH-ONLY",
            "the NIC checked both the tunnel and the transport portion"
            if both
            else "the NIC did not check both a tunnel and a transport portion",
        ),
        _c(
            ObservedField.CRYPTO_STATUS,
            status.allowed,
            "RX-CRYPTOSTATUS-RESULT",
            status.why,
            level=status.level,
            reading=status.reading,
        ),
        _sa_delete_req(sa_matched, processed=True),
    ]
    if both:
        out.append(
            _c(
                ObservedField.CRYPTO_DONE,
                ONE,
                "RX-NEXTCRYPTODONE-IMPLIES-CRYPTODONE",
                "NextCryptoDone = 1 needs CryptoDone = 1",
            )
        )
    if status.integrity_failure:
        out.append(
            _c(
                ObservedField.CRYPTO_STATUS,
                FAILURE_CODES,
                "RX-FAIL-INDICATE-WITH-STATUS",
                "a frame that failed a check is indicated with a failure CryptoStatus",
            )
        )
    if status.narrow is not None and status.narrow != status.allowed:
        out.append(
            _c(
                ObservedField.CRYPTO_STATUS,
                status.narrow,
                status.narrow_reading or "AMB-07",
                f"{status.why}; the code family follows {status.narrow_reading}",
                reading=status.narrow_reading,
            )
        )
    return tuple(out)


def processed(
    *,
    status: StatusSpec,
    both: bool,
    sa_matched: bool,
    frame_after: bytes | None,
    frame_clause: str = "AMB-09",
    header_info: frozenset[object] = NO_HEADER_INFO,
    label: str,
    reading: str | None = None,
) -> Outcome:
    """The NIC processed the frame: CryptoDone = 1, NextCryptoDone per ``both``, CryptoStatus per ``status``.

    ``frame_after`` is the frame a NIC that decrypts in place indicates (AMB-09), or None when the frame failed
    (nothing is asserted about its bytes). ``frame_clause`` names the clause the frame bytes rest on besides AMB-09
    (e.g. RX-CAPS-TPT-TUN when only the tunnel portion may be decrypted).
    """
    constraints = list(_processed_core(status, both, sa_matched))
    constraints.append(
        _c(
            ObservedField.HEADER_INFO,
            header_info,
            "RX-HDRINFO-VALID-FLAG",
            "receive header info is optional; when filled it equals the decrypted ESP trailer (AMB-12)",
        )
    )
    if frame_after is not None:
        constraints.append(
            _c(
                ObservedField.FRAME,
                frozenset({frame_after}),
                frame_clause,
                "decrypted in place: only the ciphertext regions became plaintext, lengths unchanged",
                reading="AMB-09",
            )
        )
    return Outcome(constraints=tuple(constraints), label=label, reading=reading)
