"""The NDIS-side values the adapter protocol carries: capabilities, SA requests and results, receive OOB data.

Each type is a frozen, slotted dataclass with ``to_json()`` (a JSON-ready dict in the exact shape of
``shared/design/adapter-protocol.md``) and ``from_json()`` (strict: a wrong type, a missing field, bad hex or an
out-of-range number raises ``WireFormatError`` naming the field). Unknown fields are ignored, as the protocol says.

``ReceiveInfo`` keeps the reserved bits (3..15) and any bits above 31 so that RX-RESERVED-ZERO and AMB-24 can be
checked; nothing here normalises what an implementation under test reported.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from reference_model.algorithms import AUTHENTICATION, AUTHENTICATION_BY_NAME, ENCRYPTION, ENCRYPTION_BY_NAME
from reference_model.constants import (
    ALL_AUTHENTICATION,
    ALL_ENCRYPTION,
    ALL_UDP_ESP,
    CRYPTO_STATUS_SHIFT,
    RESERVED_SHIFT,
    AuthenticationAlgorithm,
    CryptoStatus,
    Encapsulation,
    EncryptionAlgorithm,
    HeaderInfoMask,
    IpsecV2Setting,
    NdisStatus,
    Operation,
    ReceiveInfoMask,
    UdpEspEncapsulation,
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

UINT32_MAX = 0xFFFFFFFF


class WireFormatError(ValueError):
    """A JSON value does not have the shape the adapter protocol requires; the message names the field."""


# --------------------------------------------------------------------------------------------------------------------
# Small strict readers. They are the one place where "a string where a number belongs" becomes a clear error.


def _get(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(obj, Mapping):
        raise WireFormatError(f"{where}: expected an object, got {type(obj).__name__}")
    if key not in obj:
        raise WireFormatError(f"{where}: missing field {key!r}")
    return obj[key]


def read_bool(obj: Mapping[str, Any], key: str, where: str) -> bool:
    value = _get(obj, key, where)
    if not isinstance(value, bool):
        raise WireFormatError(f"{where}.{key}: expected true/false, got {value!r:.60}")
    return value


def read_int(obj: Mapping[str, Any], key: str, where: str, *, lo: int = 0, hi: int = UINT32_MAX) -> int:
    value = _get(obj, key, where)
    if isinstance(value, bool) or not isinstance(value, int):
        raise WireFormatError(f"{where}.{key}: expected an integer, got {value!r:.60}")
    if not lo <= value <= hi:
        raise WireFormatError(f"{where}.{key}: {value} is outside {lo}..{hi}")
    return value


def read_str(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = _get(obj, key, where)
    if not isinstance(value, str):
        raise WireFormatError(f"{where}.{key}: expected a string, got {value!r:.60}")
    return value


def read_hex(obj: Mapping[str, Any], key: str, where: str) -> bytes:
    text = read_str(obj, key, where)
    return hex_to_bytes(text, f"{where}.{key}")


def hex_to_bytes(text: str, where: str) -> bytes:
    """Lower- or upper-case hex without separators; odd length or a non-hex digit is a ``WireFormatError``."""
    if len(text) % 2:
        raise WireFormatError(f"{where}: hex string has odd length {len(text)}")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise WireFormatError(f"{where}: not a hex string: {text[:40]!r}") from None


def read_address(obj: Mapping[str, Any], key: str, where: str, *, ipv6: bool) -> IPAddress:
    text = read_str(obj, key, where)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise WireFormatError(f"{where}.{key}: not an IP address: {text[:60]!r}") from None
    if (address.version == 6) != ipv6:
        raise WireFormatError(f"{where}.{key}: {text} is not an IPv{6 if ipv6 else 4} address")
    return address


def read_status(obj: Mapping[str, Any], key: str, where: str) -> NdisStatus:
    text = read_str(obj, key, where)
    try:
        return NdisStatus[text]
    except KeyError:
        raise WireFormatError(f"{where}.{key}: unknown NDIS status {text[:60]!r}") from None


# --------------------------------------------------------------------------------------------------------------------
# Capabilities (CAP-*, section 4.1)

_CAPS_STRUCT = struct.Struct("<I11B1xIIII")

_CAPS_BOOL_FIELDS = (
    "ipv6_supported",
    "ipv4_options",
    "ipv6_non_ipsec_extension_headers",
    "ah",
    "esp",
    "ah_esp_combined",
    "transport",
    "tunnel",
    "transport_tunnel_combined",
    "lso_supported",
    "extended_sequence_numbers",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Capabilities:
    """``NDIS_IPSEC_OFFLOAD_V2`` (section 4.1): what the miniport reported for the current configuration.

    The defaults describe a NIC that claims everything (every algorithm, every UDP-ESP subtype, 64 bundles).
    """

    encapsulation: Encapsulation = Encapsulation.IEEE_802_3
    ipv6_supported: bool = True
    ipv4_options: bool = True
    ipv6_non_ipsec_extension_headers: bool = True
    ah: bool = True
    esp: bool = True
    ah_esp_combined: bool = True
    transport: bool = True
    tunnel: bool = True
    transport_tunnel_combined: bool = True
    lso_supported: bool = False
    extended_sequence_numbers: bool = True
    udp_esp: UdpEspEncapsulation = ALL_UDP_ESP
    authentication_algorithms: AuthenticationAlgorithm = ALL_AUTHENTICATION
    encryption_algorithms: EncryptionAlgorithm = ALL_ENCRYPTION
    sa_offload_capacity: int = 64

    def pack(self) -> bytes:
        """The 0x20-byte little-endian C layout of section 4.1 (H-SYM offsets)."""
        return _CAPS_STRUCT.pack(
            int(self.encapsulation),
            *(int(getattr(self, name)) for name in _CAPS_BOOL_FIELDS),
            int(self.udp_esp),
            int(self.authentication_algorithms),
            int(self.encryption_algorithms),
            self.sa_offload_capacity,
        )

    @classmethod
    def unpack(cls, data: bytes) -> Self:
        values = _CAPS_STRUCT.unpack(data)
        bools = {name: bool(v) for name, v in zip(_CAPS_BOOL_FIELDS, values[1:12], strict=True)}
        return cls(
            encapsulation=Encapsulation(values[0]),
            udp_esp=UdpEspEncapsulation(values[12]),
            authentication_algorithms=AuthenticationAlgorithm(values[13]),
            encryption_algorithms=EncryptionAlgorithm(values[14]),
            sa_offload_capacity=values[15],
            **bools,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"encapsulation": int(self.encapsulation)}
        out.update({name: getattr(self, name) for name in _CAPS_BOOL_FIELDS})
        out["udp_esp"] = int(self.udp_esp)
        out["authentication_algorithms"] = int(self.authentication_algorithms)
        out["encryption_algorithms"] = int(self.encryption_algorithms)
        out["sa_offload_capacity"] = self.sa_offload_capacity
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "capabilities") -> Self:
        return cls(
            encapsulation=Encapsulation(read_int(obj, "encapsulation", where)),
            udp_esp=UdpEspEncapsulation(read_int(obj, "udp_esp", where)),
            authentication_algorithms=AuthenticationAlgorithm(read_int(obj, "authentication_algorithms", where)),
            encryption_algorithms=EncryptionAlgorithm(read_int(obj, "encryption_algorithms", where)),
            sa_offload_capacity=read_int(obj, "sa_offload_capacity", where),
            **{name: read_bool(obj, name, where) for name in _CAPS_BOOL_FIELDS},
        )

    def inconsistencies(self) -> list[str]:
        """CAP-CONSISTENCY, CAP-TUNNEL-TRUE, CAP-ENCAP-8023, CAP-SACAPACITY: what contradicts itself (empty if none)."""
        problems: list[str] = []
        if self.ah_esp_combined and not (self.ah and self.esp):
            problems.append("CAP-CONSISTENCY: ah_esp_combined without both ah and esp")
        if self.transport_tunnel_combined and not (self.transport and self.tunnel):
            problems.append("CAP-CONSISTENCY: transport_tunnel_combined without both transport and tunnel")
        if self.udp_esp and not self.esp:
            problems.append("CAP-CONSISTENCY: udp_esp set without esp")
        if self.encryption_algorithms and not self.esp:
            problems.append("CAP-CONSISTENCY: encryption algorithms without esp")
        if (self.ah or self.esp) and not self.tunnel:
            problems.append("CAP-TUNNEL-TRUE: tunnel must be TRUE to support IPsec offload")
        if (self.ah or self.esp) and not self.encapsulation & Encapsulation.IEEE_802_3:
            problems.append("CAP-ENCAP-8023: encapsulation lacks IEEE_802_3")
        if (self.ah or self.esp) and self.sa_offload_capacity == 0:
            problems.append("CAP-SACAPACITY: sa_offload_capacity is 0 while ah/esp are claimed")
        return problems


@dataclass(frozen=True, slots=True, kw_only=True)
class Hello:
    """The answer to ``hello``: who the IUT is and what it reported."""

    name: str
    version: str
    capabilities: Capabilities

    def to_json(self) -> dict[str, Any]:
        return {"ok": True, "name": self.name, "version": self.version, "capabilities": self.capabilities.to_json()}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "hello") -> Self:
        return cls(
            name=read_str(obj, "name", where),
            version=read_str(obj, "version", where),
            capabilities=Capabilities.from_json(_get(obj, "capabilities", where), f"{where}.capabilities"),
        )


# --------------------------------------------------------------------------------------------------------------------
# Security associations (section 5)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticationSpec:
    """``AuthenticationAlgorithm`` of one SecAssoc entry: HMAC (key only) or AES-GMAC (key, salt, ICV length)."""

    algorithm: AuthenticationAlgorithm
    key: bytes
    salt: bytes = b""
    icv_length: int | None = None

    @property
    def effective_icv_length(self) -> int:
        return self.icv_length if self.icv_length is not None else AUTHENTICATION[self.algorithm].icv_lengths[0]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"algorithm": AUTHENTICATION[self.algorithm].wire_name, "key": self.key.hex()}
        if AUTHENTICATION[self.algorithm].gmac:
            out["salt"] = self.salt.hex()
            out["icv_length"] = self.effective_icv_length
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str) -> Self:
        name = read_str(obj, "algorithm", where)
        if name not in AUTHENTICATION_BY_NAME:
            raise WireFormatError(f"{where}.algorithm: unknown authentication algorithm {name[:40]!r}")
        algorithm = AUTHENTICATION_BY_NAME[name]
        gmac = AUTHENTICATION[algorithm].gmac
        return cls(
            algorithm=algorithm,
            key=read_hex(obj, "key", where),
            salt=read_hex(obj, "salt", where) if gmac else b"",
            icv_length=read_int(obj, "icv_length", where, hi=64) if gmac else None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class EncryptionSpec:
    """``EncryptionAlgorithm`` of one ESP SecAssoc entry: NULL, a CBC cipher, or AES-GCM (key, salt, ICV length)."""

    algorithm: EncryptionAlgorithm
    key: bytes = b""
    salt: bytes = b""
    icv_length: int | None = None

    @property
    def effective_icv_length(self) -> int:
        params = ENCRYPTION[self.algorithm]
        if not params.combined_mode:
            return 0
        return self.icv_length if self.icv_length is not None else params.icv_lengths[0]

    def to_json(self) -> dict[str, Any]:
        params = ENCRYPTION[self.algorithm]
        out: dict[str, Any] = {"algorithm": params.wire_name}
        if self.algorithm is not EncryptionAlgorithm.NONE:
            out["key"] = self.key.hex()
        if params.combined_mode:
            out["salt"] = self.salt.hex()
            out["icv_length"] = self.effective_icv_length
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str) -> Self:
        name = read_str(obj, "algorithm", where)
        if name not in ENCRYPTION_BY_NAME:
            raise WireFormatError(f"{where}.algorithm: unknown encryption algorithm {name[:40]!r}")
        algorithm = ENCRYPTION_BY_NAME[name]
        params = ENCRYPTION[algorithm]
        return cls(
            algorithm=algorithm,
            key=b"" if algorithm is EncryptionAlgorithm.NONE else read_hex(obj, "key", where),
            salt=read_hex(obj, "salt", where) if params.combined_mode else b"",
            icv_length=read_int(obj, "icv_length", where, hi=64) if params.combined_mode else None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SecAssoc:
    """``IPSEC_OFFLOAD_V2_SECURITY_ASSOCIATION`` (section 5.2): one AH or ESP operation of a bundle."""

    operation: Operation
    spi: int
    esn: bool = False
    seq_hi: int = 0
    authentication: AuthenticationSpec | None = None
    encryption: EncryptionSpec | None = None

    @property
    def icv_length(self) -> int:
        """Bytes of ICV this operation puts on the wire (0 for confidentiality-only ESP)."""
        if self.encryption is not None and ENCRYPTION[self.encryption.algorithm].combined_mode:
            return self.encryption.effective_icv_length
        if self.authentication is not None:
            return self.authentication.effective_icv_length
        return 0

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": "ah" if self.operation is Operation.AH else "esp",
            "spi": self.spi,
            "esn": self.esn,
            "seq_hi": self.seq_hi,
            "authentication": None if self.authentication is None else self.authentication.to_json(),
            "encryption": None if self.encryption is None else self.encryption.to_json(),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str) -> Self:
        op = read_str(obj, "operation", where)
        if op not in ("ah", "esp"):
            raise WireFormatError(f"{where}.operation: expected 'ah' or 'esp', got {op[:40]!r}")
        auth = _get(obj, "authentication", where)
        enc = _get(obj, "encryption", where)
        return cls(
            operation=Operation.AH if op == "ah" else Operation.ESP,
            spi=read_int(obj, "spi", where),
            esn=read_bool(obj, "esn", where),
            seq_hi=read_int(obj, "seq_hi", where),
            authentication=None if auth is None else AuthenticationSpec.from_json(auth, f"{where}.authentication"),
            encryption=None if enc is None else EncryptionSpec.from_json(enc, f"{where}.encryption"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AddSaEntry:
    """``IPSEC_OFFLOAD_V2_ADD_SA`` (one direction of one SA bundle), named by the suite's ``sa_id``."""

    sa_id: int
    inbound: bool
    ipv6: bool
    src: IPAddress
    dst: IPAddress
    sec_assoc: tuple[SecAssoc, ...]
    udp_esp_encapsulation: UdpEspEncapsulation = UdpEspEncapsulation.NONE

    @property
    def esp(self) -> SecAssoc | None:
        return next((sa for sa in self.sec_assoc if sa.operation is Operation.ESP), None)

    @property
    def ah(self) -> SecAssoc | None:
        return next((sa for sa in self.sec_assoc if sa.operation is Operation.AH), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "sa_id": self.sa_id,
            "inbound": self.inbound,
            "ipv6": self.ipv6,
            "src": str(self.src),
            "dst": str(self.dst),
            "udp_esp_encapsulation": int(self.udp_esp_encapsulation),
            "sec_assoc": [sa.to_json() for sa in self.sec_assoc],
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "entry") -> Self:
        ipv6 = read_bool(obj, "ipv6", where)
        sas = _get(obj, "sec_assoc", where)
        if not isinstance(sas, list) or not 1 <= len(sas) <= 2:
            raise WireFormatError(f"{where}.sec_assoc: expected a list of 1 or 2 entries")
        return cls(
            sa_id=read_int(obj, "sa_id", where),
            inbound=read_bool(obj, "inbound", where),
            ipv6=ipv6,
            src=read_address(obj, "src", where, ipv6=ipv6),
            dst=read_address(obj, "dst", where, ipv6=ipv6),
            udp_esp_encapsulation=UdpEspEncapsulation(read_int(obj, "udp_esp_encapsulation", where)),
            sec_assoc=tuple(SecAssoc.from_json(sa, f"{where}.sec_assoc[{i}]") for i, sa in enumerate(sas)),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AddSaResult:
    """The result of one add-SA entry: its status and, on success, the ``OffloadHandle`` (SA-ADD-HANDLE)."""

    sa_id: int
    status: NdisStatus
    handle: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sa_id": self.sa_id, "status": self.status.name}
        if self.handle is not None:
            out["handle"] = self.handle
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "result") -> Self:
        handle = obj.get("handle") if isinstance(obj, Mapping) else None
        return cls(
            sa_id=read_int(obj, "sa_id", where),
            status=read_status(obj, "status", where),
            handle=None if handle is None else read_int(obj, "handle", where, hi=2**64 - 1),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateSa:
    """``IPSEC_OFFLOAD_V2_UPDATE_SA`` (one per request, AMB-14): new ESN high-order bits for one SecAssoc entry."""

    sa_id: int
    operation: Operation
    spi: int
    seq_hi: int

    def to_json(self) -> dict[str, Any]:
        return {
            "op": "update_sa",
            "sa_id": self.sa_id,
            "operation": "ah" if self.operation is Operation.AH else "esp",
            "spi": self.spi,
            "seq_hi": self.seq_hi,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "update_sa") -> Self:
        op = read_str(obj, "operation", where)
        if op not in ("ah", "esp"):
            raise WireFormatError(f"{where}.operation: expected 'ah' or 'esp', got {op[:40]!r}")
        return cls(
            sa_id=read_int(obj, "sa_id", where),
            operation=Operation.AH if op == "ah" else Operation.ESP,
            spi=read_int(obj, "spi", where),
            seq_hi=read_int(obj, "seq_hi", where),
        )


def setting_from_wire(text: str, where: str = "set_offload.ipsec_v2") -> IpsecV2Setting:
    for setting in IpsecV2Setting:
        if setting.wire_name == text:
            return setting
    raise WireFormatError(f"{where}: unknown setting {text[:40]!r}")


# --------------------------------------------------------------------------------------------------------------------
# Receive OOB data (OOB-02, OOB-04)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiveInfo:
    """The receive half of ``NDIS_IPSEC_OFFLOAD_V2_NET_BUFFER_LIST_INFO`` decoded field by field.

    ``crypto_status`` is an int, not a ``CryptoStatus``: an IUT may report a value no header defines, and the judge
    must be able to say so. ``high_bits`` holds bits 32 and up of the slot (AMB-24).
    """

    sa_delete_req: bool = False
    crypto_done: bool = False
    next_crypto_done: bool = False
    reserved: int = 0
    crypto_status: int = 0
    high_bits: int = 0

    def pack(self) -> int:
        return (
            int(self.sa_delete_req)
            | int(self.crypto_done) << 1
            | int(self.next_crypto_done) << 2
            | (self.reserved << RESERVED_SHIFT) & ReceiveInfoMask.RESERVED
            | (self.crypto_status << CRYPTO_STATUS_SHIFT) & ReceiveInfoMask.CRYPTO_STATUS
            | self.high_bits << 32
        )

    @classmethod
    def unpack(cls, value: int) -> Self:
        return cls(
            sa_delete_req=bool(value & ReceiveInfoMask.SA_DELETE_REQ),
            crypto_done=bool(value & ReceiveInfoMask.CRYPTO_DONE),
            next_crypto_done=bool(value & ReceiveInfoMask.NEXT_CRYPTO_DONE),
            reserved=(value & ReceiveInfoMask.RESERVED) >> RESERVED_SHIFT,
            crypto_status=(value & ReceiveInfoMask.CRYPTO_STATUS) >> CRYPTO_STATUS_SHIFT,
            high_bits=value >> 32,
        )

    @property
    def status_name(self) -> str:
        try:
            return "CRYPTO_" + CryptoStatus(self.crypto_status).name
        except ValueError:
            return f"undefined CryptoStatus {self.crypto_status}"

    def describe(self) -> str:
        """One line a person reads in a report: every field by name."""
        parts = [
            f"SaDeleteReq={int(self.sa_delete_req)}",
            f"CryptoDone={int(self.crypto_done)}",
            f"NextCryptoDone={int(self.next_crypto_done)}",
            f"CryptoStatus={self.status_name}",
        ]
        if self.reserved:
            parts.append(f"Reserved=0x{self.reserved:x}")
        if self.high_bits:
            parts.append(f"HighBits=0x{self.high_bits:x}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class HeaderInfo:
    """The receive half of ``NDIS_IPSEC_OFFLOAD_V2_HEADER_NET_BUFFER_LIST_INFO`` with HeaderInfoSet = 1."""

    next_header: int
    pad_length: int

    def pack(self) -> int:
        return self.next_header & 0xFF | (self.pad_length & 0xFF) << 8 | HeaderInfoMask.HEADER_INFO_SET

    def to_json(self) -> dict[str, Any]:
        return {"next_header": self.next_header, "pad_length": self.pad_length}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "header_info") -> Self:
        return cls(
            next_header=read_int(obj, "next_header", where, hi=255),
            pad_length=read_int(obj, "pad_length", where, hi=255),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Indication:
    """One NBL the miniport indicated: the frame bytes and the raw receive OOB value (slot 1)."""

    frame: bytes
    info: int = 0
    header_info: HeaderInfo | None = None

    @property
    def receive_info(self) -> ReceiveInfo:
        return ReceiveInfo.unpack(self.info)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"frame": self.frame.hex(), "info": self.info}
        if self.header_info is not None:
            out["header_info"] = self.header_info.to_json()
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "indication") -> Self:
        header = obj.get("header_info") if isinstance(obj, Mapping) else None
        return cls(
            frame=read_hex(obj, "frame", where),
            info=read_int(obj, "info", where, hi=2**64 - 1),
            header_info=None if header is None else HeaderInfo.from_json(header, f"{where}.header_info"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SaTableRow:
    """One bundle as a report shows it: the add entry, the IUT's answer, and whether it is still offloaded."""

    entry: AddSaEntry
    result: AddSaResult | None = None
    deleted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "entry": self.entry.to_json(),
            "result": None if self.result is None else self.result.to_json(),
            "deleted": self.deleted,
        }


def entries_to_json(entries: Sequence[AddSaEntry]) -> list[dict[str, Any]]:
    return [e.to_json() for e in entries]


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """Everything the IUT did because of one received frame (section 0.2 IND, RXINFO, FRAME)."""

    indications: tuple[Indication, ...] = field(default_factory=tuple)
