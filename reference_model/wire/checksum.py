"""The Internet checksum (RFC 1071) for IPv4 headers and UDP.

Computed with one big-integer remainder instead of a loop over 16-bit words: because 2**16 is 1 modulo 0xFFFF, the
one's-complement sum of the 16-bit words of ``data`` is congruent to ``int.from_bytes(data)`` modulo 0xFFFF, so the
whole sum is a single ``%``. The only care needed is the one's-complement "negative zero": a non-zero input whose sum
is a multiple of 0xFFFF sums to 0xFFFF, not 0.
"""

from __future__ import annotations

import ipaddress

from reference_model.constants import IpProtocol


def ones_complement_sum(data: bytes | bytearray | memoryview, initial: int = 0) -> int:
    """The 16-bit one's-complement sum of ``data`` (odd length: padded with a zero byte) plus ``initial``."""
    value = int.from_bytes(data, "big")
    if len(data) & 1:
        value <<= 8
    value += initial
    if not value:
        return 0
    rest = value % 0xFFFF
    return rest if rest else 0xFFFF


def internet_checksum(data: bytes | bytearray | memoryview, initial: int = 0) -> int:
    """The value to put in a checksum field so that the header sums to 0xFFFF (RFC 1071)."""
    return ~ones_complement_sum(data, initial) & 0xFFFF


def pseudo_header_sum(
    src: ipaddress.IPv4Address | ipaddress.IPv6Address,
    dst: ipaddress.IPv4Address | ipaddress.IPv6Address,
    protocol: int,
    length: int,
) -> int:
    """The one's-complement sum of the IPv4 (RFC 768) or IPv6 (RFC 8200 section 8.1) pseudo-header."""
    return ones_complement_sum(src.packed + dst.packed + (length).to_bytes(4, "big") + bytes((0, 0, 0, protocol)))


def udp_checksum(
    src: ipaddress.IPv4Address | ipaddress.IPv6Address,
    dst: ipaddress.IPv4Address | ipaddress.IPv6Address,
    segment: bytes,
) -> int:
    """The UDP checksum of ``segment`` (header with checksum field zero, plus payload); 0 is sent as 0xFFFF."""
    value = internet_checksum(segment, pseudo_header_sum(src, dst, IpProtocol.UDP, len(segment)))
    return value or 0xFFFF
