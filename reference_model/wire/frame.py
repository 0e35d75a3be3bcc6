"""Whole-frame encoding and decoding: ``packets.Frame`` values to Ethernet bytes and back.

Encoding is a pure function of the value (packets.py): every length, checksum, next header, pad and ICV is computed
here, inside out: payload, inner extension headers, ESP (wire.esp), UDP (RFC 3948), AH (after the IP header exists,
because the AH ICV covers it), then the IP header and Ethernet.

Decoding is the inverse for the values the encoder produces. Where the wire has more freedom than the value model, it
decodes to the canonical value and reports ``error`` for bytes no value encodes to (non-zero AH padding, a non-zero
UDP-ESP checksum, IPv6 PadN in the middle of an options header...). Conventions a value must follow to round-trip:

- IPv4 options: no trailing EOL options (up to three are indistinguishable from the encoder's alignment padding).
- ``Upper.protocol`` is not an IPv6 extension header number on IPv6 (those bytes decode as extension headers), and an
  unprotected datagram carrying 4/41 decodes as ``Upper`` (IP-in-IP without IPsec is not a tunnel-mode SA).
- ``seq`` of AH/ESP has the high half the SA's ``seq_hi`` (ESN) or zero (no ESN): only the low half is on the wire.
- UDP encapsulation uses destination port 4500 (AMB-23); on other ports UDP is decoded as ``Upper``.
- SAs are looked up with the final destination (``DatagramView.final_dst``: equal to the destination without
  source routing), the address IPsec processing happens at.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from reference_model.algorithms import AUTHENTICATION
from reference_model.constants import ETHERNET_MIN_FRAME, EtherType, IpProtocol, Operation
from reference_model.ndis import IPAddress, SecAssoc
from reference_model.packets import (
    AhLayer,
    Datagram,
    EspLayer,
    EthernetHeader,
    Frame,
    Ipv4Header,
    Ipv4Option,
    Ipv6ExtensionHeader,
    Ipv6FragmentHeader,
    Ipv6Header,
    Ipv6Option,
    Ipv6OptionsHeader,
    Ipv6RoutingHeader,
    UdpEncapsulation,
    Upper,
)
from reference_model.wire import ah as ah_codec
from reference_model.wire import esp as esp_codec
from reference_model.wire.dissect import (
    DatagramView,
    ExtensionHeaderView,
    dissect_datagram,
    dissect_frame,
    parse_extension_header,
)
from reference_model.wire.ethernet import encode_ethernet_header
from reference_model.wire.ipv4 import OPTION_EOL, encode_ipv4_header
from reference_model.wire.ipv6 import (
    EXTENSION_HEADER_KINDS,
    OPTION_PAD1,
    OPTION_PADN,
    encode_extension_chain,
    encode_extension_header,
    encode_ipv6_header,
)
from reference_model.wire.udp import encode_udp_header

SaLookup = Callable[[int, IPAddress, Operation], SecAssoc | None]
"""(spi, destination, operation) -> the SA to open that header with, or None."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodedFrame:
    """``frame`` when the bytes decode to a value that ``encode_frame`` maps back to them; else ``error`` + offset."""

    frame: Frame | None
    error: str | None = None
    error_offset: int | None = None


# --------------------------------------------------------------------------------------------------------------------
# Encoding


def encode_frame(frame: Frame) -> bytes:
    """Ethernet II (+ optional 802.1Q tag) around the encoded datagram, zero-padded to 60 bytes."""
    ethertype = EtherType.IPV4 if isinstance(frame.datagram.ip, Ipv4Header) else EtherType.IPV6
    raw = encode_ethernet_header(frame.ethernet, ethertype) + encode_datagram(frame.datagram)
    if len(raw) < ETHERNET_MIN_FRAME:
        raw += bytes(ETHERNET_MIN_FRAME - len(raw))
    return raw


def encode_datagram(datagram: Datagram) -> bytes:
    """The IP datagram with every length, checksum, next header, pad and ICV computed.

    An inconsistent value (UDP encapsulation without ESP, an IV of the wrong length, options over 40 bytes...) is a
    ``ValueError``: values come from our strategies, and a wrong one is a bug there.
    """
    payload = datagram.payload
    if isinstance(payload, Datagram):
        body = encode_datagram(payload)
        next_header = int(IpProtocol.IPV4 if isinstance(payload.ip, Ipv4Header) else IpProtocol.IPV6)
    else:
        body = payload.data
        next_header = payload.protocol
    if datagram.inner_extension_headers:
        next_header, chain = encode_extension_chain(datagram.inner_extension_headers, next_header)
        body = chain + body
    esp = datagram.esp
    if esp is not None:
        body = esp_codec.seal_esp(
            esp.sec_assoc,
            seq=esp.seq,
            iv=esp.iv,
            payload=body,
            next_header=next_header,
            extra_padding=esp.extra_padding,
            pad_content=esp.pad_content,
            pad_length_field=esp.pad_length_field,
            next_header_field=esp.next_header_field,
        )
        next_header = IpProtocol.ESP
        if datagram.udp is not None:
            body = encode_udp_header(datagram.udp.src_port, datagram.udp.dst_port, len(body)) + body
            next_header = IpProtocol.UDP
    elif datagram.udp is not None:
        raise ValueError("UDP encapsulation (RFC 3948) carries ESP; this datagram has none")
    ah = datagram.ah
    ip = datagram.ip
    if ah is not None:
        body = (
            ah_codec.encode_ah_header(
                ah.sec_assoc, seq=ah.seq, iv=ah.iv, next_header=next_header, ipv6=isinstance(ip, Ipv6Header)
            )
            + body
        )
        next_header = IpProtocol.AH
    if isinstance(ip, Ipv4Header):
        raw = encode_ipv4_header(ip, protocol=next_header, payload_length=len(body)) + body
    else:
        first, chain = encode_extension_chain(ip.extension_headers, next_header)
        raw = encode_ipv6_header(ip, next_header=first, payload_length=len(chain) + len(body)) + chain + body
    if ah is not None:
        raw = ah_codec.seal_ah(raw, dissect_datagram(raw), ah.sec_assoc, seq_hi=ah.seq >> 32)
    return raw


# --------------------------------------------------------------------------------------------------------------------
# Decoding


class _DecodeError(Exception):
    def __init__(self, message: str, offset: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def decode_frame(data: bytes, *, lookup: SaLookup) -> DecodedFrame:
    """Inverse of ``encode_frame``; SAs for AH/ESP come from ``lookup``. Never raises.

    Offsets of errors inside decrypted data are those of the ESP header that carried them.
    """
    try:
        return DecodedFrame(frame=_decode_frame(data, lookup))
    except _DecodeError as exc:
        return DecodedFrame(frame=None, error=exc.message, error_offset=exc.offset)
    except Exception as exc:  # the contract is "never raises"; a bug of ours shows as an error text
        return DecodedFrame(frame=None, error=f"internal decoder error: {exc!r}", error_offset=None)


def _decode_frame(data: bytes, lookup: SaLookup) -> Frame:
    view = dissect_frame(data)
    if view.error is not None:
        raise _DecodeError(view.error, view.error_offset)
    if view.datagram is None or view.ip_offset is None:
        raise _DecodeError(f"EtherType {view.ethertype} is neither IPv4 nor IPv6", 12)
    if view.vlan_tci is not None and view.vlan_tci & 0xF000:
        raise _DecodeError("802.1Q priority/DEI bits are not part of the frame value", 14)
    datagram, end = _decode_datagram(data, view.ip_offset, lookup, view.datagram)
    if len(data) > max(end, ETHERNET_MIN_FRAME) or any(data[end:]):
        raise _DecodeError("bytes after the datagram are not the zero padding to 60 bytes", end)
    return Frame(ethernet=EthernetHeader(dst=view.dst, src=view.src, vlan=view.vlan), datagram=datagram)


def _ipv4_options(view: DatagramView) -> tuple[Ipv4Option, ...]:
    options = [Ipv4Option(option_type=o.option_type, data=o.data) for o in view.ipv4_options]
    for _ in range(3):
        if options and options[-1].option_type == OPTION_EOL:
            options.pop()
    return tuple(options)


def _extension_value(data: bytes, ext: ExtensionHeaderView) -> Ipv6ExtensionHeader:
    value: Ipv6ExtensionHeader
    if ext.kind == IpProtocol.IPV6_FRAG:
        value = Ipv6FragmentHeader(
            offset=ext.fragment_offset, more=ext.more_fragments, identification=ext.identification
        )
    elif ext.kind == IpProtocol.IPV6_ROUTE:
        start = ext.offset + 8
        addresses = tuple(
            ipaddress.IPv6Address(data[a : a + 16]) for a in range(start, ext.offset + ext.length - 15, 16)
        )
        value = Ipv6RoutingHeader(
            routing_type=ext.routing_type or 0, segments_left=ext.segments_left or 0, addresses=addresses
        )
    else:
        value = Ipv6OptionsHeader(
            kind=ext.kind,
            options=tuple(
                Ipv6Option(option_type=o.option_type, data=data[o.data_offset : o.data_offset + o.data_length])
                for o in ext.options
                if o.option_type not in (OPTION_PAD1, OPTION_PADN)
            ),
        )
    if encode_extension_header(value, ext.next_header) != data[ext.offset : ext.offset + ext.length]:
        raise _DecodeError(f"extension header {ext.kind} is not in the encoder's canonical form", ext.offset)
    return value


def _upper_layer_error(view: DatagramView) -> bool:
    """A dissector complaint about upper-layer bytes (e.g. a UDP header shorter than 8 bytes) where no ESP follows:
    the bytes still decode, as ``Upper``."""
    if view.esp is not None or view.error_offset is None or view.protocol_offset is None:
        return False
    start = view.protocol_offset
    if view.ah is not None:
        start = view.ah.protected_offset + sum(e.length for e in view.after_ah_extension_headers)
    return view.error_offset >= start


def _seq(sa: SecAssoc, seq_low: int) -> int:
    return (sa.seq_hi << 32 | seq_low) if sa.esn else seq_low


def _decode_datagram(
    data: bytes, offset: int, lookup: SaLookup, view: DatagramView | None = None
) -> tuple[Datagram, int]:
    """The datagram at ``offset`` and the offset of its end."""
    if view is None:
        view = dissect_datagram(data, offset)
    if view.error is not None and not _upper_layer_error(view):
        raise _DecodeError(view.error, view.error_offset)
    if not view.total_length_ok:
        raise _DecodeError("IP length exceeds the bytes received", offset + 2)
    src, dst, final_dst = view.src, view.dst, view.final_dst
    if final_dst is None or view.protocol is None or view.protocol_offset is None:
        raise _DecodeError("datagram without addresses or protocol", offset)
    end = view.end
    ipv6 = view.version == 6
    ip: Ipv4Header | Ipv6Header
    if isinstance(src, ipaddress.IPv4Address) and isinstance(dst, ipaddress.IPv4Address):
        if not view.header_checksum_ok:
            raise _DecodeError("IPv4 header checksum is wrong", offset + 10)
        ip = Ipv4Header(
            src=src,
            dst=dst,
            tos=view.tos,
            identification=view.identification,
            flags=view.flags,
            fragment_offset=view.fragment_offset,
            ttl=view.ttl,
            options=_ipv4_options(view),
        )
    elif isinstance(src, ipaddress.IPv6Address) and isinstance(dst, ipaddress.IPv6Address):
        ip = Ipv6Header(
            src=src,
            dst=dst,
            traffic_class=view.traffic_class,
            flow_label=view.flow_label,
            hop_limit=view.hop_limit,
            extension_headers=tuple(_extension_value(data, e) for e in view.extension_headers),
        )
    else:
        raise _DecodeError("datagram without addresses", offset)
    pos = view.protocol_offset
    protocol = view.protocol
    ah_layer: AhLayer | None = None
    inner_extensions: tuple[Ipv6ExtensionHeader, ...] = ()
    if view.ah is not None:
        ah = view.ah
        sa = lookup(ah.spi, final_dst, Operation.AH)
        if sa is None:
            raise _DecodeError(f"no AH SA for SPI 0x{ah.spi:08x}", ah.offset + 4)
        checked = ah_codec.verify_ah(data, view, sa, seq_hi=sa.seq_hi)
        if not checked.ok:
            raise _DecodeError(
                "AH does not verify: " + ("; ".join(checked.syntax_errors) or "ICV mismatch"), ah.icv_offset
            )
        iv_length = ah_codec.ah_iv_length(sa)
        if ah.reserved or any(data[ah.icv_offset + iv_length + sa.icv_length : ah.protected_offset]):
            raise _DecodeError("AH reserved field or ICV padding is not zero", ah.offset)
        auth = sa.authentication
        gmac = auth is not None and AUTHENTICATION[auth.algorithm].gmac
        ah_layer = AhLayer(
            sec_assoc=sa,
            seq=_seq(sa, ah.seq_low),
            iv=data[ah.icv_offset : ah.icv_offset + iv_length] if gmac else b"",
        )
        inner_extensions = tuple(_extension_value(data, e) for e in view.after_ah_extension_headers)
        protocol = view.after_ah_protocol if view.after_ah_protocol is not None else ah.next_header
        pos = ah.protected_offset + sum(e.length for e in view.after_ah_extension_headers)
    udp: UdpEncapsulation | None = None
    esp_layer: EspLayer | None = None
    payload_bytes = data[pos:end]
    payload_offset = pos
    if view.esp is not None and view.esp.offset >= pos:
        if inner_extensions:
            raise _DecodeError("extension headers between AH and ESP have no place in the value", pos)
        if view.udp is not None:
            if view.udp.length != end - view.udp.offset or view.udp.checksum:
                raise _DecodeError("UDP-ESP length/checksum not as the encoder writes them", view.udp.offset)
            udp = UdpEncapsulation(src_port=view.udp.src_port, dst_port=view.udp.dst_port)
        esp = view.esp
        sa = lookup(esp.spi, final_dst, Operation.ESP)
        if sa is None:
            raise _DecodeError(f"no ESP SA for SPI 0x{esp.spi:08x}", esp.offset)
        opened = esp_codec.open_esp(sa, data[esp.offset : end], seq_hi=sa.seq_hi)
        if not opened.ok:
            raise _DecodeError("ESP does not open: " + ("; ".join(opened.syntax_errors) or "ICV mismatch"), esp.offset)
        minimal = esp_codec.minimal_pad_length(sa, len(opened.payload))
        iv_length = esp_codec.esp_layout(sa).iv_length
        esp_layer = EspLayer(
            sec_assoc=sa,
            seq=_seq(sa, esp.seq_low),
            iv=data[esp.offset + 8 : esp.offset + 8 + iv_length],
            extra_padding=opened.pad_length - minimal,
            pad_content=None if opened.pad == esp_codec.default_pad(len(opened.pad)) else opened.pad,
        )
        payload_bytes = opened.payload
        payload_offset = esp.offset
        protocol = opened.next_header
        if ipv6 and protocol in EXTENSION_HEADER_KINDS:
            inner = dissect_chain(payload_bytes, protocol)
            if inner[2] is not None:
                raise _DecodeError(f"in the ESP payload: {inner[2]}", esp.offset)
            chain = inner[3]
            inner_extensions = tuple(_extension_value(payload_bytes, e) for e in chain)
            protocol = inner[0]
            payload_bytes = payload_bytes[inner[1] :]
    elif view.udp is not None and view.udp.encap == "esp":
        raise _DecodeError("UDP-ESP without an ESP header", view.udp.offset)
    payload: Upper | Datagram
    if (ah_layer is not None or esp_layer is not None) and protocol in (IpProtocol.IPV4, IpProtocol.IPV6):
        try:
            inner_datagram, inner_end = _decode_datagram(payload_bytes, 0, lookup)
        except _DecodeError as exc:
            raise _DecodeError(f"inner datagram: {exc.message}", payload_offset) from None
        if inner_end != len(payload_bytes):
            raise _DecodeError("bytes after the inner datagram", payload_offset)
        expected = IpProtocol.IPV4 if isinstance(inner_datagram.ip, Ipv4Header) else IpProtocol.IPV6
        if protocol != expected:
            raise _DecodeError(f"next header {protocol} announces the other IP version", payload_offset)
        payload = inner_datagram
    else:
        payload = Upper(protocol=protocol, data=payload_bytes)
    return (
        Datagram(
            ip=ip,
            ah=ah_layer,
            esp=esp_layer,
            udp=udp,
            inner_extension_headers=inner_extensions,
            payload=payload,
        ),
        end,
    )


def dissect_chain(data: bytes, kind: int) -> tuple[int, int, str | None, list[ExtensionHeaderView]]:
    """IPv6 extension headers at the start of ``data`` (decrypted ESP payload): (next header, its offset, error,
    headers)."""
    headers: list[ExtensionHeaderView] = []
    pos = 0
    while kind in EXTENSION_HEADER_KINDS:
        ext, error, _ = parse_extension_header(data, pos, kind, len(data))
        if ext is None:
            return kind, pos, error, headers
        headers.append(ext)
        kind = ext.next_header
        pos += ext.length
    return kind, pos, None, headers
