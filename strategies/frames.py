"""``frames()`` and ``bursts()``: Ethernet frames protected by the SAs of a table, valid by construction.

A frame is chosen in three steps, each a ``sampled_from`` over options computed from the table and the capabilities
(never a filter): the *kind* (matched, one of the no-SA kinds, or, when asked, outside the capabilities), then the
*route* (which bundle(s), transport / tunnel / tunnel-over-transport, UDP-ESP or not), then the details (addresses,
header options, sequence numbers, IVs, payload). The simplest option is always first, so a failure shrinks toward an
IPv4 transport-mode ESP frame with an empty UDP payload.

Payload bytes, ports and IVs are derived from one drawn seed with ``random.Random(seed)``: one draw instead of
hundreds, and a burst (``bursts()``) derives many frames from one example without any further draws (architecture,
"Where the time goes").
"""

from __future__ import annotations

import contextlib
import ipaddress
import random
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from hypothesis import event, target
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from reference_model.constants import (
    NAT_KEEPALIVE,
    NON_ESP_MARKER,
    UDP_ENCAP_PORT,
    Encapsulation,
    EncryptionAlgorithm,
    IpProtocol,
    Operation,
    UdpEspEncapsulation,
)
from reference_model.ndis import AddSaEntry, Capabilities, EncryptionSpec, IPAddress, SecAssoc
from reference_model.packets import (
    AhLayer,
    Datagram,
    EspLayer,
    EthernetHeader,
    Frame,
    IpHeader,
    Ipv4Header,
    Ipv4Option,
    Ipv6ExtensionHeader,
    Ipv6FragmentHeader,
    Ipv6Header,
    Ipv6Option,
    Ipv6OptionsHeader,
    UdpEncapsulation,
    Upper,
)
from reference_model.wire.checksum import internet_checksum, pseudo_header_sum
from reference_model.wire.esp import esp_layout
from reference_model.wire.frame import encode_frame
from strategies._check import check_caps, check_size, check_type
from strategies._draw import BOOLEANS, integers, pick
from strategies.labels import Shape
from strategies.security_associations import SaTable, address
from strategies.values import Burst, GeneratedFrame

U32 = 0xFFFFFFFF
SEQ_EDGES = (0, 1, 0xFFFFFFFE, 0xFFFFFFFF)
LARGE_PAYLOAD = 1400

# IPv4 options (IETF-AH-OPTIONS-V4): immutable ones enter the AH ICV, mutable ones are zeroed for it.
OPTION_NOP = 1
OPTION_ROUTER_ALERT = 148  # immutable
OPTION_RECORD_ROUTE = 7  # mutable
OPTION_TIMESTAMP = 68  # mutable
IMMUTABLE_V4_OPTIONS = frozenset({OPTION_NOP, OPTION_ROUTER_ALERT, 130, 133, 134, 149})
MUTABLE_V4_OPTIONS = frozenset({OPTION_RECORD_ROUTE, OPTION_TIMESTAMP, 131, 137, 82})

# A fixed SA for frames that must match nothing when the table is empty (their SPI is never offloaded).
_FALLBACK_SA = SecAssoc(
    operation=Operation.ESP,
    spi=0x0BAD0000,
    encryption=EncryptionSpec(algorithm=EncryptionAlgorithm.AES_GCM_128, key=bytes(16), salt=bytes(4), icv_length=16),
)


# --------------------------------------------------------------------------------------------------------------------
# Routes: which bundles protect a frame, and how


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """How a frame uses the table: ``mode`` transport / tunnel / nested; ``outer`` the bundle of the outermost
    IPsec portion; ``inner`` the transport bundle of a nested frame; ``udp`` which portion is UDP-encapsulated."""

    mode: str
    outer: AddSaEntry
    inner: AddSaEntry | None = None
    udp: str = "none"  # "none" | "outer" | "inner"


def _has_esp_only(e: AddSaEntry) -> bool:
    return e.esp is not None and e.ah is None


def matched_routes(table: SaTable, caps: Capabilities) -> list[Route]:
    """Every way a frame can be protected by inbound bundles of ``table`` within ``caps``, simplest first."""
    inbound = table.inbound
    simple: list[Route] = []
    nested: list[Route] = []
    for e in inbound:
        sub = e.udp_esp_encapsulation
        if sub is UdpEspEncapsulation.NONE:
            if caps.transport:
                simple.append(Route(mode="transport", outer=e))
            simple.append(Route(mode="tunnel", outer=e))
        elif sub is UdpEspEncapsulation.TRANSPORT and caps.transport:
            simple.append(Route(mode="transport", outer=e, udp="outer"))
        elif sub is UdpEspEncapsulation.TUNNEL:
            simple.append(Route(mode="tunnel", outer=e, udp="outer"))
    if caps.transport and caps.transport_tunnel_combined:
        nested = _nested_routes(inbound, caps)
    return simple + nested


def _nested_routes(inbound: Sequence[AddSaEntry], caps: Capabilities) -> list[Route]:
    out: list[Route] = []
    for o in inbound:
        for i in inbound:
            if i is o:
                continue
            so, si = o.udp_esp_encapsulation, i.udp_esp_encapsulation
            if so is UdpEspEncapsulation.NONE and si is UdpEspEncapsulation.NONE:
                out.append(Route(mode="nested", outer=o, inner=i))
            elif (
                so is UdpEspEncapsulation.TRANSPORT_OVER_UDP_ESP_TUNNEL
                and _has_esp_only(o)
                and i.esp is not None
                and si in (UdpEspEncapsulation.NONE, so)
                and caps.udp_esp & so
            ):
                out.append(Route(mode="nested", outer=o, inner=i, udp="outer"))
            elif (
                si is UdpEspEncapsulation.TRANSPORT_OVER_TUNNEL
                and _has_esp_only(i)
                and so in (UdpEspEncapsulation.NONE, si)
                and caps.udp_esp & si
            ):
                out.append(Route(mode="nested", outer=o, inner=i, udp="inner"))
    return out


# --------------------------------------------------------------------------------------------------------------------
# Deterministic expansion from a seed


def _rng(seed: int, *salt: int) -> random.Random:
    """A generator fixed by ``seed`` and ``salt`` (string seeding is stable across runs and processes)."""
    return random.Random(":".join(str(x) for x in (seed, *salt)))


def upper(*, kind: str, app: bytes, src: IPAddress, dst: IPAddress, ports: tuple[int, int] = (49152, 80)) -> Upper:
    """A whole TCP segment, UDP datagram or ICMP echo request with a correct checksum over ``app``."""
    v6 = src.version == 6
    if kind == "tcp":
        header = struct.pack(">HHIIBBHHH", ports[0], ports[1], 1, 0, 5 << 4, 0x18, 65535, 0, 0)
        seg = header + app
        csum = internet_checksum(seg, pseudo_header_sum(src, dst, IpProtocol.TCP, len(seg)))
        return Upper(protocol=IpProtocol.TCP, data=seg[:16] + csum.to_bytes(2, "big") + seg[18:])
    if kind == "udp":
        seg = struct.pack(">HHHH", ports[0], ports[1], 8 + len(app), 0) + app
        csum = internet_checksum(seg, pseudo_header_sum(src, dst, IpProtocol.UDP, len(seg))) or 0xFFFF
        return Upper(protocol=IpProtocol.UDP, data=seg[:6] + csum.to_bytes(2, "big") + seg[8:])
    # ICMP echo request (RFC 792) or ICMPv6 echo request (RFC 4443, checksum with pseudo-header).
    proto = IpProtocol.ICMPV6 if v6 else IpProtocol.ICMP
    msg = bytes((128 if v6 else 8, 0, 0, 0)) + struct.pack(">HH", ports[0], 1) + app
    initial = pseudo_header_sum(src, dst, proto, len(msg)) if v6 else 0
    csum = internet_checksum(msg, initial)
    return Upper(protocol=proto, data=msg[:2] + csum.to_bytes(2, "big") + msg[4:])


_L4_HEADER = {IpProtocol.TCP: 20, IpProtocol.UDP: 8, IpProtocol.ICMP: 8, IpProtocol.ICMPV6: 8}
_L4_KIND = {IpProtocol.TCP: "tcp", IpProtocol.UDP: "udp", IpProtocol.ICMP: "icmp", IpProtocol.ICMPV6: "icmp"}


def _udp_to_4500(payload: bytes, src: IPAddress, dst: IPAddress) -> Upper:
    """A UDP datagram to port 4500 that is not ESP (NAT keepalive, IKE): IETF-UDPENCAP."""
    seg = struct.pack(">HHHH", UDP_ENCAP_PORT, UDP_ENCAP_PORT, 8 + len(payload), 0) + payload
    csum = internet_checksum(seg, pseudo_header_sum(src, dst, IpProtocol.UDP, len(seg))) or 0xFFFF
    return Upper(protocol=IpProtocol.UDP, data=seg[:6] + csum.to_bytes(2, "big") + seg[8:])


# --------------------------------------------------------------------------------------------------------------------
# Details drawn per frame


@dataclass(frozen=True, slots=True, kw_only=True)
class _Details:
    seed: int
    l4: str
    app_length: int
    seq_low: int
    esn_edge: bool
    extra_pad_blocks: int
    v4_options: tuple[Ipv4Option, ...]
    v6_before: tuple[Ipv6ExtensionHeader, ...]
    v6_after: tuple[Ipv6ExtensionHeader, ...]
    vlan: int | None
    fragment: str | None  # None, "mf", "offset"
    inner_v6: bool


_V4_OPTION_CHOICES = (
    Ipv4Option(option_type=OPTION_ROUTER_ALERT, data=b"\x00\x00"),
    Ipv4Option(option_type=OPTION_RECORD_ROUTE, data=bytes([4]) + bytes(4)),
    Ipv4Option(option_type=OPTION_TIMESTAMP, data=bytes([5, 0]) + bytes(4)),
    Ipv4Option(option_type=OPTION_NOP),
    Ipv4Option(option_type=OPTION_RECORD_ROUTE, data=bytes([4]) + bytes(8)),
    Ipv4Option(option_type=130, data=bytes(9)),  # Security (RFC 1108), immutable
)

_HOP_BY_HOP = Ipv6OptionsHeader(kind=IpProtocol.HOPOPT, options=(Ipv6Option(option_type=0x05, data=b"\x00\x00"),))
_DEST_OPTS = Ipv6OptionsHeader(kind=IpProtocol.IPV6_OPTS, options=(Ipv6Option(option_type=0x1E, data=b"\x01\x02"),))
_DEST_OPTS_MUTABLE = Ipv6OptionsHeader(
    kind=IpProtocol.IPV6_OPTS, options=(Ipv6Option(option_type=0x3E, data=b"\x00\x00\x00\x00"),)
)


def _details(draw: st.DrawFn, *, caps: Capabilities, v4_options: bool, v6_ext: bool, fragment: bool,
             vlan: bool, max_payload: int) -> _Details:
    seed = draw(integers(0, 2**32 - 1))
    l4 = pick(draw, ("udp", "tcp", "icmp"))
    size = pick(draw, ("small", "empty", "large") if max_payload >= LARGE_PAYLOAD else ("small", "empty"))
    if size == "small":
        app_length = draw(integers(0, min(64, max_payload)))
    elif size == "large":
        app_length = draw(integers(LARGE_PAYLOAD, max_payload))
    else:
        app_length = 0
    edge = draw(BOOLEANS)
    seq_low = pick(draw, SEQ_EDGES) if edge else draw(integers(1, U32))
    extra = pick(draw, (0, 0, 1, 3))
    options: tuple[Ipv4Option, ...] = ()
    if v4_options and draw(BOOLEANS):
        options = tuple(pick(draw, _V4_OPTION_CHOICES) for _ in range(draw(integers(1, 3))))
    before: tuple[Ipv6ExtensionHeader, ...] = ()
    after: tuple[Ipv6ExtensionHeader, ...] = ()
    if v6_ext:
        where = pick(draw, ("none", "before", "after", "both"))
        if where in ("before", "both"):
            hbh = draw(BOOLEANS)
            dest = pick(draw, (None, _DEST_OPTS, _DEST_OPTS_MUTABLE))
            before = tuple(h for h in ((_HOP_BY_HOP if hbh else None), dest) if h is not None) or (_HOP_BY_HOP,)
        if where in ("after", "both"):
            after = (_DEST_OPTS,)
    frag = pick(draw, (None, "mf", "offset")) if fragment and draw(integers(0, 9)) == 0 else None
    vlan_id = draw(integers(1, 4094)) if vlan and draw(BOOLEANS) else None
    inner_v6 = caps.ipv6_supported and draw(BOOLEANS)
    return _Details(
        seed=seed,
        l4=l4,
        app_length=app_length,
        seq_low=seq_low,
        esn_edge=edge,
        extra_pad_blocks=extra,
        v4_options=options,
        v6_before=before,
        v6_after=after,
        vlan=vlan_id,
        fragment=frag,
        inner_v6=inner_v6,
    )


# --------------------------------------------------------------------------------------------------------------------
# Building the value


def _ip_header(*, ipv6: bool, src: IPAddress, dst: IPAddress, d: _Details, outer: bool, ident: int) -> IpHeader:
    if ipv6:
        assert isinstance(src, ipaddress.IPv6Address)
        assert isinstance(dst, ipaddress.IPv6Address)
        ext: tuple[Ipv6ExtensionHeader, ...] = d.v6_before if outer else ()
        if outer and d.fragment is not None:
            ext = (*ext, Ipv6FragmentHeader(offset=0 if d.fragment == "mf" else 8, more=d.fragment == "mf",
                                            identification=ident))
        return Ipv6Header(src=src, dst=dst, extension_headers=ext, flow_label=ident & 0xFFFFF)
    assert isinstance(src, ipaddress.IPv4Address)
    assert isinstance(dst, ipaddress.IPv4Address)
    flags, offset = 0, 0
    if outer and d.fragment == "mf":
        flags = 0x1
    elif outer and d.fragment == "offset":
        offset = 185
    return Ipv4Header(src=src, dst=dst, identification=ident & 0xFFFF, flags=flags, fragment_offset=offset,
                      options=d.v4_options if outer else ())


def _endpoints(entry: AddSaEntry, rng: random.Random, *, dst_override: IPAddress | None = None,
               ) -> tuple[IPAddress, IPAddress]:
    """Packet addresses for ``entry``: its endpoints, with wildcards (zero, AMB-03) replaced by concrete hosts."""
    src: IPAddress = entry.src
    dst: IPAddress = entry.dst if dst_override is None else dst_override
    if int(src) == 0:
        src = address(ipv6=entry.ipv6, host=rng.randint(1, 254))
    if int(dst) == 0:
        dst = address(ipv6=entry.ipv6, host=rng.randint(1, 254))
    return src, dst


def _seq(sa: SecAssoc, low: int) -> int:
    return (sa.seq_hi << 32 | low) if sa.esn else low


def _layers(entry: AddSaEntry, d: _Details, rng: random.Random, *,
            spi_override: int | None = None) -> tuple[AhLayer | None, EspLayer | None]:
    ah = esp = None
    if entry.ah is not None:
        sa = entry.ah if spi_override is None else replace(entry.ah, spi=spi_override)
        iv = rng.randbytes(8) if sa.authentication is not None and sa.authentication.salt else b""
        ah = AhLayer(sec_assoc=sa, seq=_seq(sa, d.seq_low), iv=iv)
    if entry.esp is not None:
        sa = entry.esp if spi_override is None else replace(entry.esp, spi=spi_override)
        layout = esp_layout(sa)
        esp = EspLayer(sec_assoc=sa, seq=_seq(sa, d.seq_low), iv=rng.randbytes(layout.iv_length),
                       extra_padding=d.extra_pad_blocks * layout.alignment)
    return ah, esp


def _plain_inner(d: _Details, rng: random.Random) -> Datagram:
    """The inner datagram of a plain tunnel: any supported IP version, arbitrary hosts, an upper-layer payload."""
    src = address(ipv6=d.inner_v6, host=100 + rng.randint(0, 99))
    dst = address(ipv6=d.inner_v6, host=200 + rng.randint(0, 54))
    return Datagram(ip=_ip_header(ipv6=d.inner_v6, src=src, dst=dst, d=d, outer=False, ident=rng.getrandbits(16)),
                    payload=_upper_for(d, src, dst))


def _upper_for(d: _Details, src: IPAddress, dst: IPAddress) -> Upper:
    rng = _rng(d.seed, 1)
    app = rng.randbytes(d.app_length)
    return upper(kind=d.l4, app=app, src=src, dst=dst, ports=(rng.randint(1024, 65535), rng.randint(1, 1023)))


def build_datagram(route: Route, d: _Details, *, spi_override: int | None = None,
                   dst_override: IPAddress | None = None) -> Datagram:
    """The datagram for ``route`` with details ``d`` (pure: same inputs, same value)."""
    rng = _rng(d.seed, 2)
    outer_src, outer_dst = _endpoints(route.outer, rng, dst_override=dst_override)
    ah, esp = _layers(route.outer, d, rng, spi_override=spi_override)
    udp = UdpEncapsulation() if route.udp == "outer" else None
    ident = rng.getrandbits(20)
    v6 = route.outer.ipv6
    ip = _ip_header(ipv6=v6, src=outer_src, dst=outer_dst, d=d, outer=True, ident=ident)
    # Extension headers behind AH/ESP only in transport mode: in tunnel mode the protected next header must be
    # 4 or 41 for the NIC to see the tunnel (AMB-05).
    after = d.v6_after if v6 and route.mode == "transport" else ()
    if route.mode == "transport":
        return Datagram(ip=ip, ah=ah, esp=esp, udp=udp, inner_extension_headers=after,
                        payload=_upper_for(d, outer_src, outer_dst))
    if route.mode == "tunnel":
        return Datagram(ip=ip, ah=ah, esp=esp, udp=udp, payload=_plain_inner(d, rng))
    assert route.inner is not None
    inner = route.inner
    isrc, idst = _endpoints(inner, rng)
    iah, iesp = _layers(inner, d, rng)
    inner_dg = Datagram(
        ip=_ip_header(ipv6=inner.ipv6, src=isrc, dst=idst, d=d, outer=False, ident=rng.getrandbits(16)),
        ah=iah, esp=iesp, udp=UdpEncapsulation() if route.udp == "inner" else None,
        inner_extension_headers=d.v6_after if inner.ipv6 else (),
        payload=_upper_for(d, isrc, idst),
    )
    return Datagram(ip=ip, ah=ah, esp=esp, udp=udp, payload=inner_dg)


def shape_of(route: Route, d: _Details, datagram: Datagram, frame: Frame, data: bytes) -> set[Shape]:
    """The shape tags that describe a built frame (what ``event()`` counts)."""
    tags: set[Shape] = set()
    e = route.outer
    tags.add(Shape.IPV6 if e.ipv6 else Shape.IPV4)
    entries = [e] if route.inner is None else [e, route.inner]
    for x in entries:
        if x.ah is not None and x.esp is not None:
            tags.add(Shape.AH_ESP)
        elif x.ah is not None:
            tags.add(Shape.AH)
        else:
            tags.add(Shape.ESP)
        if any(sa.esn for sa in x.sec_assoc):
            tags.add(Shape.ESN)
            if d.esn_edge:
                tags.add(Shape.ESN_WRAP_EDGE)
        if int(x.dst) == 0:
            tags.add(Shape.WILDCARD_DST)
    tags.add({"transport": Shape.TRANSPORT, "tunnel": Shape.TUNNEL, "nested": Shape.NESTED}[route.mode])
    if route.udp != "none":
        tags.add(Shape.UDP_ESP)
        if route.udp == "inner":
            tags.add(Shape.UDP_ESP_UDP_TRANSPORT_OVER_TUNNEL)
        elif route.mode == "nested":
            tags.add(Shape.UDP_ESP_TRANSPORT_OVER_UDP_TUNNEL)
        else:
            tags.add(Shape.UDP_ESP_TRANSPORT if route.mode == "transport" else Shape.UDP_ESP_TUNNEL)
    ip = datagram.ip
    if isinstance(ip, Ipv4Header):
        types = {o.option_type for o in ip.options}
        if types & MUTABLE_V4_OPTIONS:
            tags.add(Shape.IPV4_OPTIONS_MUTABLE)
        if types & IMMUTABLE_V4_OPTIONS:
            tags.add(Shape.IPV4_OPTIONS_IMMUTABLE)
    elif any(not isinstance(h, Ipv6FragmentHeader) for h in ip.extension_headers):
        tags.add(Shape.IPV6_EXT_BEFORE)
    if datagram.inner_extension_headers or (
        isinstance(datagram.payload, Datagram) and datagram.payload.inner_extension_headers
    ):
        tags.add(Shape.IPV6_EXT_AFTER)
    tags.add({"tcp": Shape.TCP, "udp": Shape.UDP, "icmp": Shape.ICMP}[d.l4])
    if d.app_length == 0:
        tags.add(Shape.EMPTY_PAYLOAD)
    if d.app_length >= LARGE_PAYLOAD:
        tags.add(Shape.LARGE_PAYLOAD)
    if frame.ethernet.vlan is not None:
        tags.add(Shape.VLAN)
    if d.fragment is not None:
        tags.add(Shape.FRAGMENT)
    if _ip_length(data, frame) < 46:
        tags.add(Shape.SHORT_PADDED)
    return tags


def _ip_length(data: bytes, frame: Frame) -> int:
    off = 18 if frame.ethernet.vlan is not None else 14
    if isinstance(frame.datagram.ip, Ipv4Header):
        return int.from_bytes(data[off + 2 : off + 4], "big")
    return 40 + int.from_bytes(data[off + 4 : off + 6], "big")


def _generated(frame: Frame, *, shape: set[Shape], sa_ids: tuple[int, ...], processed: bool, note: str,
               steer: bool) -> GeneratedFrame:
    data = encode_frame(frame)
    if _ip_length(data, frame) < 46:
        shape.add(Shape.SHORT_PADDED)
    for tag in sorted(shape):
        event(f"frame shape: {tag}")
    if steer:
        rare = (Shape.NESTED in shape) + (Shape.AH_ESP in shape) + (Shape.IPV6 in shape) + (
            Shape.IPV6_EXT_BEFORE in shape or Shape.IPV6_EXT_AFTER in shape) + (Shape.UDP_ESP in shape)
        _target(float(rare), "rare frame shapes (nested, AH+ESP, IPv6 with extension headers, UDP-ESP)")
    return GeneratedFrame(frame=frame, data=data, shape=frozenset(shape), sa_ids=sa_ids, processed=processed,
                          note=note)


def _target(value: float, label: str) -> None:
    """``target()`` once per label per test case; later calls in the same example (several frames drawn) are
    ignored, because Hypothesis refuses a label twice."""
    with contextlib.suppress(InvalidArgument):
        target(value, label=label)


# --------------------------------------------------------------------------------------------------------------------
# Frame kinds


def _kinds(table: SaTable, caps: Capabilities, *, unmatched: bool, unsupported: bool) -> list[str]:
    kinds: list[str] = []
    if matched_routes(table, caps):
        kinds.append("matched")
    if unmatched:
        kinds.append("unknown-spi")
        if any(int(e.dst) != 0 for e in table.inbound):
            kinds.append("other-dst")
        if any(e.inbound for e in table.deleted):
            kinds.append("deleted")
        if any(not e.inbound for e in table.entries):
            kinds.append("outbound-only")
        kinds += ["nat-keepalive", "ike"]
    if unsupported:
        kinds += [f"unsupported:{c}" for c in unsupported_clauses(table, caps)]
    return kinds


def unsupported_clauses(table: SaTable, caps: Capabilities) -> list[str]:
    """RX-CAPS-* rows a frame on ``table`` can violate, given what ``caps`` does not claim."""
    inbound = table.inbound
    plain = [e for e in inbound if e.udp_esp_encapsulation is UdpEspEncapsulation.NONE]
    out = []
    if not caps.ipv4_options and any(not e.ipv6 for e in plain):
        out.append("RX-CAPS-IPV4-OPTIONS")
    if not caps.ipv6_non_ipsec_extension_headers and any(e.ipv6 for e in plain):
        out.append("RX-CAPS-IPV6-EXTHDR")
    if not caps.transport and plain:
        out.append("RX-CAPS-TRANSPORT")
    if not caps.transport_tunnel_combined and len(plain) >= 2:
        out.append("RX-CAPS-TPT-TUN")
    esp_only = [e for e in plain if _has_esp_only(e)]
    if esp_only and (
        (caps.transport and not caps.udp_esp & UdpEspEncapsulation.TRANSPORT)
        or not caps.udp_esp & UdpEspEncapsulation.TUNNEL
    ):
        out.append("RX-CAPS-UDPESP")
    if not caps.encapsulation & Encapsulation.IEEE_802_3_P_AND_Q and plain:
        out.append("RX-CAPS-ENCAP")
    return out


def _other_address(a: IPAddress, rng: random.Random) -> IPAddress:
    """An address of the same family as ``a``, never equal to it and never zero."""
    host = rng.randint(1, 253)
    b = address(ipv6=a.version == 6, host=host)
    return b if b != a else address(ipv6=a.version == 6, host=254)


@st.composite
def _frames(draw: st.DrawFn, table: SaTable, caps: Capabilities, *, unmatched: bool, unsupported: bool,
            steer: bool, max_payload: int) -> GeneratedFrame:
    kinds = _kinds(table, caps, unmatched=unmatched, unsupported=unsupported)
    # Matched frames are the main course: three in four examples, the off-path kinds share the rest.
    if kinds[0] == "matched" and len(kinds) > 1 and draw(integers(0, 3)) != 0:
        kind = "matched"
    else:
        kind = pick(draw, kinds[1:] if kinds[0] == "matched" and len(kinds) > 1 else kinds)
    event(f"frame kind: {kind}")
    if kind == "matched":
        return matched_frame(draw, pick_route(draw, matched_routes(table, caps)), caps, max_payload=max_payload,
                             steer=steer)
    if kind.startswith("unsupported:"):
        return _unsupported(draw, kind.split(":", 1)[1], table, caps, max_payload=max_payload, steer=steer)
    return _unmatched(draw, kind, table, caps, max_payload=max_payload, steer=steer)


def pick_route(draw: st.DrawFn, routes: Sequence[Route]) -> Route:
    """A route, first choosing its kind (mode and UDP placement) so that rare kinds are drawn as often as common
    ones: with n bundles there are n*(n-1) nested routes but only a few with UDP-ESP on the outer portion."""
    kinds: dict[tuple[str, str], list[Route]] = {}
    for r in routes:
        kinds.setdefault((r.mode, r.udp), []).append(r)
    return pick(draw, pick(draw, list(kinds.values())))


def matched_frame(draw: st.DrawFn, route: Route, caps: Capabilities, *, max_payload: int = 2000,
                  steer: bool = False, seq_low: int | None = None, fragment: bool = True) -> GeneratedFrame:
    """A frame on ``route`` within ``caps`` (``seq_low`` forces the low 32 sequence bits of every layer)."""
    v6 = route.outer.ipv6
    vlan_ok = bool(caps.encapsulation & Encapsulation.IEEE_802_3_P_AND_Q)
    d = _details(draw, caps=caps, v4_options=caps.ipv4_options and not v6,
                 v6_ext=caps.ipv6_non_ipsec_extension_headers and (v6 or (route.inner is not None
                                                                           and route.inner.ipv6)),
                 fragment=fragment, vlan=vlan_ok,
                 max_payload=max_payload)
    if seq_low is not None:
        d = replace(d, seq_low=seq_low, esn_edge=seq_low in SEQ_EDGES)
    datagram = build_datagram(route, d)
    frame = Frame(ethernet=EthernetHeader(vlan=d.vlan), datagram=datagram)
    ids = (route.outer.sa_id,) if route.inner is None else (route.outer.sa_id, route.inner.sa_id)
    data = encode_frame(frame)
    shape = shape_of(route, d, datagram, frame, data)
    processed = d.fragment is None
    note = "RX-FRAGMENT-NOT-PROCESSED" if not processed else "RX-PROCESS-ALL-MATCHING"
    return _generated(frame, shape=shape, sa_ids=ids, processed=processed, note=note, steer=steer)


def _plain_details(draw: st.DrawFn, caps: Capabilities, max_payload: int) -> _Details:
    return _details(draw, caps=caps, v4_options=False, v6_ext=False, fragment=False, vlan=False,
                         max_payload=max_payload)


def _simple_route(entry: AddSaEntry, caps: Capabilities) -> Route:
    """A frame layout for ``entry`` that needs no partner (for frames that must match nothing)."""
    sub = entry.udp_esp_encapsulation
    udp = "outer" if sub in (UdpEspEncapsulation.TRANSPORT, UdpEspEncapsulation.TUNNEL) else "none"
    mode = "transport" if caps.transport and sub is not UdpEspEncapsulation.TUNNEL else "tunnel"
    return Route(mode=mode, outer=entry, udp=udp)


def _unmatched(draw: st.DrawFn, kind: str, table: SaTable, caps: Capabilities, *, max_payload: int,
               steer: bool) -> GeneratedFrame:
    d = _plain_details(draw, caps, max_payload)
    rng = _rng(d.seed, 3)
    if kind in ("nat-keepalive", "ike"):
        pool = table.inbound or table.entries
        if pool:
            e = pick(draw, pool)
            src, dst = _endpoints(e, rng)
        else:
            src, dst = address(ipv6=False, host=1), address(ipv6=False, host=2)
        if kind == "nat-keepalive":
            payload, tag, note = NAT_KEEPALIVE, Shape.NAT_KEEPALIVE, "RX-UDPESP-NON-ESP-UNTOUCHED: NAT keepalive"
        else:
            # Non-ESP marker, then an IKE header: initiator SPI, zero responder SPI, next payload SA, v2, IKE_SA_INIT.
            ike = rng.randbytes(8) + bytes(8) + bytes((33, 0x20, 34, 0x08)) + bytes(4) + (28).to_bytes(4, "big")
            payload, tag, note = NON_ESP_MARKER + ike, Shape.IKE, "RX-UDPESP-NON-ESP-UNTOUCHED: IKE"
        ipv6 = src.version == 6
        dg = Datagram(ip=_ip_header(ipv6=ipv6, src=src, dst=dst, d=d, outer=True, ident=rng.getrandbits(16)),
                      payload=_udp_to_4500(payload, src, dst))
        shape = {tag, Shape.IPV6 if ipv6 else Shape.IPV4}
        return _generated(Frame(datagram=dg), shape=shape, sa_ids=(), processed=False, note=note, steer=steer)
    if kind == "unknown-spi":
        pool = table.entries or table.deleted
        new_spi = _unused_spi(table, d.seed)
        if pool:
            route = _simple_route(pick(draw, pool), caps)
        else:
            route = Route(mode="tunnel", outer=AddSaEntry(
                sa_id=0, inbound=True, ipv6=False, src=address(ipv6=False, host=1), dst=address(ipv6=False, host=2),
                sec_assoc=(_FALLBACK_SA,)))
        dg = build_datagram(route, d, spi_override=new_spi)
        tag, note = Shape.NO_SA_UNKNOWN_SPI, f"RX-NO-SA-NO-OOB: SPI 0x{new_spi:08x} is not offloaded"
    elif kind == "other-dst":
        e = pick(draw, [e for e in table.inbound if int(e.dst) != 0])
        route = _simple_route(e, caps)
        other = _other_address(e.dst, rng)
        dg = build_datagram(route, d, dst_override=other)
        tag, note = Shape.NO_SA_OTHER_DST, f"RX-SA-MATCH-SPI-DST: SA {e.sa_id} is for {e.dst}, frame goes to {other}"
    elif kind == "deleted":
        e = pick(draw, [e for e in table.deleted if e.inbound])
        route = _simple_route(e, caps)
        dg = build_datagram(route, d)
        tag, note = Shape.NO_SA_DELETED, f"SA-AFTER-DELETE-NO-MATCH: SA {e.sa_id} was deleted"
    else:  # outbound-only
        e = pick(draw, [e for e in table.entries if not e.inbound])
        route = _simple_route(e, caps)
        dg = build_datagram(route, d)
        tag, note = Shape.NO_SA_OUTBOUND_ONLY, f"RX-SA-INBOUND-ONLY: SA {e.sa_id} is outbound"
    frame = Frame(datagram=dg)
    data = encode_frame(frame)
    shape = shape_of(route, d, dg, frame, data) | {tag}
    return _generated(frame, shape=shape, sa_ids=(), processed=False, note=note, steer=steer)


def _unused_spi(table: SaTable, seed: int) -> int:
    used = table.spis
    spi = 0x1000 + seed % 0xFFFF0000
    while spi in used:
        spi += 1
    return spi


def _unsupported(draw: st.DrawFn, clause: str, table: SaTable, caps: Capabilities, *, max_payload: int,
                 steer: bool) -> GeneratedFrame:
    plain = [e for e in table.inbound if e.udp_esp_encapsulation is UdpEspEncapsulation.NONE]
    full = replace(caps, transport=True, tunnel=True)
    processed = False
    if clause == "RX-CAPS-IPV4-OPTIONS":
        route = _simple_route(pick(draw, [e for e in plain if not e.ipv6]), caps)
        d = _details(draw, caps=caps, v4_options=True, v6_ext=False, fragment=False, vlan=False,
                          max_payload=max_payload)
        if not d.v4_options:
            d = replace(d, v4_options=(_V4_OPTION_CHOICES[0],))
    elif clause == "RX-CAPS-IPV6-EXTHDR":
        route = _simple_route(pick(draw, [e for e in plain if e.ipv6]), caps)
        d = _details(draw, caps=caps, v4_options=False, v6_ext=True, fragment=False, vlan=False,
                          max_payload=max_payload)
        if not d.v6_before:
            d = replace(d, v6_before=(_HOP_BY_HOP,))
    elif clause == "RX-CAPS-TRANSPORT":
        route = Route(mode="transport", outer=pick(draw, plain))
        d = _plain_details(draw, caps, max_payload)
    elif clause == "RX-CAPS-TPT-TUN":
        route = pick(draw, [r for r in _nested_routes(plain, full) if r.udp == "none"])
        d = _plain_details(draw, caps, max_payload)
        processed = True  # AMB-05: the tunnel portion is still processed; the transport portion is left alone
    elif clause == "RX-CAPS-UDPESP":
        e = pick(draw, [e for e in plain if _has_esp_only(e)])
        modes = []
        if caps.transport and not caps.udp_esp & UdpEspEncapsulation.TRANSPORT:
            modes.append("transport")
        if not caps.udp_esp & UdpEspEncapsulation.TUNNEL:
            modes.append("tunnel")
        route = Route(mode=pick(draw, modes), outer=e, udp="outer")
        d = _plain_details(draw, caps, max_payload)
    else:  # RX-CAPS-ENCAP: an 802.1Q tag the NIC did not claim
        route = _simple_route(pick(draw, plain), caps)
        d = replace(_plain_details(draw, caps, max_payload), vlan=draw(integers(1, 4094)))
    dg = build_datagram(route, d)
    frame = Frame(ethernet=EthernetHeader(vlan=d.vlan), datagram=dg)
    data = encode_frame(frame)
    shape = shape_of(route, d, dg, frame, data) | {Shape.UNSUPPORTED}
    event(f"frame outside caps: {clause}")
    ids = (route.outer.sa_id,) if processed else ()
    return _generated(frame, shape=shape, sa_ids=ids, processed=processed, note=clause, steer=steer)


def frames(
    *,
    sa_table: SaTable,
    caps: Capabilities,
    unmatched: bool = True,
    unsupported: bool = False,
    steer: bool = False,
    max_payload: int = 2000,
) -> st.SearchStrategy[GeneratedFrame]:
    """Frames on ``sa_table`` (section 7 formats), within ``caps`` unless ``unsupported``.

    ``unmatched`` adds frames that match no SA (unknown SPI, known SPI to another destination, deleted SA, outbound
    SA only, NAT keepalive, IKE on port 4500). ``unsupported`` adds frames outside the reported capabilities
    (RX-CAPS-*), which a conforming NIC leaves alone. ``steer`` calls ``target()`` toward rare shapes; it is off by
    default because Hypothesis' target phase (Pareto front upkeep) costs more than generating the frames.
    """
    check_type("sa_table", sa_table, SaTable)
    caps = check_caps(caps)
    check_size("max_payload", max_payload, lo=0, hi=8900)
    for e in sa_table.entries:
        if e.ipv6 and not caps.ipv6_supported:
            raise InvalidArgument(f"sa_table entry {e.sa_id} is IPv6 but caps.ipv6_supported is False: "
                                  "generate the table with the same caps")
    kinds = _kinds(sa_table, caps, unmatched=unmatched, unsupported=unsupported)
    if not kinds:
        raise InvalidArgument("no frame can be built: the table has no inbound bundle usable within caps; "
                              "add one, or pass unmatched=True")
    return _frames(sa_table, caps, unmatched=unmatched, unsupported=unsupported, steer=steer, max_payload=max_payload)


# --------------------------------------------------------------------------------------------------------------------
# Bursts


def _map_layers(d: Datagram, f: Callable[[Datagram], Datagram]) -> Datagram:
    d = f(d)
    if isinstance(d.payload, Datagram):
        return replace(d, payload=_map_layers(d.payload, f))
    return d


def vary_frame(template: GeneratedFrame, *, index: int, seed: int) -> GeneratedFrame:
    """Frame ``index`` of a burst: sequence numbers advanced by ``index`` (low 32 bits, high bits kept), fresh IVs
    and payload bytes from ``(seed, index)``, same lengths. No Hypothesis draws."""
    rng = _rng(seed, index)

    def step(d: Datagram) -> Datagram:
        ah = d.ah
        esp = d.esp
        if ah is not None:
            ah = replace(ah, seq=(ah.seq & ~U32) | ((ah.seq + index) & U32), iv=rng.randbytes(len(ah.iv)))
        if esp is not None:
            esp = replace(esp, seq=(esp.seq & ~U32) | ((esp.seq + index) & U32), iv=rng.randbytes(len(esp.iv)))
        payload = d.payload
        if isinstance(payload, Upper) and payload.protocol in _L4_HEADER:
            hl = _L4_HEADER[IpProtocol(payload.protocol)]
            if len(payload.data) >= hl and not _is_port_4500(payload):
                ports = struct.unpack(">HH", payload.data[:4])
                payload = upper(kind=_L4_KIND[IpProtocol(payload.protocol)], app=rng.randbytes(len(payload.data) - hl),
                                src=d.ip.src, dst=d.ip.dst, ports=(ports[0], ports[1]))
        return replace(d, ah=ah, esp=esp, payload=payload)

    frame = replace(template.frame, datagram=_map_layers(template.frame.datagram, step))
    return replace(template, frame=frame, data=encode_frame(frame), note=f"{template.note} (burst #{index})")


def _is_port_4500(u: Upper) -> bool:
    return u.protocol == IpProtocol.UDP and u.data[2:4] == UDP_ENCAP_PORT.to_bytes(2, "big")


@st.composite
def _bursts(draw: st.DrawFn, table: SaTable, caps: Capabilities, *, min_size: int, max_size: int,
            max_payload: int) -> Burst:
    template = draw(_frames(table, caps, unmatched=False, unsupported=False, steer=False, max_payload=max_payload))
    count = draw(integers(min_size, max_size))
    event(f"burst size: {'1' if count == 1 else '2-15' if count < 16 else '16+'}")
    return Burst(template=template, count=count, seed=draw(integers(0, 2**32 - 1)))


def bursts(*, sa_table: SaTable, caps: Capabilities, min_size: int = 1, max_size: int = 64,
           max_payload: int = 2000) -> st.SearchStrategy[Burst]:
    """A template frame on an inbound bundle plus ``count`` - 1 variations derived from a seed (``Burst.frames()``).

    Only matched frames are used (a burst is for throughput on one SA). Shrinking acts on the template and the count.
    """
    check_type("sa_table", sa_table, SaTable)
    caps = check_caps(caps)
    check_size("min_size", min_size, lo=1, hi=1_000_000)
    check_size("max_size", max_size, lo=min_size, hi=1_000_000)
    check_size("max_payload", max_payload, lo=0, hi=8900)
    if not matched_routes(sa_table, caps):
        raise InvalidArgument("bursts() needs an inbound bundle usable within caps in sa_table; add one")
    return _bursts(sa_table, caps, min_size=min_size, max_size=max_size, max_payload=max_payload)
