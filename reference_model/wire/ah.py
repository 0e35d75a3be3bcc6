"""AH (RFC 4302) sealing and verification, with the mutable-field rules of IETF-AH-MUTABLE-V4/V6 and AH-OPTIONS-V4.

Both directions build the ICV input from the wire bytes and their ``DatagramView`` with one function
(``icv_input``), so a sender and the receiving model cannot disagree about which bytes are mutable. What is zeroed:

- IPv4: TOS, flags + fragment offset, TTL, header checksum; every option whose number is not in the immutable list of
  IETF-AH-OPTIONS-V4, in its entirety; the destination becomes the final one of an unfinished LSRR/SSRR.
- IPv6: traffic class, flow label, hop limit; the data (not type or length) of every hop-by-hop/destination option
  with the 0x20 "may change" bit; a type 0/2 routing header and the destination are written as they will be at the
  last hop (segments left 0, addresses rotated, ``ipv6.routing_at_destination``).
- The AH ICV field (the ICV proper; see below for AES-GMAC). ICV padding is kept: RFC 4302 section 3.3.3.2.1 counts
  it in the ICV computation. We send it as zeros.
- With ESN the high-order 32 bits are appended after the datagram (IETF-AH-FORMAT, IETF-ESP-ESN).

AES-GMAC in AH (RFC 4543 section 4, with verified erratum 3643). The spec marks the IV placement UNCONFIRMED
(IETF-GMAC). The reading implemented: the AH Authentication Data field is the 8-byte IV followed by the 16-byte tag,
so the AH is 12 + 8 + 16 = 36 bytes on IPv4 (Payload Len 7) and 40 on IPv6 (4 bytes of padding, Payload Len 8); the
nonce is salt ‖ IV as for GCM; the GMAC AAD is the same ICV input as for HMAC, with the whole Authentication Data
field (IV and tag) zeroed, because RFC 4302 zeroes the field it calls the ICV and RFC 4543 defines that field as IV
plus tag. The IV is still authenticated, through the nonce. ``GMAC_AAD_INCLUDES_IV`` switches to the other reading.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

from reference_model import crypto
from reference_model.algorithms import AUTHENTICATION
from reference_model.constants import IpProtocol, Operation
from reference_model.ndis import SecAssoc
from reference_model.wire.dissect import AhView, DatagramView
from reference_model.wire.ipv4 import option_is_mutable
from reference_model.wire.ipv6 import ADDRESS_ROUTING_TYPES, routing_at_destination

AH_FIXED = struct.Struct("!BBHII")
AH_FIXED_LENGTH = AH_FIXED.size
GMAC_AAD_INCLUDES_IV = False
"""False: the IV bytes are zeroed in the AAD along with the tag (the reading above); True: they are included."""


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


def ah_iv_length(sa: SecAssoc) -> int:
    """8 for AES-GMAC (the IV travels in the AH), else 0."""
    auth = sa.authentication
    if auth is None:
        return 0
    params = AUTHENTICATION[auth.algorithm]
    return params.iv_length if params.gmac else 0


def ah_length(sa: SecAssoc, *, ipv6: bool) -> int:
    """Total AH bytes for ``sa`` (IETF-AH-PAYLEN): 12 + [IV] + ICV, padded to 4 (IPv4) or 8 (IPv6) bytes."""
    raw = AH_FIXED_LENGTH + ah_iv_length(sa) + sa.icv_length
    align = 8 if ipv6 else 4
    return raw + -raw % align


def encode_ah_header(sa: SecAssoc, *, seq: int, iv: bytes, next_header: int, ipv6: bool) -> bytes:
    """The AH with its ICV field zero (``seal_ah`` fills it once the whole datagram exists)."""
    if sa.operation is not Operation.AH or sa.authentication is None:
        raise ValueError("AH needs an AH SecAssoc with an authentication algorithm")
    iv_length = ah_iv_length(sa)
    if len(iv) != iv_length:
        raise ValueError(f"AH IV must be {iv_length} bytes for this SA, got {len(iv)}")
    if not 0 <= seq <= 0xFFFF_FFFF_FFFF_FFFF:
        raise ValueError(f"seq {seq} is not a 64-bit sequence number")
    total = ah_length(sa, ipv6=ipv6)
    fixed = AH_FIXED.pack(next_header, total // 4 - 2, 0, sa.spi, seq & 0xFFFFFFFF)
    return fixed + iv + bytes(total - AH_FIXED_LENGTH - iv_length)


def _zeroed_span(ah: AhView, sa: SecAssoc) -> tuple[int, int]:
    """Absolute [start, stop) of the AH bytes that are zero in the ICV input."""
    iv_length = ah_iv_length(sa)
    start = ah.icv_offset + (iv_length if GMAC_AAD_INCLUDES_IV else 0)
    return start, ah.icv_offset + iv_length + sa.icv_length


def icv_input(datagram: bytes, view: DatagramView, sa: SecAssoc, *, seq_hi: int) -> bytes:
    """The bytes the AH ICV covers (RFC 4302 section 3.3.3), for the AH in ``view`` (which must have one)."""
    ah = view.ah
    if ah is None or view.final_dst is None:
        raise ValueError("no AH in this datagram")
    h = view.header_offset
    head = bytearray(datagram[h : ah.offset])
    if view.version == 4:
        head[1] = 0
        head[6:9] = b"\x00\x00\x00"
        head[10:12] = b"\x00\x00"
        head[16:20] = view.final_dst.packed
        for option in view.ipv4_options:
            if option_is_mutable(option.option_type):
                start = option.offset - h
                head[start : start + option.length] = bytes(option.length)
    else:
        head[0] = 0x60
        head[1:4] = b"\x00\x00\x00"
        head[7] = 0
        dst = bytes(head[24:40])
        for ext in view.extension_headers:
            base = ext.offset - h
            for opt in ext.options:
                if opt.may_change:
                    start = opt.data_offset - h
                    head[start : start + opt.data_length] = bytes(opt.data_length)
            if ext.kind == IpProtocol.IPV6_ROUTE and ext.routing_type in ADDRESS_ROUTING_TYPES and ext.segments_left:
                final, addresses = routing_at_destination(ipaddress.IPv6Address(dst), ext.addresses, ext.segments_left)
                dst = final.packed
                head[base + 3] = 0
                head[base + 8 : base + 8 + 16 * len(addresses)] = b"".join(a.packed for a in addresses)
        head[24:40] = dst
    start, stop = _zeroed_span(ah, sa)
    parts = [
        bytes(head),
        datagram[ah.offset : start],
        bytes(stop - start),
        datagram[stop : view.end],
    ]
    if sa.esn:
        parts.append(seq_hi.to_bytes(4, "big"))
    return b"".join(parts)


def _compute(sa: SecAssoc, message: bytes, iv: bytes) -> bytes:
    auth = sa.authentication
    assert auth is not None
    if AUTHENTICATION[auth.algorithm].gmac:
        return crypto.gmac_tag(auth.key, auth.salt, iv=iv, aad=message, icv_length=sa.icv_length)
    return crypto.hmac_icv(auth.algorithm, auth.key, message, length=sa.icv_length)


def seal_ah(datagram: bytes, view: DatagramView, sa: SecAssoc, *, seq_hi: int) -> bytes:
    """``datagram`` with its AH ICV field filled in. The AH header must already be in place with ICV bytes zero."""
    ah = view.ah
    if ah is None:
        raise ValueError("no AH in this datagram")
    iv_length = ah_iv_length(sa)
    iv = datagram[ah.icv_offset : ah.icv_offset + iv_length]
    icv = _compute(sa, icv_input(datagram, view, sa, seq_hi=seq_hi), iv)
    at = ah.icv_offset + iv_length
    return datagram[:at] + icv + datagram[at + len(icv) :]


def verify_ah(datagram: bytes, view: DatagramView, sa: SecAssoc, *, seq_hi: int) -> AhVerified:
    """Check the AH of ``datagram`` (IP header .. end; ``view`` = ``dissect_datagram(datagram)``). Never raises.

    ``datagram`` may also be a whole frame with ``view`` dissected at the IP offset: offsets are absolute. Syntax
    errors (RX-CRYPTOSTATUS-RESULT "lengths inconsistent") are listed; the ICV is still checked when the bytes it
    needs are there, so a caller can tell a bad ICV from a bad length.
    """
    ah = view.ah
    if ah is None:
        return AhVerified(
            spi=view.spi or 0,
            seq_low=view.seq_low or 0,
            next_header=0,
            icv_ok=False,
            syntax_errors=(view.error or "no AH header",),
        )
    errors: list[str] = []
    if sa.operation is not Operation.AH or sa.authentication is None:
        errors.append("the SA is not an AH SA with an authentication algorithm")
    else:
        expected = ah_length(sa, ipv6=view.version == 6)
        if ah.total_length != expected:
            errors.append(
                f"AH Payload Len {ah.payload_len} gives {ah.total_length} bytes; the SA's ICV needs {expected}"
            )
    if ah.total_length < AH_FIXED_LENGTH or ah.offset + ah.total_length > view.end:
        errors.append("AH overruns the datagram")
    if not view.total_length_ok:
        errors.append("IP length exceeds the received bytes")
    icv_ok = False
    if sa.authentication is not None and sa.operation is Operation.AH and view.final_dst is not None:
        iv_length = ah_iv_length(sa)
        stop = ah.icv_offset + iv_length + sa.icv_length
        if stop <= min(ah.offset + max(ah.total_length, 0), view.end):
            try:
                expected_icv = _compute(
                    sa,
                    icv_input(datagram, view, sa, seq_hi=seq_hi),
                    datagram[ah.icv_offset : ah.icv_offset + iv_length],
                )
            except ValueError as exc:
                errors.append(f"the SA's key cannot be used: {exc}")
            else:
                icv_ok = crypto.icv_equal(expected_icv, datagram[ah.icv_offset + iv_length : stop])
    return AhVerified(
        spi=ah.spi, seq_low=ah.seq_low, next_header=ah.next_header, icv_ok=icv_ok, syntax_errors=tuple(errors)
    )
