"""IPv6 headers and extension headers (RFC 8200), and the AH view of them (IETF-AH-MUTABLE-V6)."""

from __future__ import annotations

import ipaddress
import struct

from reference_model.constants import IpProtocol
from reference_model.packets import (
    Ipv6ExtensionHeader,
    Ipv6Header,
    Ipv6OptionsHeader,
    Ipv6RoutingHeader,
)

IPV6_HEADER = struct.Struct("!IHBB16s16s")
IPV6_HEADER_LENGTH = IPV6_HEADER.size
FRAGMENT_HEADER = struct.Struct("!BBHI")
ROUTING_FIXED = struct.Struct("!BBBBI")

EXTENSION_HEADER_KINDS = frozenset(
    {IpProtocol.HOPOPT, IpProtocol.IPV6_ROUTE, IpProtocol.IPV6_FRAG, IpProtocol.IPV6_OPTS}
)
"""The extension headers the codecs walk. Others (mobility, HIP, shim6...) end the chain like an upper layer."""

OPTION_PAD1 = 0
OPTION_PADN = 1
ADDRESS_ROUTING_TYPES = frozenset({0, 2})
"""Routing types whose body is a list of addresses swapped with the destination hop by hop (RFC 8200 type 0,
RFC 6275 type 2): the AH final destination and the "as at the destination" form are computed for these only."""


def extension_kind(header: Ipv6ExtensionHeader) -> int:
    """The next-header value that announces ``header``."""
    if isinstance(header, Ipv6OptionsHeader):
        return header.kind
    if isinstance(header, Ipv6RoutingHeader):
        return int(IpProtocol.IPV6_ROUTE)
    return int(IpProtocol.IPV6_FRAG)


def _encode_options_body(header: Ipv6OptionsHeader) -> bytes:
    parts: list[bytes] = []
    for option in header.options:
        if len(option.data) > 255:
            raise ValueError("IPv6 option data longer than 255 bytes")
        parts.append(bytes((option.option_type, len(option.data))) + option.data)
    body = b"".join(parts)
    pad = -(2 + len(body)) % 8
    if pad == 1:
        body += b"\x00"
    elif pad:
        body += bytes((OPTION_PADN, pad - 2)) + bytes(pad - 2)
    return body


def encode_extension_header(header: Ipv6ExtensionHeader, next_header: int) -> bytes:
    """One extension header with its length computed; options headers are padded with Pad1/PadN at the end."""
    if isinstance(header, Ipv6OptionsHeader):
        body = _encode_options_body(header)
        units = (2 + len(body)) // 8 - 1
        if units > 255:
            raise ValueError("IPv6 options header longer than 2048 bytes")
        return bytes((next_header, units)) + body
    if isinstance(header, Ipv6RoutingHeader):
        count = len(header.addresses)
        if count > 127:
            raise ValueError("IPv6 routing header with more than 127 addresses")
        fixed = ROUTING_FIXED.pack(next_header, 2 * count, header.routing_type, header.segments_left, 0)
        return fixed + b"".join(a.packed for a in header.addresses)
    return FRAGMENT_HEADER.pack(
        next_header,
        0,
        (header.offset & 0x1FFF) << 3 | int(header.more),
        header.identification,
    )


def encode_extension_chain(headers: tuple[Ipv6ExtensionHeader, ...], next_header: int) -> tuple[int, bytes]:
    """The chain ``headers`` ending in ``next_header``: (the value that announces the chain, its bytes)."""
    if not headers:
        return next_header, b""
    parts: list[bytes] = []
    following = next_header
    for header in reversed(headers):
        parts.append(encode_extension_header(header, following))
        following = extension_kind(header)
    parts.reverse()
    return following, b"".join(parts)


def encode_ipv6_header(header: Ipv6Header, *, next_header: int, payload_length: int) -> bytes:
    """The 40-byte fixed header (the extension headers are encoded separately and counted in ``payload_length``)."""
    if payload_length > 0xFFFF:
        raise ValueError(f"IPv6 payload of {payload_length} bytes does not fit the payload length field")
    return IPV6_HEADER.pack(
        0x60000000 | (header.traffic_class & 0xFF) << 20 | (header.flow_label & 0xFFFFF),
        payload_length,
        next_header,
        header.hop_limit,
        header.src.packed,
        header.dst.packed,
    )


def routing_at_destination(
    dst: ipaddress.IPv6Address, addresses: tuple[ipaddress.IPv6Address, ...], segments_left: int
) -> tuple[ipaddress.IPv6Address, tuple[ipaddress.IPv6Address, ...]]:
    """(destination, addresses) as they will be when the packet reaches its last hop (segments left 0).

    At each hop the node decrements Segments Left to s, then swaps the destination with address n - s (1-based), so
    after the remaining hops the destination is the last address and the visited part of the list holds the earlier
    destinations, shifted by one. Used for the AH ICV (IETF-AH-MUTABLE-V6, RFC 4302 Appendix A2).
    """
    count = len(addresses)
    remaining = min(segments_left, count)
    if remaining == 0:
        return dst, addresses
    first = count - remaining
    moved = (dst, *addresses[first : count - 1])
    return addresses[count - 1], (*addresses[:first], *moved)
