"""Decoding of the receive OOB value (OOB-02, OOB-03) for people reading a report.

Repeated here on purpose instead of imported from ``reference_model``: a report must be rebuildable from a results
file alone (architecture, Reports). Everything is a few masks from the spec's OOB-02 table, so the duplication is small
and a test pins it against the spec values.
"""

from __future__ import annotations

from dataclasses import dataclass

SA_DELETE_REQ = 0x00000001
CRYPTO_DONE = 0x00000002
NEXT_CRYPTO_DONE = 0x00000004
RESERVED = 0x0000FFF8
RESERVED_SHIFT = 3
CRYPTO_STATUS = 0xFFFF0000
CRYPTO_STATUS_SHIFT = 16

CRYPTO_STATUS_NAMES: dict[int, str] = {
    0: "CRYPTO_SUCCESS",
    1: "CRYPTO_GENERIC_ERROR",
    2: "CRYPTO_TRANSPORT_AH_AUTH_FAILED",
    3: "CRYPTO_TRANSPORT_ESP_AUTH_FAILED",
    4: "CRYPTO_TUNNEL_AH_AUTH_FAILED",
    5: "CRYPTO_TUNNEL_ESP_AUTH_FAILED",
    6: "CRYPTO_INVALID_PACKET_SYNTAX",
    7: "CRYPTO_INVALID_PROTOCOL",
}
"""OOB-03: the only values the headers define."""

FIELDS = ("SaDeleteReq", "CryptoDone", "NextCryptoDone", "Reserved", "CryptoStatus", "HighBits")
"""The fields of ``Receive`` in bit order, named as in ndis.h, plus the slot's bits 32 and up (AMB-24)."""


def crypto_status_name(value: int) -> str:
    """``CRYPTO_TRANSPORT_ESP_AUTH_FAILED`` for 3; an undefined value says so instead of guessing."""
    return CRYPTO_STATUS_NAMES.get(value, f"undefined CryptoStatus {value}")


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodedInfo:
    """The receive half of ``NDIS_IPSEC_OFFLOAD_V2_NET_BUFFER_LIST_INFO``, field by field."""

    raw: int
    sa_delete_req: int
    crypto_done: int
    next_crypto_done: int
    reserved: int
    crypto_status: int
    high_bits: int

    def fields(self) -> dict[str, int]:
        """Field name (``FIELDS``) -> value."""
        return {
            "SaDeleteReq": self.sa_delete_req,
            "CryptoDone": self.crypto_done,
            "NextCryptoDone": self.next_crypto_done,
            "Reserved": self.reserved,
            "CryptoStatus": self.crypto_status,
            "HighBits": self.high_bits,
        }

    def describe(self) -> str:
        """One line: ``SaDeleteReq=0 CryptoDone=1 NextCryptoDone=0 CryptoStatus=CRYPTO_SUCCESS`` (+ odd bits)."""
        parts = [
            f"SaDeleteReq={self.sa_delete_req}",
            f"CryptoDone={self.crypto_done}",
            f"NextCryptoDone={self.next_crypto_done}",
            f"CryptoStatus={crypto_status_name(self.crypto_status)}",
        ]
        if self.reserved:
            parts.append(f"Reserved=0x{self.reserved:x}")
        if self.high_bits:
            parts.append(f"HighBits=0x{self.high_bits:x}")
        return " ".join(parts)

    def to_json(self) -> dict[str, object]:
        return {
            "raw": self.raw,
            "hex": f"0x{self.raw:08x}",
            **self.fields(),
            "CryptoStatusName": crypto_status_name(self.crypto_status),
            "text": self.describe(),
        }


def decode_info(value: int) -> DecodedInfo:
    """Split a slot value (up to 64 bits) into its fields; never raises for a non-negative int."""
    return DecodedInfo(
        raw=value,
        sa_delete_req=int(bool(value & SA_DELETE_REQ)),
        crypto_done=int(bool(value & CRYPTO_DONE)),
        next_crypto_done=int(bool(value & NEXT_CRYPTO_DONE)),
        reserved=(value & RESERVED) >> RESERVED_SHIFT,
        crypto_status=(value & CRYPTO_STATUS) >> CRYPTO_STATUS_SHIFT,
        high_bits=value >> 32,
    )
