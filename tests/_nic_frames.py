"""Small builders for the NIC model tests: SAs, add entries, frames (via wire.frame.encode_frame) and lookups into an
Expectation. Test-only; keys and IVs are fixed bytes so every frame is reproducible."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from reference_model.algorithms import ENCRYPTION
from reference_model.constants import (
    AuthenticationAlgorithm,
    EncryptionAlgorithm,
    IpProtocol,
    NdisStatus,
    Operation,
    UdpEspEncapsulation,
)
from reference_model.expectation import Constraint, Expectation, ObservedField, Outcome
from reference_model.ndis import (
    AddSaEntry,
    AddSaResult,
    AuthenticationSpec,
    Capabilities,
    EncryptionSpec,
    IPAddress,
    SecAssoc,
)
from reference_model.nic import NicModel
from reference_model.packets import (
    AhLayer,
    Datagram,
    EspLayer,
    EthernetHeader,
    Frame,
    Ipv4Header,
    Ipv4Option,
    Ipv6ExtensionHeader,
    Ipv6Header,
    UdpEncapsulation,
    Upper,
)
from reference_model.profile import InterpretationProfile
from reference_model.wire.frame import encode_frame

V4 = ipaddress.IPv4Address
V6 = ipaddress.IPv6Address
SRC4, DST4 = V4("198.51.100.1"), V4("198.51.100.2")
INNER_SRC4, INNER_DST4 = V4("10.1.0.1"), V4("10.2.0.1")
SRC6, DST6 = V6("2001:db8::1"), V6("2001:db8::2")
OTHER4 = V4("198.51.100.99")


def gcm(spi: int, *, esn: bool = False, seq_hi: int = 0, icv: int = 16) -> SecAssoc:
    return SecAssoc(
        operation=Operation.ESP,
        spi=spi,
        esn=esn,
        seq_hi=seq_hi,
        encryption=EncryptionSpec(
            algorithm=EncryptionAlgorithm.AES_GCM_128, key=bytes(range(16)), salt=b"salt", icv_length=icv
        ),
    )


def cbc_sha(spi: int, *, esn: bool = False, seq_hi: int = 0) -> SecAssoc:
    return SecAssoc(
        operation=Operation.ESP,
        spi=spi,
        esn=esn,
        seq_hi=seq_hi,
        encryption=EncryptionSpec(algorithm=EncryptionAlgorithm.AES_CBC_128, key=bytes(range(1, 17))),
        authentication=AuthenticationSpec(algorithm=AuthenticationAlgorithm.SHA_1, key=bytes(range(20))),
    )


def ah_sha256(spi: int, *, esn: bool = False, seq_hi: int = 0) -> SecAssoc:
    return SecAssoc(
        operation=Operation.AH,
        spi=spi,
        esn=esn,
        seq_hi=seq_hi,
        authentication=AuthenticationSpec(algorithm=AuthenticationAlgorithm.SHA_256, key=bytes(range(32))),
    )


def entry(
    sa_id: int,
    *sas: SecAssoc,
    inbound: bool = True,
    src: IPAddress = SRC4,
    dst: IPAddress = DST4,
    udp: UdpEspEncapsulation = UdpEspEncapsulation.NONE,
) -> AddSaEntry:
    ordered = tuple(sorted(sas, key=lambda sa: sa.operation is Operation.AH))  # ESP first, then AH (MS-ADD)
    return AddSaEntry(
        sa_id=sa_id,
        inbound=inbound,
        ipv6=dst.version == 6,
        src=src,
        dst=dst,
        sec_assoc=ordered,
        udp_esp_encapsulation=udp,
    )


def model_with(
    *entries: AddSaEntry, caps: Capabilities | None = None, profile: InterpretationProfile | None = None
) -> NicModel:
    """A model whose IUT said SUCCESS to every entry (even unsupported ones), with distinct handles."""
    model = NicModel(caps or Capabilities(), profile)
    add_ok(model, entries)
    return model


def add_ok(model: NicModel, entries: Iterable[AddSaEntry]) -> None:
    entries = tuple(entries)
    base = 100 + len(model.sa_table())
    results = [AddSaResult(sa_id=e.sa_id, status=NdisStatus.SUCCESS, handle=base + i) for i, e in enumerate(entries)]
    model.apply_add_sa(entries, results)


def esp_layer(sa: SecAssoc, *, seq: int = 1, **kw: object) -> EspLayer:
    iv = b"" if sa.encryption is None else bytes(range(ENCRYPTION[sa.encryption.algorithm].iv_length))
    return EspLayer(sec_assoc=sa, seq=seq, iv=iv, **kw)  # type: ignore[arg-type]


def datagram(
    *,
    esp: SecAssoc | None = None,
    ah: SecAssoc | None = None,
    src: IPAddress = SRC4,
    dst: IPAddress = DST4,
    seq: int = 1,
    payload: Upper | Datagram | None = None,
    udp: bool = False,
    options: tuple[Ipv4Option, ...] = (),
    ext: tuple[Ipv6ExtensionHeader, ...] = (),
    flags: int = 0,
    esp_kw: dict[str, object] | None = None,
) -> Datagram:
    ip: Ipv4Header | Ipv6Header
    if dst.version == 6:
        ip = Ipv6Header(src=src, dst=dst, extension_headers=ext)  # type: ignore[arg-type]
    else:
        ip = Ipv4Header(src=src, dst=dst, options=options, flags=flags)  # type: ignore[arg-type]
    return Datagram(
        ip=ip,
        esp=None if esp is None else esp_layer(esp, seq=seq, **(esp_kw or {})),
        ah=None if ah is None else AhLayer(sec_assoc=ah, seq=seq),
        udp=UdpEncapsulation() if udp else None,
        payload=payload if payload is not None else Upper(protocol=IpProtocol.UDP, data=b"payload-bytes-0123"),
    )


def frame(dg: Datagram, *, vlan: int | None = None) -> bytes:
    return encode_frame(Frame(ethernet=EthernetHeader(vlan=vlan), datagram=dg))


def flip(data: bytes, offset_from_end: int) -> bytes:
    out = bytearray(data)
    out[len(out) - offset_from_end] ^= 0x01
    return bytes(out)


# ----------------------------------------------------------------------------------------------------------------
# Reading an expectation


def constraints(outcome: Outcome, field: ObservedField) -> list[Constraint]:
    return [c for c in outcome.constraints if c.field is field]


def the(outcome: Outcome, field: ObservedField, clause: str | None = None) -> Constraint:
    found = [c for c in constraints(outcome, field) if clause is None or c.clause == clause]
    assert len(found) == 1, (field, clause, outcome.constraints)
    return found[0]


def status_allowed(exp: Expectation, outcome: int = 0) -> frozenset[object]:
    return the(exp.outcomes[outcome], ObservedField.CRYPTO_STATUS, "RX-CRYPTOSTATUS-RESULT").allowed


def assert_reference_consistent(exp: Expectation) -> None:
    """The reference NIC's own indication satisfies the primary outcome (the reference adapter is conformant)."""
    assert exp.reference is not None
    assert exp.primary.violations([exp.reference]) == []


def assert_unprocessed(exp: Expectation, received: bytes, clause: str) -> None:
    assert_reference_consistent(exp)
    assert not exp.processed
    done = the(exp.primary, ObservedField.CRYPTO_DONE, clause)
    assert done.allowed == frozenset({0})
    # RX-FLAGS-CLEAR-NOT-DECRYPTED says the same of every unprocessed frame, at no more than the deciding strength.
    flags = the(exp.primary, ObservedField.CRYPTO_DONE, "RX-FLAGS-CLEAR-NOT-DECRYPTED")
    assert flags.allowed == frozenset({0})
    assert flags.level.strict <= done.level.strict
    assert the(exp.primary, ObservedField.NEXT_CRYPTO_DONE).allowed == frozenset({0})
    assert the(exp.primary, ObservedField.CRYPTO_STATUS).allowed == frozenset({0})
    assert the(exp.primary, ObservedField.FRAME).allowed == frozenset({received})
    assert exp.reference is not None
    assert exp.reference.frame == received
    assert exp.reference.info == 0


def assert_processed_ok(exp: Expectation, *, both: bool = False) -> None:
    assert_reference_consistent(exp)
    assert exp.processed
    assert the(exp.primary, ObservedField.CRYPTO_DONE, "RX-PROCESS-ALL-MATCHING").allowed == frozenset({1})
    assert the(exp.primary, ObservedField.NEXT_CRYPTO_DONE).allowed == frozenset({int(both)})
    assert status_allowed(exp) == frozenset({0})


def ref_frame(exp: Expectation) -> bytes:
    assert exp.reference is not None
    return exp.reference.frame
