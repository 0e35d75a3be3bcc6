"""The keyless structural view of received bytes: what the NIC model (and the reports) read from a frame.

``dissect_frame`` and ``dissect_datagram`` never raise: hostile bytes give a view whose ``error`` says why parsing
stopped and ``error_offset`` where (an absolute offset into the buffer given). Everything found before that point is
still filled in, so the model can decide e.g. RX-SA-MATCH-SPI-DST on a frame whose trailer is truncated.

Offsets are absolute into the buffer passed in, so a view of an inner datagram dissected from a decrypted copy of the
frame (AMB-09: decryption happens in place) lines up with the frame itself.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

UdpEncapKind = Literal["esp", "ike", "keepalive", "other"]
"""IETF-UDPENCAP / AMB-23 on UDP destination port 4500: a non-zero first word is an ESP SPI ("esp"); four zero bytes
are the non-ESP marker of IKE ("ike"); a single 0xFF byte is a NAT keepalive ("keepalive"); anything else (too short
for an SPI) is "other"."""

IpsecKind = Literal["ah", "esp"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Ipv4OptionView:
    """One IPv4 option as found on the wire. ``length`` is its whole size (1 for EOL and NOP)."""

    offset: int
    option_type: int
    length: int
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Ipv6OptionView:
    """One TLV of a hop-by-hop/destination-options header (Pad1 and PadN included, as on the wire)."""

    offset: int
    option_type: int
    data_offset: int
    data_length: int

    @property
    def may_change(self) -> bool:
        """RFC 8200 section 4.2: bit 0x20 of the type marks data that may change en route (IETF-AH-MUTABLE-V6)."""
        return bool(self.option_type & 0x20)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtensionHeaderView:
    """One IPv6 extension header (hop-by-hop 0, routing 43, fragment 44, destination options 60)."""

    kind: int
    offset: int
    length: int
    next_header: int
    options: tuple[Ipv6OptionView, ...] = ()
    routing_type: int | None = None
    segments_left: int | None = None
    addresses: tuple[ipaddress.IPv6Address, ...] = ()
    fragment_offset: int = 0
    more_fragments: bool = False
    identification: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class UdpView:
    """The UDP header at ``offset``; ``encap`` is set only for destination port 4500 (AMB-23)."""

    offset: int
    src_port: int
    dst_port: int
    length: int
    checksum: int
    encap: UdpEncapKind | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AhView:
    """An AH header (IETF-AH-FORMAT). ``total_length`` = (Payload Len + 2) * 4; ``icv_length`` = the bytes after the
    12-byte fixed part (ICV plus ICV padding, plus the 8-byte IV for AES-GMAC). ``protected_offset`` is where what AH
    protects continues: ESP (bundle), an inner datagram (tunnel), extension headers, or upper-layer data."""

    offset: int
    next_header: int
    payload_len: int
    reserved: int
    spi: int
    seq_low: int
    total_length: int
    icv_offset: int
    icv_length: int

    @property
    def protected_offset(self) -> int:
        return self.offset + self.total_length


@dataclass(frozen=True, slots=True, kw_only=True)
class EspView:
    """The ESP header (SPI and low sequence number) at ``offset``; everything after it is opaque without keys."""

    offset: int
    spi: int
    seq_low: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DatagramView:
    """What an IP datagram looks like to a keyless parser.

    ``extension_headers`` are the IPv6 extension headers before the first AH/ESP/UDP/upper header; ``protocol`` is the
    next header after them (for IPv4 the Protocol field) and ``protocol_offset`` where that header starts.
    ``final_dst`` is the destination the datagram will have at its last hop (IPv4 LSRR/SSRR, IPv6 routing header type
    0/2), used for the AH ICV (IETF-AH-MUTABLE-V4/V6); it equals ``dst`` without source routing.

    ``ipsec_kind``/``ipsec_offset``/``spi``/``seq_low`` describe the first IPsec header: AH or ESP right after the
    chain, or ESP after a UDP header on port 4500 (IETF-UDPENCAP). ``ah`` is that AH; ``esp`` is the first ESP header,
    whether first or behind the AH (possibly behind ``after_ah_extension_headers``: an AH+ESP bundle).
    """

    version: int | None = None
    header_offset: int = 0
    ip_header_length: int = 0
    src: IPAddress | None = None
    dst: IPAddress | None = None
    final_dst: IPAddress | None = None
    total_length: int | None = None
    end: int = 0
    total_length_ok: bool = False
    # IPv4 header fields
    tos: int = 0
    identification: int = 0
    flags: int = 0
    fragment_offset: int = 0
    ttl: int = 0
    header_checksum: int = 0
    header_checksum_ok: bool = False
    ipv4_options: tuple[Ipv4OptionView, ...] = ()
    ipv4_options_present: bool = False
    # IPv6 header fields
    traffic_class: int = 0
    flow_label: int = 0
    hop_limit: int = 0
    extension_headers: tuple[ExtensionHeaderView, ...] = ()
    non_ipsec_extension_headers: bool = False
    is_fragment: bool = False
    protocol: int | None = None
    protocol_offset: int | None = None
    udp: UdpView | None = None
    ipsec_kind: IpsecKind | None = None
    ipsec_offset: int | None = None
    spi: int | None = None
    seq_low: int | None = None
    ah: AhView | None = None
    after_ah_extension_headers: tuple[ExtensionHeaderView, ...] = ()
    after_ah_protocol: int | None = None
    """The next header after AH and any extension headers behind it (50 for an AH+ESP bundle, 4/41 for tunnel)."""
    esp: EspView | None = None
    error: str | None = None
    error_offset: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameView:
    """An Ethernet II frame: addresses, optional 802.1Q tag, EtherType and the datagram (IPv4/IPv6 only)."""

    length: int = 0
    dst: bytes = b""
    src: bytes = b""
    vlan: int | None = None
    """The 12-bit VLAN ID of an 802.1Q tag (TPID 0x8100), None when untagged (RX-CAPS-ENCAP)."""
    vlan_tci: int | None = None
    ethertype: int | None = None
    ip_offset: int | None = None
    datagram: DatagramView | None = None
    error: str | None = None
    error_offset: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and (self.datagram is None or self.datagram.error is None)


def dissect_frame(data: bytes) -> FrameView:
    """Parse Ethernet II (+802.1Q) and, for EtherType IPv4/IPv6, the datagram. Never raises."""
    return FrameView(length=len(data), error="not implemented yet", error_offset=0)


def dissect_datagram(data: bytes, offset: int = 0) -> DatagramView:
    """Parse the IP datagram starting at ``offset`` of ``data``. Never raises."""
    return DatagramView(header_offset=offset, error="not implemented yet", error_offset=offset)
