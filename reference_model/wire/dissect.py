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
from typing import Any, Literal

from reference_model.constants import NAT_KEEPALIVE, NON_ESP_MARKER, UDP_ENCAP_PORT, EtherType, IpProtocol
from reference_model.wire.checksum import ones_complement_sum
from reference_model.wire.ethernet import ETHERNET, ETHERNET_LENGTH, ETHERNET_VLAN_LENGTH
from reference_model.wire.ipv4 import (
    IPV4_HEADER,
    IPV4_HEADER_LENGTH,
    OPTION_LSRR,
    OPTION_SSRR,
    parse_options,
    source_route_final_destination,
)
from reference_model.wire.ipv6 import (
    ADDRESS_ROUTING_TYPES,
    EXTENSION_HEADER_KINDS,
    FRAGMENT_HEADER,
    IPV6_HEADER,
    IPV6_HEADER_LENGTH,
    OPTION_PAD1,
)

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
    length = len(data)
    if length < ETHERNET_LENGTH:
        return FrameView(
            length=length, error=f"frame of {length} bytes is shorter than an Ethernet header", error_offset=0
        )
    dst, src, ethertype = ETHERNET.unpack_from(data, 0)
    vlan: int | None = None
    tci: int | None = None
    ip_offset = ETHERNET_LENGTH
    if ethertype == EtherType.VLAN:
        if length < ETHERNET_VLAN_LENGTH:
            return FrameView(length=length, dst=dst, src=src, error="802.1Q tag truncated", error_offset=12)
        tci = data[14] << 8 | data[15]
        vlan = tci & 0x0FFF
        ethertype = data[16] << 8 | data[17]
        ip_offset = ETHERNET_VLAN_LENGTH
    if ethertype not in (EtherType.IPV4, EtherType.IPV6):
        return FrameView(
            length=length, dst=dst, src=src, vlan=vlan, vlan_tci=tci, ethertype=ethertype, ip_offset=ip_offset
        )
    datagram = dissect_datagram(data, ip_offset)
    error: str | None = None
    error_offset: int | None = None
    expected = 4 if ethertype == EtherType.IPV4 else 6
    if datagram.version is not None and datagram.version != expected:
        error = f"EtherType 0x{ethertype:04x} carries an IPv{datagram.version} header"
        error_offset = ip_offset
    return FrameView(
        length=length,
        dst=dst,
        src=src,
        vlan=vlan,
        vlan_tci=tci,
        ethertype=ethertype,
        ip_offset=ip_offset,
        datagram=datagram,
        error=error,
        error_offset=error_offset,
    )


def parse_extension_header(
    data: bytes, pos: int, kind: int, end: int
) -> tuple[ExtensionHeaderView | None, str | None, int]:
    """One IPv6 extension header of type ``kind`` at ``pos``, bounded by ``end``: (view, error, error offset)."""
    if kind == IpProtocol.IPV6_FRAG:
        if pos + 8 > end:
            return None, "fragment header truncated", pos
        next_header, _, offset_flags, identification = FRAGMENT_HEADER.unpack_from(data, pos)
        return (
            ExtensionHeaderView(
                kind=kind,
                offset=pos,
                length=8,
                next_header=next_header,
                fragment_offset=offset_flags >> 3,
                more_fragments=bool(offset_flags & 1),
                identification=identification,
            ),
            None,
            pos,
        )
    if pos + 2 > end:
        return None, f"extension header {kind} truncated", pos
    next_header = data[pos]
    length = (data[pos + 1] + 1) * 8
    if pos + length > end:
        return None, f"extension header {kind} of {length} bytes overruns the datagram", pos
    if kind == IpProtocol.IPV6_ROUTE:
        routing_type = data[pos + 2]
        addresses: tuple[ipaddress.IPv6Address, ...] = ()
        if routing_type in ADDRESS_ROUTING_TYPES:
            addresses = tuple(ipaddress.IPv6Address(data[a : a + 16]) for a in range(pos + 8, pos + length - 15, 16))
        return (
            ExtensionHeaderView(
                kind=kind,
                offset=pos,
                length=length,
                next_header=next_header,
                routing_type=routing_type,
                segments_left=data[pos + 3],
                addresses=addresses,
            ),
            None,
            pos,
        )
    options: list[Ipv6OptionView] = []
    cursor = pos + 2
    stop = pos + length
    while cursor < stop:
        option_type = data[cursor]
        if option_type == OPTION_PAD1:
            options.append(Ipv6OptionView(offset=cursor, option_type=0, data_offset=cursor + 1, data_length=0))
            cursor += 1
            continue
        if cursor + 2 > stop:
            return None, f"option {option_type} has no length byte", cursor
        data_length = data[cursor + 1]
        if cursor + 2 + data_length > stop:
            return None, f"option {option_type} of {data_length} bytes overruns its header", cursor
        options.append(
            Ipv6OptionView(offset=cursor, option_type=option_type, data_offset=cursor + 2, data_length=data_length)
        )
        cursor += 2 + data_length
    return (
        ExtensionHeaderView(kind=kind, offset=pos, length=length, next_header=next_header, options=tuple(options)),
        None,
        pos,
    )


def _walk_extensions(
    data: bytes, pos: int, kind: int, end: int, out: list[ExtensionHeaderView]
) -> tuple[int, int, str | None, int | None]:
    """Walk the chain from ``kind`` at ``pos``; returns (next header after it, its offset, error, error offset)."""
    while kind in EXTENSION_HEADER_KINDS:
        view, error, error_offset = parse_extension_header(data, pos, kind, end)
        if view is None:
            return kind, pos, error, error_offset
        out.append(view)
        kind = view.next_header
        pos += view.length
    return kind, pos, None, None


def _transport(data: bytes, pos: int, protocol: int, end: int, kw: dict[str, Any]) -> None:
    """UDP (port 4500 classification) and ESP at ``pos``; sets udp/esp/ipsec fields and errors in ``kw``."""
    if protocol == IpProtocol.UDP:
        if pos + 8 > end:
            kw["error"], kw["error_offset"] = "UDP header truncated", pos
            return
        src_port = data[pos] << 8 | data[pos + 1]
        dst_port = data[pos + 2] << 8 | data[pos + 3]
        encap: UdpEncapKind | None = None
        payload = pos + 8
        if dst_port == UDP_ENCAP_PORT:
            size = end - payload
            if size == 1 and data[payload : payload + 1] == NAT_KEEPALIVE:
                encap = "keepalive"
            elif size >= 4 and data[payload : payload + 4] == NON_ESP_MARKER:
                encap = "ike"
            elif size >= 4:
                encap = "esp"
            else:
                encap = "other"
        kw["udp"] = UdpView(
            offset=pos,
            src_port=src_port,
            dst_port=dst_port,
            length=data[pos + 4] << 8 | data[pos + 5],
            checksum=data[pos + 6] << 8 | data[pos + 7],
            encap=encap,
        )
        if encap != "esp":
            return
        pos = payload
    elif protocol != IpProtocol.ESP:
        return
    if pos + 8 > end:
        kw["error"], kw["error_offset"] = "ESP header truncated", pos
        if pos + 4 <= end and kw.get("ipsec_kind") is None:
            kw["ipsec_kind"], kw["ipsec_offset"] = "esp", pos
            kw["spi"] = int.from_bytes(data[pos : pos + 4], "big")
        return
    spi = int.from_bytes(data[pos : pos + 4], "big")
    seq_low = int.from_bytes(data[pos + 4 : pos + 8], "big")
    kw["esp"] = EspView(offset=pos, spi=spi, seq_low=seq_low)
    if kw.get("ipsec_kind") is None:
        kw["ipsec_kind"], kw["ipsec_offset"], kw["spi"], kw["seq_low"] = "esp", pos, spi, seq_low


def dissect_datagram(data: bytes, offset: int = 0) -> DatagramView:
    """Parse the IP datagram starting at ``offset`` of ``data``. Never raises."""
    size = len(data)
    kw: dict[str, Any] = {"header_offset": offset}
    if offset >= size:
        return DatagramView(header_offset=offset, end=size, error="no IP header", error_offset=offset)
    version = data[offset] >> 4
    kw["version"] = version
    extension_headers: list[ExtensionHeaderView] = []
    if version == 4:
        if offset + IPV4_HEADER_LENGTH > size:
            return DatagramView(
                version=4, header_offset=offset, end=size, error="IPv4 header truncated", error_offset=offset
            )
        (ver_ihl, tos, total_length, identification, flags_fragment, ttl, protocol, checksum, src, dst) = (
            IPV4_HEADER.unpack_from(data, offset)
        )
        header_length = (ver_ihl & 0x0F) * 4
        src_address = ipaddress.IPv4Address(src)
        dst_address = ipaddress.IPv4Address(dst)
        flags = flags_fragment >> 13
        fragment_offset = flags_fragment & 0x1FFF
        kw.update(
            ip_header_length=header_length,
            src=src_address,
            dst=dst_address,
            final_dst=dst_address,
            total_length=total_length,
            tos=tos,
            identification=identification,
            flags=flags,
            fragment_offset=fragment_offset,
            ttl=ttl,
            header_checksum=checksum,
            is_fragment=bool(flags & 1 or fragment_offset),
        )
        end = min(offset + total_length, size)
        kw["end"] = end
        kw["total_length_ok"] = header_length <= total_length and offset + total_length <= size
        if header_length < IPV4_HEADER_LENGTH:
            kw["error"], kw["error_offset"] = f"IPv4 IHL {header_length // 4} < 5", offset
            return DatagramView(**kw)
        if offset + header_length > size:
            kw["error"], kw["error_offset"] = "IPv4 options truncated", offset + IPV4_HEADER_LENGTH
            return DatagramView(**kw)
        kw["header_checksum_ok"] = ones_complement_sum(data[offset : offset + header_length]) == 0xFFFF
        if header_length > IPV4_HEADER_LENGTH:
            kw["ipv4_options_present"] = True
            found, error, error_offset = parse_options(data, offset + IPV4_HEADER_LENGTH, offset + header_length)
            kw["ipv4_options"] = tuple(
                Ipv4OptionView(offset=o, option_type=t, length=n, data=data[o + 2 : o + n] if n > 1 else b"")
                for o, t, n in found
            )
            for o, t, n in found:
                if t in (OPTION_LSRR, OPTION_SSRR):
                    final = source_route_final_destination(data, o, n)
                    if final is not None:
                        kw["final_dst"] = final
            if error is not None:
                kw["error"], kw["error_offset"] = error, error_offset
                return DatagramView(**kw)
        pos = offset + header_length
        if total_length < header_length:
            kw["error"], kw["error_offset"] = f"IPv4 total length {total_length} < header length", offset + 2
            return DatagramView(**kw)
    elif version == 6:
        if offset + IPV6_HEADER_LENGTH > size:
            return DatagramView(
                version=6, header_offset=offset, end=size, error="IPv6 header truncated", error_offset=offset
            )
        vtf, payload_length, protocol, hop_limit, src, dst = IPV6_HEADER.unpack_from(data, offset)
        src6 = ipaddress.IPv6Address(src)
        dst6 = ipaddress.IPv6Address(dst)
        end = min(offset + IPV6_HEADER_LENGTH + payload_length, size)
        kw.update(
            ip_header_length=IPV6_HEADER_LENGTH,
            src=src6,
            dst=dst6,
            final_dst=dst6,
            total_length=IPV6_HEADER_LENGTH + payload_length,
            end=end,
            total_length_ok=offset + IPV6_HEADER_LENGTH + payload_length <= size,
            traffic_class=vtf >> 20 & 0xFF,
            flow_label=vtf & 0xFFFFF,
            hop_limit=hop_limit,
        )
        pos = offset + IPV6_HEADER_LENGTH
        protocol, pos, error, error_offset = _walk_extensions(data, pos, protocol, end, extension_headers)
        kw["extension_headers"] = tuple(extension_headers)
        kw["non_ipsec_extension_headers"] = bool(extension_headers)
        for header in extension_headers:
            if header.kind == IpProtocol.IPV6_FRAG:
                kw["is_fragment"] = True
            elif header.kind == IpProtocol.IPV6_ROUTE and header.addresses and header.segments_left:
                kw["final_dst"] = header.addresses[-1]
        if error is not None:
            kw["error"], kw["error_offset"] = error, error_offset
            return DatagramView(**kw)
    else:
        return DatagramView(
            version=version, header_offset=offset, end=size, error=f"IP version {version}", error_offset=offset
        )
    kw["protocol"] = protocol
    kw["protocol_offset"] = pos
    if protocol == IpProtocol.AH:
        if pos + 12 > end:
            kw["error"], kw["error_offset"] = "AH header truncated", pos
            if pos + 8 <= end:
                kw["ipsec_kind"], kw["ipsec_offset"] = "ah", pos
                kw["spi"] = int.from_bytes(data[pos + 4 : pos + 8], "big")
            return DatagramView(**kw)
        next_header = data[pos]
        payload_len = data[pos + 1]
        total = (payload_len + 2) * 4
        spi = int.from_bytes(data[pos + 4 : pos + 8], "big")
        seq_low = int.from_bytes(data[pos + 8 : pos + 12], "big")
        ah = AhView(
            offset=pos,
            next_header=next_header,
            payload_len=payload_len,
            reserved=data[pos + 2] << 8 | data[pos + 3],
            spi=spi,
            seq_low=seq_low,
            total_length=total,
            icv_offset=pos + 12,
            icv_length=total - 12,
        )
        kw.update(ipsec_kind="ah", ipsec_offset=pos, spi=spi, seq_low=seq_low, ah=ah)
        if total < 12:
            kw["error"], kw["error_offset"] = f"AH Payload Len {payload_len} leaves no room for the header", pos + 1
            return DatagramView(**kw)
        if pos + total > end:
            kw["error"], kw["error_offset"] = f"AH of {total} bytes overruns the datagram", pos + 1
            return DatagramView(**kw)
        after: list[ExtensionHeaderView] = []
        protocol = next_header
        pos += total
        if version == 6:
            protocol, pos, error, error_offset = _walk_extensions(data, pos, protocol, end, after)
            if after:
                kw["after_ah_extension_headers"] = tuple(after)
                kw["non_ipsec_extension_headers"] = True
                if any(h.kind == IpProtocol.IPV6_FRAG for h in after):
                    kw["is_fragment"] = True
            if error is not None:
                kw["after_ah_protocol"] = protocol
                kw["error"], kw["error_offset"] = error, error_offset
                return DatagramView(**kw)
        kw["after_ah_protocol"] = protocol
    _transport(data, pos, protocol, end, kw)
    return DatagramView(**kw)
