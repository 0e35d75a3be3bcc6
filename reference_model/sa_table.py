"""The NIC model's SA table: bundle life cycle as one transition table, and the SPI index receive() looks up.

Why a table: the life cycle of an offloaded bundle (absent -> offloaded -> deleted, plus "accepted although outside the
capabilities") decides what later frames expect, and h11's lesson is that such state is easiest to check and to
document when every transition is one row of data rather than an ``if`` somewhere.

States (``BundleState``):

- ``ACTIVE``: the IUT reported SUCCESS and the bundle is within the capabilities; matching frames are processed.
- ``INACTIVE``: the IUT reported SUCCESS for a bundle outside the capabilities (SA-ADD-REJECT-UNSUPPORTED). The IUT
  holds it (it counts against capacity and may be deleted), but a conforming NIC cannot use it, so frames on it expect
  "not processed".
- ``FAILED``: the IUT reported a failure; nothing was offloaded (SA-ADD-LIST-SEMANTICS / SA-ADD-EX-SEMANTICS).
- ``DELETED``: a DELETE_SA completed with SUCCESS (SA-DELETE-FREES, SA-AFTER-DELETE-NO-MATCH).

A bundle stays ``ACTIVE`` until a delete for it succeeds, whatever frames arrive (SA-NO-SELF-DELETE): no transition is
driven by a received frame.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import Enum

from reference_model.constants import NdisStatus, Operation
from reference_model.ndis import AddSaEntry, AddSaResult, IPAddress, SaTableRow


class ModelInvariantError(RuntimeError):
    """The model reached a state the spec cannot produce: a fault of ours or of the harness, never of the IUT."""


class BundleState(Enum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    FAILED = "failed"
    DELETED = "deleted"

    @property
    def held_by_iut(self) -> bool:
        """Whether the IUT holds this bundle (it counts against SaOffloadCapacity, AMB-17)."""
        return self in (BundleState.ACTIVE, BundleState.INACTIVE)


class SaEvent(Enum):
    ADD_OK = "add succeeded"
    ADD_OK_UNSUPPORTED = "add succeeded for a bundle outside the capabilities"
    ADD_FAILED = "add failed"
    DELETE_OK = "delete succeeded"
    DELETE_FAILED = "delete failed"


_NEW = None
TRANSITIONS: dict[tuple[BundleState | None, SaEvent], BundleState] = {
    (_NEW, SaEvent.ADD_OK): BundleState.ACTIVE,
    (_NEW, SaEvent.ADD_OK_UNSUPPORTED): BundleState.INACTIVE,
    (_NEW, SaEvent.ADD_FAILED): BundleState.FAILED,
    (BundleState.ACTIVE, SaEvent.DELETE_OK): BundleState.DELETED,
    (BundleState.ACTIVE, SaEvent.DELETE_FAILED): BundleState.ACTIVE,
    (BundleState.INACTIVE, SaEvent.DELETE_OK): BundleState.DELETED,
    (BundleState.INACTIVE, SaEvent.DELETE_FAILED): BundleState.INACTIVE,
    (BundleState.FAILED, SaEvent.DELETE_OK): BundleState.FAILED,
    (BundleState.FAILED, SaEvent.DELETE_FAILED): BundleState.FAILED,
    (BundleState.DELETED, SaEvent.DELETE_OK): BundleState.DELETED,
    (BundleState.DELETED, SaEvent.DELETE_FAILED): BundleState.DELETED,
}
"""(state, event) -> next state. ``None`` is "no bundle with this sa_id yet" (also after FAILED or DELETED: a suite may
reuse an sa_id once the IUT no longer holds it). Adding an sa_id the IUT still holds has no row: a harness bug."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsupported:
    """Why a bundle is outside the capabilities: the RX-CAPS-* clause that excludes its frames, and a sentence."""

    clause: str
    why: str


@dataclass(slots=True, kw_only=True)
class Bundle:
    """One add entry and what became of it. Mutable model state, owned by ``SaTable``."""

    entry: AddSaEntry
    state: BundleState
    result: AddSaResult | None = None
    unsupported: Unsupported | None = None
    seq_hi: dict[tuple[Operation, int], int] = field(default_factory=dict)
    """The ESN high-order bits last configured per (operation, SPI) entry (ADD, then UPDATE_SA; AMB-16)."""
    operations: frozenset[Operation] = frozenset()

    def __post_init__(self) -> None:
        self.seq_hi = {(sa.operation, sa.spi): sa.seq_hi for sa in self.entry.sec_assoc}
        self.operations = frozenset(sa.operation for sa in self.entry.sec_assoc)

    @property
    def sa_id(self) -> int:
        return self.entry.sa_id

    def row(self) -> SaTableRow:
        return SaTableRow(entry=self.entry, result=self.result, deleted=self.state is BundleState.DELETED)


def _is_zero(address: IPAddress) -> bool:
    return int(address) == 0


def destination_matches(entry: AddSaEntry, dst: IPAddress) -> bool:
    """RX-SA-MATCH-SPI-DST with AMB-03: a zero SA destination matches any destination of the same family."""
    return _is_zero(entry.dst) or entry.dst == dst


class SaTable:
    """Bundles by sa_id, and an index from SPI to every bundle that ever carried it (for lookups and traces)."""

    __slots__ = ("_by_spi", "bundles")

    def __init__(self) -> None:
        self.bundles: dict[int, Bundle] = {}
        self._by_spi: dict[int, tuple[Bundle, ...]] = {}

    def transition(self, bundle: Bundle | None, event: SaEvent) -> BundleState:
        state = None if bundle is None or not bundle.state.held_by_iut else bundle.state
        if event in (SaEvent.DELETE_OK, SaEvent.DELETE_FAILED) and bundle is not None:
            state = bundle.state
        try:
            return TRANSITIONS[(state, event)]
        except KeyError:
            raise ModelInvariantError(f"no transition from {state} on {event.value}") from None

    def add(self, entry: AddSaEntry, result: AddSaResult, unsupported: Unsupported | None) -> Bundle:
        old = self.bundles.get(entry.sa_id)
        if old is not None and old.state.held_by_iut:
            raise ModelInvariantError(f"sa_id {entry.sa_id} added again while the IUT still holds it")
        if result.status is NdisStatus.SUCCESS:
            event = SaEvent.ADD_OK if unsupported is None else SaEvent.ADD_OK_UNSUPPORTED
        else:
            event = SaEvent.ADD_FAILED
        bundle = Bundle(entry=entry, state=self.transition(None, event), result=result, unsupported=unsupported)
        if old is not None:
            self._unindex(old)
        self.bundles[entry.sa_id] = bundle
        for sa in entry.sec_assoc:
            self._by_spi[sa.spi] = (*self._by_spi.get(sa.spi, ()), bundle)
        return bundle

    def _unindex(self, bundle: Bundle) -> None:
        for sa in bundle.entry.sec_assoc:
            rest = tuple(b for b in self._by_spi.get(sa.spi, ()) if b is not bundle)
            if rest:
                self._by_spi[sa.spi] = rest
            else:
                self._by_spi.pop(sa.spi, None)

    def delete(self, sa_id: int, status: NdisStatus) -> None:
        bundle = self.bundles.get(sa_id)
        if bundle is None:
            return
        event = SaEvent.DELETE_OK if status is NdisStatus.SUCCESS else SaEvent.DELETE_FAILED
        bundle.state = self.transition(bundle, event)

    def candidates(self, spi: int) -> tuple[Bundle, ...]:
        """Every bundle that carried ``spi`` (any state, any direction), in the order they were added."""
        return self._by_spi.get(spi, ())

    def held_count(self) -> int:
        return sum(1 for b in self.bundles.values() if b.state.held_by_iut)

    def rows(self) -> tuple[SaTableRow, ...]:
        return tuple(b.row() for b in self.bundles.values())


ZERO_V4 = ipaddress.IPv4Address(0)
ZERO_V6 = ipaddress.IPv6Address(0)
