"""The mutant catalogue: deliberately faulty NICs, each breaking exactly one clause (``--iut mutant:NAME``).

Every check of the suite must be able to fail; a mutant is the proof. Each one is the reference NIC with one fault,
injected at the narrowest place that produces it:

- in what the NIC *reports* versus how it *behaves* (a capability it denies but processes anyway: RX-CAPS-*),
- in what it *feeds its own model* (ignores the destination of an SA, keeps a deleted SA, ignores set_offload:
  state-level faults whose consequences show on later frames),
- in what it *indicates* (flags, status, frame bytes, number of indications: per-frame faults).

``tests/test_mutants.py`` runs the suite against every mutant and asserts that it is caught, and that the clause it was
built to break is among the failing clauses; the benchmark prints the mutation score and time-to-detect.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from conformance.adapters.errors import AdapterLoadError
from conformance.adapters.reference import ReferenceNic
from reference_model.constants import CryptoStatus, IpsecV2Setting, NdisStatus
from reference_model.ndis import AddSaEntry, AddSaResult, Capabilities, HeaderInfo, Indication, ReceiveInfo, UpdateSa


@dataclass(frozen=True, slots=True, kw_only=True)
class MutantInfo:
    name: str
    breaks: str
    """The clause this mutant violates (the suite must report it among the failing clauses)."""
    fault: str
    factory: Callable[[], ReferenceNic]


CATALOGUE: dict[str, MutantInfo] = {}


def mutant(name: str, breaks: str, fault: str) -> Callable[[type[ReferenceNic]], type[ReferenceNic]]:
    def register(cls: type[ReferenceNic]) -> type[ReferenceNic]:
        cls.name = f"mutant:{name}"
        CATALOGUE[name] = MutantInfo(name=name, breaks=breaks, fault=fault, factory=cls)
        return cls

    return register


def _info(ind: Indication) -> ReceiveInfo:
    return ind.receive_info


def _with(ind: Indication, **changes: object) -> Indication:
    return replace(ind, info=replace(ind.receive_info, **changes).pack())  # type: ignore[arg-type]


class _PerFrameMutant(ReferenceNic):
    """A mutant that changes what is indicated for some frames; ``mutate`` sees the model's expectation too."""

    def receive(self, frame: bytes) -> Sequence[Indication]:
        expectation = self.model.receive(frame)
        indications = [expectation.reference] if expectation.reference is not None else []
        return self.mutate(frame, indications, processed=expectation.processed, shape=expectation.shape)

    def mutate(
        self, frame: bytes, indications: list[Indication], *, processed: bool, shape: tuple[str, ...]
    ) -> list[Indication]:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------------------------------
# Per-frame faults


@mutant("drop-failed", "RX-INDICATE-ALL", "drops frames whose IPsec checks failed instead of indicating them")
class DropFailed(_PerFrameMutant):
    def mutate(
        self, frame: bytes, indications: list[Indication], *, processed: bool, shape: tuple[str, ...]
    ) -> list[Indication]:
        return [i for i in indications if not (_info(i).crypto_done and _info(i).crypto_status)]


@mutant("double-indicate", "RX-INDICATE-ALL", "indicates every processed frame twice")
class DoubleIndicate(_PerFrameMutant):
    def mutate(
        self, frame: bytes, indications: list[Indication], *, processed: bool, shape: tuple[str, ...]
    ) -> list[Indication]:
        return indications * 2 if processed else indications


@mutant("next-crypto-done-single", "RX-NEXTCRYPTODONE-BOTH-ONLY", "sets NextCryptoDone for a single checked portion")
class NextCryptoDoneSingle(_PerFrameMutant):
    def mutate(
        self, frame: bytes, indications: list[Indication], *, processed: bool, shape: tuple[str, ...]
    ) -> list[Indication]:
        return [_with(i, next_crypto_done=True) if _info(i).crypto_done else i for i in indications]


@mutant("next-crypto-done-never", "RX-NEXTCRYPTODONE-BOTH-ONLY", "never sets NextCryptoDone, even after both portions")
class NextCryptoDoneNever(_PerFrameMutant):
    def mutate(
        self, frame: bytes, indications: list[Indication], *, processed: bool, shape: tuple[str, ...]
    ) -> list[Indication]:
        return [_with(i, next_crypto_done=False) for i in indications]


@mutant(
    "next-without-crypto-done",
    "RX-NEXTCRYPTODONE-IMPLIES-CRYPTODONE",
    "reports NextCryptoDone=1 with CryptoDone=0 after checking both portions",
)
class NextWithoutCryptoDone(_PerFrameMutant):
    def mutate(
        self, frame: bytes, indications: list[Indication], *, processed: bool, shape: tuple[str, ...]
    ) -> list[Indication]:
        return [_with(i, crypto_done=False) if _info(i).next_crypto_done else i for i in indications]


@mutant(
    "crypto-done-unprocessed",
    "RX-FLAGS-CLEAR-NOT-DECRYPTED",
    "leaves CryptoDone set on IPsec frames it did not decrypt",
)
class CryptoDoneUnprocessed(_PerFrameMutant):
    def mutate(
        self, frame: bytes, indications: list[Indication], *, processed: bool, shape: tuple[str, ...]
    ) -> list[Indication]:
        ipsec = "esp" in shape or "ah" in shape
        return [_with(i, crypto_done=True) if ipsec and not processed else i for i in indications]


@mutant("crypto-done-cleared", "RX-CRYPTODONE-SET", "clears CryptoDone on processed frames whose checks failed")
class CryptoDoneCleared(_PerFrameMutant):
    def mutate(
        self, frame: bytes, indications: list[Indication], *, processed: bool, shape: tuple[str, ...]
    ) -> list[Indication]:
        return [
            _with(i, crypto_done=False, next_crypto_done=False) if _info(i).crypto_status else i for i in indications
        ]


_SWAP = {
    CryptoStatus.TRANSPORT_AH_AUTH_FAILED: CryptoStatus.TUNNEL_AH_AUTH_FAILED,
    CryptoStatus.TUNNEL_AH_AUTH_FAILED: CryptoStatus.TRANSPORT_AH_AUTH_FAILED,
    CryptoStatus.TRANSPORT_ESP_AUTH_FAILED: CryptoStatus.TUNNEL_ESP_AUTH_FAILED,
    CryptoStatus.TUNNEL_ESP_AUTH_FAILED: CryptoStatus.TRANSPORT_ESP_AUTH_FAILED,
}


@mutant("wrong-status-family", "AMB-07", "reports tunnel ICV failures as transport ones and vice versa")
class WrongStatusFamily(_PerFrameMutant):
    def mutate(
        self, frame: bytes, indications: list[Indication], *, processed: bool, shape: tuple[str, ...]
    ) -> list[Indication]:
        out = []
        for i in indications:
            status = _info(i).crypto_status
            out.append(_with(i, crypto_status=int(_SWAP[CryptoStatus(status)])) if status in _SWAP else i)
        return out


@mutant("generic-for-everything", "RX-CRYPTOSTATUS-RESULT", "reports every failed check as CRYPTO_GENERIC_ERROR")
class GenericForEverything(_PerFrameMutant):
    def mutate(
        self, frame: bytes, indications: list[Indication], *, processed: bool, shape: tuple[str, ...]
    ) -> list[Indication]:
        generic = int(CryptoStatus.GENERIC_ERROR)
        return [_with(i, crypto_status=generic) if _info(i).crypto_status else i for i in indications]


@mutant("success-on-failure", "RX-FAIL-INDICATE-WITH-STATUS", "reports CRYPTO_SUCCESS for frames whose checks failed")
class SuccessOnFailure(_PerFrameMutant):
    def mutate(
        self, frame: bytes, indications: list[Indication], *, processed: bool, shape: tuple[str, ...]
    ) -> list[Indication]:
        return [_with(i, crypto_status=0) if _info(i).crypto_done else i for i in indications]


@mutant("reserved-bit", "RX-RESERVED-ZERO", "sets reserved bit 3 of the receive info")
class ReservedBit(_PerFrameMutant):
    def mutate(
        self, frame: bytes, indications: list[Indication], *, processed: bool, shape: tuple[str, ...]
    ) -> list[Indication]:
        return [replace(i, info=i.info | 0x8) for i in indications]


@mutant("oob-on-unmatched", "RX-NO-SA-NO-OOB", "writes CryptoStatus=GENERIC_ERROR on frames that matched no SA")
class OobOnUnmatched(_PerFrameMutant):
    def mutate(
        self, frame: bytes, indications: list[Indication], *, processed: bool, shape: tuple[str, ...]
    ) -> list[Indication]:
        unmatched = any(tag.startswith("no-sa") for tag in shape)
        return [_with(i, crypto_status=int(CryptoStatus.GENERIC_ERROR)) if unmatched else i for i in indications]


@mutant(
    "stale-status-unprocessed",
    "RX-CRYPTOSTATUS-SUCCESS-NOT-DECRYPTED",
    "leaves a stale non-zero CryptoStatus with CryptoDone=0 on frames it did not process",
)
class StaleStatus(_PerFrameMutant):
    def mutate(
        self, frame: bytes, indications: list[Indication], *, processed: bool, shape: tuple[str, ...]
    ) -> list[Indication]:
        return [i if processed else _with(i, crypto_status=int(CryptoStatus.GENERIC_ERROR)) for i in indications]


@mutant("ciphertext-indicated", "AMB-09", "reports success but indicates the frame still encrypted")
class CiphertextIndicated(_PerFrameMutant):
    def mutate(
        self, frame: bytes, indications: list[Indication], *, processed: bool, shape: tuple[str, ...]
    ) -> list[Indication]:
        return [replace(i, frame=frame) if processed and "esp" in shape else i for i in indications]


@mutant("touches-ike", "RX-UDPESP-NON-ESP-UNTOUCHED", "rewrites the last byte of IKE and NAT-keepalive packets")
class TouchesIke(_PerFrameMutant):
    def mutate(
        self, frame: bytes, indications: list[Indication], *, processed: bool, shape: tuple[str, ...]
    ) -> list[Indication]:
        if "ike" in shape or "keepalive" in shape:
            return [replace(i, frame=i.frame[:-1] + bytes([i.frame[-1] ^ 0xFF])) for i in indications]
        return indications


@mutant("wrong-header-info", "RX-HDRINFO-VALID-FLAG", "fills the receive header info with a pad length off by one")
class WrongHeaderInfo(_PerFrameMutant):
    def mutate(
        self, frame: bytes, indications: list[Indication], *, processed: bool, shape: tuple[str, ...]
    ) -> list[Indication]:
        if processed and "esp" in shape:
            return [replace(i, header_info=HeaderInfo(next_header=6, pad_length=255)) for i in indications]
        return indications


class _ReplayTracking(ReferenceNic):
    def __init__(self, capabilities: Capabilities | None = None) -> None:
        super().__init__(capabilities)
        self.seen: set[bytes] = set()

    def reset(self) -> None:
        super().reset()
        self.seen = set()


@mutant("replay-drop", "RX-TRANSPORT-DOES-REPLAY", "drops frames it has seen before (a NIC-side replay check)")
class ReplayDrop(_ReplayTracking):
    def receive(self, frame: bytes) -> Sequence[Indication]:
        indications = list(super().receive(frame))
        if indications and _info(indications[0]).crypto_done:
            if frame in self.seen:
                return []
            self.seen.add(frame)
        return indications


# ---------------------------------------------------------------------------------------------------------------------
# State-level faults


def _wildcard(entry: AddSaEntry) -> AddSaEntry:
    zero = ipaddress.IPv6Address(0) if entry.ipv6 else ipaddress.IPv4Address(0)
    return replace(entry, dst=zero)


@mutant("ignores-destination", "RX-SA-MATCH-SPI-DST", "matches inbound SAs on SPI alone, ignoring the destination")
class IgnoresDestination(ReferenceNic):
    def add_sa(self, entries: Sequence[AddSaEntry]) -> Sequence[AddSaResult]:
        internal = [_wildcard(e) for e in entries]
        results = self.model.reference_add_sa(internal)
        self.model.apply_add_sa(internal, results)
        return results


@mutant("uses-outbound", "RX-SA-INBOUND-ONLY", "uses outbound SAs to process received frames")
class UsesOutbound(ReferenceNic):
    def add_sa(self, entries: Sequence[AddSaEntry]) -> Sequence[AddSaResult]:
        internal = [replace(e, inbound=True) for e in entries]
        results = self.model.reference_add_sa(internal)
        self.model.apply_add_sa(internal, results)
        return results


@mutant("ignores-disable", "RX-HW-CONFIGURED", "keeps processing frames after IPsec offload was disabled")
class IgnoresDisable(ReferenceNic):
    def set_offload(self, setting: IpsecV2Setting) -> NdisStatus:
        return NdisStatus.SUCCESS


@mutant("forgets-delete", "SA-AFTER-DELETE-NO-MATCH", "answers DELETE_SA with success but keeps using the SA")
class ForgetsDelete(ReferenceNic):
    def delete_sa(self, sa_id: int) -> NdisStatus:
        return self.model.reference_delete_sa(sa_id)


@mutant("ignores-esn-update", "SA-UPDATE-ESN", "answers UPDATE_SA with success but keeps the old ESN high bits")
class IgnoresEsnUpdate(ReferenceNic):
    def update_sa(self, update: UpdateSa) -> NdisStatus:
        return self.model.reference_update_sa(update)


@mutant("update-unknown-success", "SA-UPDATE-INVALID", "answers UPDATE_SA for an unknown SA with success")
class UpdateUnknownSuccess(ReferenceNic):
    def update_sa(self, update: UpdateSa) -> NdisStatus:
        status = self.model.reference_update_sa(update)
        self.model.apply_update_sa(update, status)
        return NdisStatus.SUCCESS


@mutant("null-handle", "SA-ADD-HANDLE", "reports success for an added SA without writing a handle")
class NullHandle(ReferenceNic):
    def add_sa(self, entries: Sequence[AddSaEntry]) -> Sequence[AddSaResult]:
        results = super().add_sa(entries)
        return [replace(r, handle=None) if r.status is NdisStatus.SUCCESS else r for r in results]


@mutant("delete-fails", "SA-DELETE-STATUS", "answers DELETE_SA with NDIS_STATUS_FAILURE (after deleting)")
class DeleteFails(ReferenceNic):
    def delete_sa(self, sa_id: int) -> NdisStatus:
        super().delete_sa(sa_id)
        return NdisStatus.FAILURE


@mutant(
    "self-delete",
    "SA-NO-SELF-DELETE",
    "sets SaDeleteReq on the first frame of an SA and drops the SA at once, before DELETE_SA arrives",
)
class SelfDelete(ReferenceNic):
    def receive(self, frame: bytes) -> Sequence[Indication]:
        expectation = self.model.receive(frame)
        indications = [expectation.reference] if expectation.reference is not None else []
        if indications and expectation.processed and expectation.matched_sa_ids:
            indications = [_with(indications[0], sa_delete_req=True)]
            self.model.apply_delete_sa(expectation.matched_sa_ids[0], NdisStatus.SUCCESS)
        return indications


@mutant("fragments-processed", "RX-FRAGMENT-NOT-PROCESSED", "processes IPv4 fragments of ESP/AH packets")
class FragmentsProcessed(ReferenceNic):
    def receive(self, frame: bytes) -> Sequence[Indication]:
        reassembled = _clear_ipv4_fragment_bits(frame)
        if reassembled is None:
            return super().receive(frame)
        expectation = self.model.receive(reassembled)
        if expectation.reference is None:
            return []
        ind = expectation.reference
        restored = frame[:22] + ind.frame[22:] if len(ind.frame) == len(frame) else frame
        return [replace(ind, frame=restored)]


def _clear_ipv4_fragment_bits(frame: bytes) -> bytes | None:
    """The frame with MF and the fragment offset cleared (as if reassembled), or None if it is no IPv4 fragment."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return None
    (flags_offset,) = struct.unpack_from("!H", frame, 20)
    if not flags_offset & 0x3FFF:
        return None
    header = bytearray(frame[14 : 14 + (frame[14] & 0x0F) * 4])
    struct.pack_into("!H", header, 6, flags_offset & 0x4000)
    struct.pack_into("!H", header, 10, 0)
    total = sum(struct.unpack(f"!{len(header) // 2}H", bytes(header)))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    struct.pack_into("!H", header, 10, ~total & 0xFFFF)
    return frame[:14] + bytes(header) + frame[14 + len(header) :]


# ---------------------------------------------------------------------------------------------------------------------
# Capability lies: the NIC denies a capability but behaves as if it had it (RX-CAPS-*)


def _lying(field: str, clause: str) -> None:
    def model_caps(self: ReferenceNic) -> Capabilities:
        return replace(self.capabilities, **{field: True})  # type: ignore[arg-type]

    def init(self: ReferenceNic, capabilities: Capabilities | None = None) -> None:
        reported = replace(capabilities or Capabilities(), **{field: False})  # type: ignore[arg-type]
        ReferenceNic.__init__(self, reported)

    name = "processes-unclaimed-" + field.replace("_", "-")
    cls = type(
        name.title().replace("-", ""),
        (ReferenceNic,),
        {"_model_capabilities": model_caps, "__init__": init, "__module__": __name__},
    )
    mutant(name, clause, f"reports {field} = FALSE but processes such packets anyway")(cls)


_lying("ipv4_options", "RX-CAPS-IPV4-OPTIONS")
_lying("ipv6_non_ipsec_extension_headers", "RX-CAPS-IPV6-EXTHDR")
_lying("transport_tunnel_combined", "RX-CAPS-TPT-TUN")


@mutant("skips-ipv6", "RX-PROCESS-ALL-MATCHING", "claims IPv6 but never processes IPv6 frames")
class SkipsIpv6(_PerFrameMutant):
    def mutate(
        self, frame: bytes, indications: list[Indication], *, processed: bool, shape: tuple[str, ...]
    ) -> list[Indication]:
        if processed and "ipv6" in shape:
            return [Indication(frame=frame, info=0)]
        return indications


def create(argument: str | None = None) -> ReferenceNic:
    """Entry point ``mutant``: ``--iut mutant:NAME``; ``--iut mutant`` alone lists the catalogue in the error."""
    if not argument or argument not in CATALOGUE:
        names = ", ".join(sorted(CATALOGUE))
        what = f"unknown mutant {argument!r}" if argument else "which mutant?"
        raise AdapterLoadError(f"--iut mutant:NAME: {what}; the catalogue has: {names}")
    return CATALOGUE[argument].factory()


def catalogue() -> list[MutantInfo]:
    return [CATALOGUE[name] for name in sorted(CATALOGUE)]


