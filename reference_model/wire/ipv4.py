"""IPv4 headers and options (RFC 791), and the AH view of them (IETF-AH-MUTABLE-V4, IETF-AH-OPTIONS-V4)."""

from __future__ import annotations

import ipaddress
import struct

from reference_model.packets import Ipv4Header, Ipv4Option
from reference_model.wire.checksum import internet_checksum

IPV4_HEADER = struct.Struct("!BBHHHBBH4s4s")
IPV4_HEADER_LENGTH = IPV4_HEADER.size
MAX_OPTIONS_LENGTH = 40

OPTION_EOL = 0
OPTION_NOP = 1
OPTION_LSRR = 131
OPTION_SSRR = 137
OPTION_RR = 7
OPTION_TIMESTAMP = 68
OPTION_SECURITY = 130
OPTION_ROUTER_ALERT = 148

IMMUTABLE_OPTION_NUMBERS = frozenset({0, 1, 2, 5, 6, 20, 21})
"""IETF-AH-OPTIONS-V4 (RFC 4302 Appendix A1), by the 5-bit option number: EOL, NOP, Security, Extended Security,
Commercial Security, Router Alert, Sender Directed Multi-Destination Delivery. Every other option, the listed mutable
and experimental ones and any number the table does not name, is zeroed in its entirety (type and length included)
for the ICV. Treating unlisted numbers as mutable is our reading: a sender and receiver that both zero an option they
do not know still agree, while including it would break on any router that rewrites it."""


def option_is_mutable(option_type: int) -> bool:
    """True when AH zeroes this option (type, length and data) for the ICV (IETF-AH-OPTIONS-V4)."""
    return (option_type & 0x1F) not in IMMUTABLE_OPTION_NUMBERS


def encode_options(options: tuple[Ipv4Option, ...]) -> bytes:
    """Options as bytes, padded with zero (EOL) bytes to a multiple of 4. Over 40 bytes is a ``ValueError``."""
    if not options:
        return b""
    parts: list[bytes] = []
    for option in options:
        if option.option_type in (OPTION_EOL, OPTION_NOP):
            if option.data:
                raise ValueError(f"IPv4 option {option.option_type} is a single byte and takes no data")
            parts.append(bytes((option.option_type,)))
        else:
            if len(option.data) > 253:
                raise ValueError("IPv4 option data longer than 253 bytes")
            parts.append(bytes((option.option_type, 2 + len(option.data))) + option.data)
    raw = b"".join(parts)
    raw += bytes(-len(raw) % 4)
    if len(raw) > MAX_OPTIONS_LENGTH:
        raise ValueError(f"IPv4 options take {len(raw)} bytes, more than {MAX_OPTIONS_LENGTH}")
    return raw


def encode_ipv4_header(header: Ipv4Header, *, protocol: int, payload_length: int) -> bytes:
    """The IPv4 header with IHL, total length, protocol and header checksum computed."""
    options = encode_options(header.options)
    header_length = IPV4_HEADER_LENGTH + len(options)
    total_length = header_length + payload_length
    if total_length > 0xFFFF:
        raise ValueError(f"IPv4 datagram of {total_length} bytes does not fit the total length field")
    raw = bytearray(
        IPV4_HEADER.pack(
            0x40 | header_length >> 2,
            header.tos,
            total_length,
            header.identification,
            (header.flags & 0x7) << 13 | (header.fragment_offset & 0x1FFF),
            header.ttl,
            protocol,
            0,
            header.src.packed,
            header.dst.packed,
        )
    )
    raw += options
    checksum = internet_checksum(raw)
    raw[10] = checksum >> 8
    raw[11] = checksum & 0xFF
    return bytes(raw)


def parse_options(data: bytes, start: int, end: int) -> tuple[tuple[tuple[int, int, int], ...], str | None, int | None]:
    """Walk the options area ``data[start:end]``: (offset, type, length) per option, then an error and its offset.

    Bytes after an EOL are walked on as further options: RFC 791 says they are zero padding, and zero bytes parse as
    EOLs, so this only differs from stopping at EOL when a sender put something there; walking on lets the encoder
    (which writes whatever options the value has) and the decoder agree, and lets AH zero a mutable option there
    exactly as the sender did.
    """
    found: list[tuple[int, int, int]] = []
    pos = start
    while pos < end:
        option_type = data[pos]
        if option_type in (OPTION_EOL, OPTION_NOP):
            found.append((pos, option_type, 1))
            pos += 1
            continue
        if pos + 1 >= end:
            return tuple(found), f"IPv4 option {option_type} has no length byte", pos
        length = data[pos + 1]
        if length < 2:
            return tuple(found), f"IPv4 option {option_type} has length {length} < 2", pos
        if pos + length > end:
            return tuple(found), f"IPv4 option {option_type} of length {length} overruns the header", pos
        found.append((pos, option_type, length))
        pos += length
    return tuple(found), None, None


def source_route_final_destination(data: bytes, offset: int, length: int) -> ipaddress.IPv4Address | None:
    """The last address of an LSRR/SSRR option at ``offset`` if the route is not yet complete (IETF-AH-MUTABLE-V4).

    The pointer (third byte, 1-based, minimum 4) names the next address to visit; a pointer beyond the option means
    the route is done and the header's destination already is the final one (None is returned then).
    """
    if length < 7:
        return None
    pointer = data[offset + 2]
    if pointer > length:
        return None
    count = (length - 3) // 4
    last = offset + 3 + 4 * (count - 1)
    return ipaddress.IPv4Address(data[last : last + 4])
