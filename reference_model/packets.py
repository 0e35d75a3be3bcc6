"""The structure of a test frame, as values: what a strategy draws and what ``reference_model.frame`` encodes.

A ``Frame`` is Ethernet II around one ``Datagram``. A ``Datagram`` is an IP header (IPv4 with options, or IPv6 with
extension headers), optionally protected by AH and/or ESP (AH outside ESP, RFC 4302 section 3.1), optionally
UDP-encapsulated (RFC 3948; ESP only), carrying either upper-layer bytes (``Upper``: transport mode) or another
``Datagram`` (tunnel mode, IETF-TUNNEL-NH). Nesting gives tunnel-over-transport for free: an outer tunnel-mode datagram
whose inner datagram is itself protected in transport mode.

Everything the wire needs is here, including IVs and sequence numbers, so encoding is a pure function of the value.
Lengths, checksums, next-header values, pad lengths and ICVs are computed by the encoder, never stored. A frame that
must carry a wrong value on purpose is made by ``strategies.corruptions`` on the bytes, or, where the wrong value must
be inside the encryption and under a valid ICV, by the ``*_field`` overrides of ``EspLayer``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from reference_model.ndis import SecAssoc

# --------------------------------------------------------------------------------------------------------------------
# Ethernet


@dataclass(frozen=True, slots=True, kw_only=True)
class EthernetHeader:
    """Ethernet II header. ``vlan`` adds an 802.1Q tag (TPID 0x8100) with that 12-bit VLAN ID (RX-CAPS-ENCAP)."""

    dst: bytes = b"\x02\x00\x00\x00\x00\x02"
    src: bytes = b"\x02\x00\x00\x00\x00\x01"
    vlan: int | None = None


# --------------------------------------------------------------------------------------------------------------------
# IPv4


@dataclass(frozen=True, slots=True, kw_only=True)
class Ipv4Option:
    """One IPv4 option. ``option_type`` is the full type byte (copied flag, class, number).

    EOL (0) and NOP (1) are single bytes and must have empty ``data``; every other option is type, length, data,
    with length = 2 + len(data). Routing options (LSRR 131, SSRR 137, RR 7) carry pointer + addresses in ``data``.
    """

    option_type: int
    data: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class Ipv4Header:
    """IPv4 header. Version, IHL, total length, protocol and checksum are computed by the encoder.

    The encoder pads ``options`` with EOL/zero bytes to a multiple of 4 (IHL counts 32-bit words; at most 40 bytes).
    ``flags`` holds the 3 flag bits (0x2 = DF, 0x1 = MF); a non-zero ``fragment_offset`` or MF makes a fragment
    (RX-FRAGMENT-NOT-PROCESSED).
    """

    src: ipaddress.IPv4Address
    dst: ipaddress.IPv4Address
    tos: int = 0
    identification: int = 0
    flags: int = 0
    fragment_offset: int = 0
    ttl: int = 64
    options: tuple[Ipv4Option, ...] = ()


# --------------------------------------------------------------------------------------------------------------------
# IPv6


@dataclass(frozen=True, slots=True, kw_only=True)
class Ipv6Option:
    """One TLV option of a hop-by-hop or destination-options header (RFC 8200 section 4.2).

    Pad1 (type 0) and PadN (type 1) are added by the encoder to reach an 8-byte multiple; do not put them here.
    Bit 0x20 of ``option_type`` marks data that may change en route (zeroed for the AH ICV, IETF-AH-MUTABLE-V6).
    """

    option_type: int
    data: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class Ipv6OptionsHeader:
    """Hop-by-hop (next header 0) or destination options (60) header."""

    kind: int
    options: tuple[Ipv6Option, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Ipv6RoutingHeader:
    """Routing header (43). ``addresses`` are the remaining route; the IPv6 ``dst`` is the current hop.

    For AH the ICV uses the destination the packet will have at its final hop (IETF-AH-MUTABLE-V6); with
    ``segments_left`` = 0 that is ``dst`` itself.
    """

    routing_type: int = 0
    segments_left: int = 0
    addresses: tuple[ipaddress.IPv6Address, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Ipv6FragmentHeader:
    """Fragment header (44). ``offset`` in 8-byte units; ``more`` is the M flag."""

    offset: int = 0
    more: bool = False
    identification: int = 0


Ipv6ExtensionHeader = Ipv6OptionsHeader | Ipv6RoutingHeader | Ipv6FragmentHeader


@dataclass(frozen=True, slots=True, kw_only=True)
class Ipv6Header:
    """IPv6 header. ``extension_headers`` sit between this header and the first AH/ESP/UDP/upper header."""

    src: ipaddress.IPv6Address
    dst: ipaddress.IPv6Address
    traffic_class: int = 0
    flow_label: int = 0
    hop_limit: int = 64
    extension_headers: tuple[Ipv6ExtensionHeader, ...] = ()


IpHeader = Ipv4Header | Ipv6Header


# --------------------------------------------------------------------------------------------------------------------
# IPsec layers


@dataclass(frozen=True, slots=True, kw_only=True)
class AhLayer:
    """AH (RFC 4302) protecting the rest of its datagram with ``sec_assoc`` (an AH SecAssoc).

    ``seq`` is the full sequence number: the low 32 bits go on the wire, and for an ESN SA the high 32 bits enter
    the ICV only (IETF-ESP-ESN applies to AH the same way). ``iv`` is the 8-byte IV of AES-GMAC and empty otherwise.
    """

    sec_assoc: SecAssoc
    seq: int = 1
    iv: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class EspLayer:
    """ESP (RFC 4303) protecting the rest of its datagram with ``sec_assoc`` (an ESP SecAssoc).

    ``seq`` is the full sequence number as for ``AhLayer``. ``iv`` has the algorithm's IV length (8 for GCM/GMAC,
    16 for AES-CBC, 8 for DES/3DES, 0 for NULL). ``extra_padding`` adds that many pad bytes beyond the minimum (it must
    keep the block and 4-byte alignment). ``pad_content`` replaces the RFC 4303 default 1, 2, 3, ... pad bytes
    (its length must equal the total pad length). ``pad_length_field`` and ``next_header_field`` put a wrong value into
    the trailer before encryption and ICV, for corruptions that only show after a valid ICV (AMB-08).
    """

    sec_assoc: SecAssoc
    seq: int = 1
    iv: bytes = b""
    extra_padding: int = 0
    pad_content: bytes | None = None
    pad_length_field: int | None = None
    next_header_field: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UdpEncapsulation:
    """RFC 3948 UDP header in front of ESP (IETF-UDPENCAP). The checksum is sent as zero."""

    src_port: int = 4500
    dst_port: int = 4500


# --------------------------------------------------------------------------------------------------------------------
# Payloads and the datagram


@dataclass(frozen=True, slots=True, kw_only=True)
class Upper:
    """Upper-layer bytes (a whole TCP segment, UDP datagram, ICMP message...) with their IP protocol number."""

    protocol: int
    data: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class Datagram:
    """One IP datagram, possibly IPsec-protected; ``payload`` a ``Datagram`` means tunnel mode."""

    ip: IpHeader
    ah: AhLayer | None = None
    esp: EspLayer | None = None
    udp: UdpEncapsulation | None = None
    inner_extension_headers: tuple[Ipv6ExtensionHeader, ...] = ()
    """IPv6 extension headers after AH/ESP, before the payload (inside the encryption when ESP is present)."""
    payload: Upper | Datagram = Upper(protocol=59)

    @property
    def tunnel(self) -> bool:
        return isinstance(self.payload, Datagram)

    @property
    def protected(self) -> bool:
        return self.ah is not None or self.esp is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    """An Ethernet II frame carrying one datagram; the encoder pads it to 60 bytes (no FCS) when shorter."""

    ethernet: EthernetHeader = EthernetHeader()
    datagram: Datagram
