"""AH (RFC 4302) sealing and verification, with the mutable-field rules of IETF-AH-MUTABLE-V4/V6 and AH-OPTIONS-V4."""

from __future__ import annotations

from dataclasses import dataclass

from reference_model.ndis import SecAssoc
from reference_model.wire.dissect import DatagramView


@dataclass(frozen=True, slots=True, kw_only=True)
class AhVerified:
    """The result of checking one AH: the header fields and whether the ICV matched (IETF-AH-FORMAT)."""

    spi: int
    seq_low: int
    next_header: int
    icv_ok: bool
    syntax_errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.icv_ok and not self.syntax_errors


def ah_length(sa: SecAssoc, *, ipv6: bool) -> int:
    """Total AH bytes for ``sa`` (IETF-AH-PAYLEN): 12 + [IV] + ICV, padded to 4 (IPv4) or 8 (IPv6) bytes."""
    raise NotImplementedError


def seal_ah(datagram: bytes, view: DatagramView, sa: SecAssoc, *, seq_hi: int) -> bytes:
    """``datagram`` with its AH ICV field filled in. The AH header must already be in place with ICV bytes zero."""
    raise NotImplementedError


def verify_ah(datagram: bytes, view: DatagramView, sa: SecAssoc, *, seq_hi: int) -> AhVerified:
    """Check the AH of ``datagram`` (IP header .. end; ``view`` = ``dissect_datagram(datagram)``). Never raises."""
    raise NotImplementedError
