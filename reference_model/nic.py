"""The reference NIC model: what a conforming IPsecOV2 NIC must do, as a pure function of what it was told.

Sans-IO in the manner of h11: values in, verdicts out. The model is told what the suite asked (``expect_*``) and what
the implementation under test (IUT) answered (``apply_*``), and follows the IUT: a bundle the IUT failed to add is not
offloaded, whatever the model expected. ``receive(frame)`` never changes state (replay checking is the transport's,
RX-TRANSPORT-DOES-REPLAY; a bundle stays offloaded until a delete succeeds, SA-NO-SELF-DELETE). Frames are decided
by ``reference_model.nic_receive`` (spec section 3.1); bundle states by ``reference_model.sa_table``.

Operation expectations (section 5):

- set_offload: SUCCESS (CAP-CHANGE-INDICATION: the miniport takes the new configuration).
- add_sa, per entry: a bundle outside the capabilities (algorithm, protocol, address family, UDP-ESP subtype, ESN,
  or a malformed entry) expects a failure (SA-ADD-REJECT-UNSUPPORTED); if the IUT says SUCCESS anyway, the bundle is
  held but INACTIVE and frames on it expect "not processed". A bundle for a protocol that set_offload disabled may
  fail or succeed (SA-ADD-FAIL-ALLOWED: the configuration just changed); when it succeeds it is used once the
  protocol is enabled again. Otherwise SUCCESS is expected; a failure before SaOffloadCapacity bundles are held is an
  interpretation finding (AMB-17: every add entry, inbound or outbound, is one bundle), and at or beyond capacity a
  failure is allowed (SA-CAPACITY).
- delete_sa: SUCCESS (SA-DELETE-STATUS; PENDING is not a final status; NOT_ACCEPTED / REQUEST_ABORTED belong to a
  reset, which the suite never overlaps). Deleting a bundle the IUT does not hold: SUCCESS or any failure.
- update_sa: SUCCESS when the bundle is held and has an entry with that operation and SPI and the NIC reports
  ExtendedSequenceNumbers (SA-UPDATE-ESN, AMB-15); otherwise INVALID_PARAMETER (SA-UPDATE-INVALID). On SUCCESS the
  entry's ESN high bits become the new value (AMB-16: the NIC uses the last value it was given).

The ``reference_*`` methods are the answers of the reference NIC itself (the ``reference`` adapter): the first
acceptable answer of each expectation, with handles unique among live bundles (SA-ADD-HANDLE).
"""

from __future__ import annotations

from collections.abc import Sequence

from reference_model.algorithms import AUTHENTICATION, ENCRYPTION
from reference_model.constants import (
    EncryptionAlgorithm,
    IpsecV2Setting,
    NdisStatus,
    Operation,
)
from reference_model.expectation import Expectation, Level, StatusExpectation
from reference_model.ndis import (
    AddSaEntry,
    AddSaResult,
    Capabilities,
    Indication,
    SaTableRow,
    SecAssoc,
    UpdateSa,
)
from reference_model.nic_outcomes import level_of
from reference_model.nic_receive import ReceivePath
from reference_model.profile import InterpretationProfile, default_profile
from reference_model.sa_table import BundleState, ModelInvariantError, SaTable, Unsupported
from reference_model.wire.esp import esp_layout

__all__ = ["FAILURE_STATUSES", "ModelInvariantError", "NicModel", "unsupported_reason"]

FAILURE_STATUSES = frozenset(s for s in NdisStatus if s not in (NdisStatus.SUCCESS, NdisStatus.PENDING))
"""Final statuses that mean "not done" (section 5.5; the docs name no specific ADD failure code)."""
_SUCCESS = frozenset({NdisStatus.SUCCESS})


def _sa_problem(sa: SecAssoc) -> str | None:
    """A SecAssoc no NIC can use (SA-AH-ENTRY, SA-ESP-ENTRY, key lengths), as a sentence; None when well formed."""
    auth, enc = sa.authentication, sa.encryption
    if auth is not None:
        params = AUTHENTICATION[auth.algorithm]
        if len(auth.key) != params.key_length or len(auth.salt) != params.salt_length:
            return f"{params.wire_name} key or salt of the wrong length"
    if enc is not None:
        params = ENCRYPTION[enc.algorithm]
        if len(enc.key) != params.key_length or len(enc.salt) != params.salt_length:
            return f"{params.wire_name} key or salt of the wrong length"
    if sa.operation is Operation.AH:
        if auth is None or enc is not None:
            return "an AH entry needs an authentication algorithm and no encryption (SA-AH-ENTRY)"
        if auth.icv_length is not None and auth.icv_length not in AUTHENTICATION[auth.algorithm].icv_lengths:
            return "AH ICV length not allowed for its algorithm"
        return None
    if sa.operation is not Operation.ESP:
        return f"operation {sa.operation!r} is neither AH nor ESP"
    cipher = None if enc is None else ENCRYPTION[enc.algorithm]
    if auth is None and (enc is None or enc.algorithm is EncryptionAlgorithm.NONE):
        return "an ESP entry with neither integrity nor encryption protects nothing (SA-ESP-ENTRY)"
    if (
        enc is not None
        and cipher is not None
        and cipher.combined_mode
        and (enc.effective_icv_length not in cipher.icv_lengths)
    ):
        return "AES-GCM ICV length must be 8, 12 or 16 bytes"
    try:
        esp_layout(sa)
    except ValueError as exc:
        return str(exc)
    return None


def unsupported_reason(entry: AddSaEntry, caps: Capabilities) -> Unsupported | None:
    """SA-ADD-REJECT-UNSUPPORTED: why ``entry`` is outside ``caps`` (with the RX-CAPS-* row that then excludes its
    frames), or None when a conforming NIC can offload it."""
    if not 1 <= len(entry.sec_assoc) <= 2:
        return Unsupported(clause="SA-SECASSOC-ORDER", why="NumExtHdrs must be 1 or 2")
    ops = [sa.operation for sa in entry.sec_assoc]
    if len(ops) == 2 and sorted(ops) != [Operation.AH, Operation.ESP]:
        return Unsupported(clause="SA-SECASSOC-ORDER", why="a two-entry bundle must be one ESP and one AH entry")
    if entry.ipv6 and not caps.ipv6_supported:
        return Unsupported(clause="RX-CAPS-IPV6", why="it is IPv6 and IPv6Supported is FALSE")
    if Operation.AH in ops and not caps.ah:
        return Unsupported(clause="RX-CAPS-AH", why="it has an AH entry and Ah is FALSE")
    if Operation.ESP in ops and not caps.esp:
        return Unsupported(clause="RX-CAPS-ESP", why="it has an ESP entry and Esp is FALSE")
    if len(ops) == 2 and not caps.ah_esp_combined:
        return Unsupported(clause="RX-CAPS-AHESP", why="it is an AH+ESP bundle and AhEspCombined is FALSE")
    if entry.udp_esp_encapsulation & ~caps.udp_esp:
        return Unsupported(
            clause="RX-CAPS-UDPESP",
            why=f"UdpEspEncapsulation 0x{int(entry.udp_esp_encapsulation):x} is not within UdpEsp "
            f"0x{int(caps.udp_esp):x}",
        )
    if entry.udp_esp_encapsulation and Operation.ESP not in ops:
        return Unsupported(clause="RX-CAPS-UDPESP", why="UDP-ESP encapsulation on a bundle without ESP")
    for sa in entry.sec_assoc:
        problem = _sa_problem(sa)
        if problem is not None:
            return Unsupported(clause="RX-CAPS-ALGO", why=f"SPI 0x{sa.spi:08x} is malformed: {problem}")
        if sa.authentication is not None and not sa.authentication.algorithm & caps.authentication_algorithms:
            name = AUTHENTICATION[sa.authentication.algorithm].wire_name
            return Unsupported(clause="RX-CAPS-ALGO", why=f"authentication {name} is not reported")
        if sa.encryption is not None and not sa.encryption.algorithm & caps.encryption_algorithms:
            name = ENCRYPTION[sa.encryption.algorithm].wire_name
            return Unsupported(clause="RX-CAPS-ALGO", why=f"encryption {name} is not reported")
        if sa.esn and not caps.extended_sequence_numbers:
            return Unsupported(clause="RX-CAPS-ESN", why="it is an ESN SA and ExtendedSequenceNumbers is FALSE")
    return None


def _disabled_protocol(entry: AddSaEntry, setting: IpsecV2Setting) -> str | None:
    ops = {sa.operation for sa in entry.sec_assoc}
    if Operation.AH in ops and not setting.ah_enabled:
        return "AH"
    if Operation.ESP in ops and not setting.esp_enabled:
        return "ESP"
    return None


class NicModel:
    """The reference NIC for one capability report and one interpretation profile (module docstring)."""

    def __init__(self, capabilities: Capabilities, profile: InterpretationProfile | None = None) -> None:
        self.capabilities = capabilities
        self.profile = profile if profile is not None else default_profile()
        self._table = SaTable()
        self._setting = IpsecV2Setting.AH_AND_ESP
        self._next_handle = 1
        self._path = ReceivePath(self.capabilities, self.profile, self._table, self._setting)

    def reset(self) -> None:
        """Power-on state: no SAs, AH and ESP enabled, receive offload active (adapter protocol ``reset``)."""
        self._table = SaTable()
        self._setting = IpsecV2Setting.AH_AND_ESP
        self._next_handle = 1
        self._path = ReceivePath(self.capabilities, self.profile, self._table, self._setting)

    @property
    def setting(self) -> IpsecV2Setting:
        return self._setting

    # ---------------------------------------------------------------------------------------------------------------
    # set_offload

    def expect_set_offload(self, setting: IpsecV2Setting) -> StatusExpectation:
        return StatusExpectation(
            allowed=_SUCCESS,
            clause="CAP-CHANGE-INDICATION",
            level=level_of("CAP-CHANGE-INDICATION"),
            why=f"OID_TCP_OFFLOAD_PARAMETERS IPsecV2 = {setting.wire_name} is a valid configuration change",
        )

    def apply_set_offload(self, setting: IpsecV2Setting, status: NdisStatus) -> None:
        if status is NdisStatus.SUCCESS:
            self._setting = setting
            self._path.setting = setting

    def reference_set_offload(self, setting: IpsecV2Setting) -> NdisStatus:
        return NdisStatus.SUCCESS

    # ---------------------------------------------------------------------------------------------------------------
    # add_sa

    def expect_add_sa(self, entries: Sequence[AddSaEntry]) -> tuple[StatusExpectation, ...]:
        """One expectation per entry, in order (earlier entries of the list count against capacity)."""
        held = self._table.held_count()
        capacity = self.capabilities.sa_offload_capacity
        out: list[StatusExpectation] = []
        for entry in entries:
            unsupported = unsupported_reason(entry, self.capabilities)
            if unsupported is not None:
                out.append(
                    StatusExpectation(
                        allowed=FAILURE_STATUSES,
                        clause="SA-ADD-REJECT-UNSUPPORTED",
                        level=level_of("SA-ADD-REJECT-UNSUPPORTED"),
                        why=f"sa_id {entry.sa_id} is outside the reported capabilities: {unsupported.why} "
                        f"({unsupported.clause})",
                    )
                )
                continue
            disabled = _disabled_protocol(entry, self._setting)
            if disabled is not None:
                out.append(
                    StatusExpectation(
                        allowed=_SUCCESS | FAILURE_STATUSES,
                        clause="SA-ADD-FAIL-ALLOWED",
                        level=level_of("SA-ADD-FAIL-ALLOWED"),
                        why=f"{disabled} is disabled by set_offload {self._setting.wire_name}: the add may fail",
                    )
                )
                held += 1
                continue
            if held >= capacity:
                out.append(
                    StatusExpectation(
                        allowed=_SUCCESS | FAILURE_STATUSES,
                        clause="SA-CAPACITY",
                        level=level_of("SA-CAPACITY"),
                        why=f"{held} bundles held, SaOffloadCapacity is {capacity}: the add may fail",
                    )
                )
            else:
                out.append(
                    StatusExpectation(
                        allowed=_SUCCESS,
                        clause="CAP-SACAPACITY",
                        level=Level.INTERPRETATION,
                        why=f"{held} of SaOffloadCapacity {capacity} bundles held (AMB-17: one per add entry); "
                        "a failure is allowed (SA-ADD-FAIL-ALLOWED) but one before capacity is reached is an "
                        "interpretation finding",
                        also_allowed=FAILURE_STATUSES,
                        also_reading="AMB-17",
                    )
                )
            held += 1
        return tuple(out)

    def apply_add_sa(self, entries: Sequence[AddSaEntry], results: Sequence[AddSaResult]) -> None:
        """Follow the IUT: SUCCESS offloads the bundle (INACTIVE if outside the capabilities), failure does not."""
        if len(entries) != len(results):
            raise ModelInvariantError(f"{len(entries)} add entries but {len(results)} results")
        for entry, result in zip(entries, results, strict=True):
            if result.sa_id != entry.sa_id:
                raise ModelInvariantError(f"result for sa_id {result.sa_id} paired with entry {entry.sa_id}")
            self._table.add(entry, result, unsupported_reason(entry, self.capabilities))
            if result.handle is not None and result.handle >= self._next_handle:
                self._next_handle = result.handle + 1

    def reference_add_sa(self, entries: Sequence[AddSaEntry]) -> tuple[AddSaResult, ...]:
        """The reference NIC's answers: SUCCESS with a fresh handle, or a failure for what it cannot hold."""
        held = self._table.held_count()
        handle = self._next_handle
        out: list[AddSaResult] = []
        for entry in entries:
            if unsupported_reason(entry, self.capabilities) is not None:
                out.append(AddSaResult(sa_id=entry.sa_id, status=NdisStatus.NOT_SUPPORTED))
            elif _disabled_protocol(entry, self._setting) is not None:
                out.append(AddSaResult(sa_id=entry.sa_id, status=NdisStatus.FAILURE))
            elif held >= self.capabilities.sa_offload_capacity:
                out.append(AddSaResult(sa_id=entry.sa_id, status=NdisStatus.RESOURCES))
            else:
                out.append(AddSaResult(sa_id=entry.sa_id, status=NdisStatus.SUCCESS, handle=handle))
                handle += 1
                held += 1
        return tuple(out)

    # ---------------------------------------------------------------------------------------------------------------
    # delete_sa

    def expect_delete_sa(self, sa_id: int) -> StatusExpectation:
        bundle = self._table.bundles.get(sa_id)
        if bundle is None or not bundle.state.held_by_iut:
            return StatusExpectation(
                allowed=_SUCCESS | FAILURE_STATUSES,
                clause="SA-DELETE-STATUS",
                level=Level.DERIVED,
                why=f"sa_id {sa_id} is not held by the NIC: the spec gives no status for such a delete",
            )
        return StatusExpectation(
            allowed=_SUCCESS,
            clause="SA-DELETE-STATUS",
            level=level_of("SA-DELETE-STATUS"),
            why=f"DELETE_SA of held sa_id {sa_id} completes with SUCCESS (PENDING is not final; no reset in progress)",
        )

    def apply_delete_sa(self, sa_id: int, status: NdisStatus) -> None:
        self._table.delete(sa_id, status)

    def reference_delete_sa(self, sa_id: int) -> NdisStatus:
        return NdisStatus.SUCCESS

    # ---------------------------------------------------------------------------------------------------------------
    # update_sa

    def expect_update_sa(self, update: UpdateSa) -> StatusExpectation:
        bundle = self._table.bundles.get(update.sa_id)
        invalid = StatusExpectation(
            allowed=frozenset({NdisStatus.INVALID_PARAMETER}),
            clause="SA-UPDATE-INVALID",
            level=level_of("SA-UPDATE-INVALID"),
            why="",
        )
        if not self.capabilities.extended_sequence_numbers:
            return _with_why(invalid, "the NIC does not report ExtendedSequenceNumbers")
        if bundle is None or not bundle.state.held_by_iut:
            return _with_why(invalid, f"sa_id {update.sa_id} is not held by the NIC (AMB-15)")
        if (update.operation, update.spi) not in bundle.seq_hi:
            return _with_why(
                invalid,
                f"sa_id {update.sa_id} has no {update.operation.name} entry with SPI 0x{update.spi:08x} (AMB-15)",
            )
        if bundle.state is BundleState.INACTIVE:
            return StatusExpectation(
                allowed=frozenset({NdisStatus.INVALID_PARAMETER, NdisStatus.SUCCESS}),
                clause="SA-UPDATE-INVALID",
                level=Level.DERIVED,
                why=f"sa_id {update.sa_id} should not have been accepted (SA-ADD-REJECT-UNSUPPORTED)",
            )
        return StatusExpectation(
            allowed=_SUCCESS,
            clause="SA-UPDATE-ESN",
            level=level_of("SA-UPDATE-ESN"),
            why=f"sa_id {update.sa_id} holds {update.operation.name} SPI 0x{update.spi:08x} and ESN is supported",
        )

    def apply_update_sa(self, update: UpdateSa, status: NdisStatus) -> None:
        bundle = self._table.bundles.get(update.sa_id)
        key = (update.operation, update.spi)
        if status is NdisStatus.SUCCESS and bundle is not None and key in bundle.seq_hi:
            bundle.seq_hi[key] = update.seq_hi

    def reference_update_sa(self, update: UpdateSa) -> NdisStatus:
        expectation = self.expect_update_sa(update)
        return NdisStatus.SUCCESS if NdisStatus.SUCCESS in expectation.allowed else NdisStatus.INVALID_PARAMETER

    # ---------------------------------------------------------------------------------------------------------------
    # receive

    def receive(self, frame: bytes) -> Expectation:
        """What a conforming NIC may indicate for ``frame`` (spec section 3.1); pure: no state changes."""
        return self._path.expect(frame)

    def reference_receive(self, frame: bytes) -> tuple[Indication, ...]:
        reference = self.receive(frame).reference
        if reference is None:
            raise ModelInvariantError("receive() produced no reference indication")
        return (reference,)

    def sa_table(self) -> tuple[SaTableRow, ...]:
        return self._table.rows()

    def seq_hi(self, sa_id: int, operation: Operation, spi: int) -> int | None:
        """The ESN high bits the NIC was last given for one entry (AMB-16), or None for an unknown entry."""
        bundle = self._table.bundles.get(sa_id)
        return None if bundle is None else bundle.seq_hi.get((operation, spi))


def _with_why(expectation: StatusExpectation, why: str) -> StatusExpectation:
    return StatusExpectation(allowed=expectation.allowed, clause=expectation.clause, level=expectation.level, why=why)
