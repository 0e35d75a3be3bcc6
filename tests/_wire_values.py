"""Small local Hypothesis strategies for the wire-codec tests (the project's real strategies live in ``strategies/``).

They draw ``packets`` values in the canonical form ``wire.frame`` documents (no trailing IPv4 EOL, no IPv6 padding
options, ESN sequence numbers whose high half is the SA's ``seq_hi``), with SPIs unique per drawn frame so that a
lookup built from the value finds each SA.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from hypothesis import strategies as st

from reference_model.constants import AuthenticationAlgorithm, EncryptionAlgorithm, IpProtocol, Operation
from reference_model.ndis import AuthenticationSpec, EncryptionSpec, IPAddress, SecAssoc
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
from reference_model.wire.ah import ah_iv_length
from reference_model.wire.esp import esp_layout
from reference_model.wire.frame import SaLookup
from reference_model.wire.udp import ike_packet, nat_keepalive

ipv4_addresses = st.integers(1, 2**32 - 1).map(ipaddress.IPv4Address)
ipv6_addresses = st.integers(1, 2**128 - 1).map(ipaddress.IPv6Address)


def _route(option_type: int) -> st.SearchStrategy[Ipv4Option]:
    return st.builds(
        lambda count, done, addrs: Ipv4Option(
            option_type=option_type,
            data=bytes((4 + 4 * count if done else 4,)) + b"".join(a.packed for a in addrs[:count]),
        ),
        st.integers(1, 3),
        st.booleans(),
        st.lists(ipv4_addresses, min_size=3, max_size=3),
    )


NON_ROUTING_IPV4_OPTIONS: st.SearchStrategy[Ipv4Option] = st.one_of(
    st.just(Ipv4Option(option_type=1)),
    st.just(Ipv4Option(option_type=148, data=b"\x00\x00")),  # Router Alert (immutable)
    st.binary(min_size=9, max_size=9).map(lambda d: Ipv4Option(option_type=130, data=d)),  # Security (immutable)
    st.binary(min_size=2, max_size=10).map(lambda d: Ipv4Option(option_type=68, data=d)),  # Timestamp (mutable)
    st.binary(min_size=1, max_size=9).map(lambda d: Ipv4Option(option_type=7, data=d)),  # Record Route (mutable)
    st.tuples(st.sampled_from([0x9E, 0x19, 0xDE]), st.binary(max_size=6)).map(  # unknown numbers
        lambda t: Ipv4Option(option_type=t[0], data=t[1])
    ),
)
IPV4_OPTIONS = st.one_of(NON_ROUTING_IPV4_OPTIONS, _route(131), _route(137))


def _fits(options: list[Ipv4Option]) -> bool:
    return sum(1 if o.option_type in (0, 1) else 2 + len(o.data) for o in options) <= 40


def ipv4_headers(*, routing: bool = True) -> st.SearchStrategy[Ipv4Header]:
    options = st.lists(IPV4_OPTIONS if routing else NON_ROUTING_IPV4_OPTIONS, max_size=4).filter(_fits)
    return st.builds(
        Ipv4Header,
        src=ipv4_addresses,
        dst=ipv4_addresses,
        tos=st.integers(0, 255),
        identification=st.integers(0, 0xFFFF),
        flags=st.sampled_from([0, 2]),
        fragment_offset=st.just(0),
        ttl=st.integers(0, 255),
        options=st.one_of(st.just(()), options.map(tuple)),
    )


IPV6_OPTIONS = st.builds(Ipv6Option, option_type=st.integers(2, 255), data=st.binary(max_size=12))


def ipv6_extension_headers(*, routing: bool = True, fragment: bool = True) -> st.SearchStrategy[Ipv6ExtensionHeader]:
    options_headers = st.builds(
        Ipv6OptionsHeader, kind=st.sampled_from([0, 60]), options=st.lists(IPV6_OPTIONS, max_size=3).map(tuple)
    )
    choices: list[st.SearchStrategy[Ipv6ExtensionHeader]] = [options_headers]
    if routing:
        choices.append(
            st.lists(ipv6_addresses, max_size=3).flatmap(
                lambda addrs: st.builds(
                    Ipv6RoutingHeader,
                    routing_type=st.just(0),
                    segments_left=st.integers(0, len(addrs)),
                    addresses=st.just(tuple(addrs)),
                )
            )
        )
    if fragment:
        choices.append(
            st.builds(
                Ipv6FragmentHeader,
                offset=st.integers(0, 0x1FFF),
                more=st.booleans(),
                identification=st.integers(0, 2**32 - 1),
            )
        )
    return st.one_of(*choices)


def ipv6_headers(*, routing: bool = True, fragment: bool = True) -> st.SearchStrategy[Ipv6Header]:
    return st.builds(
        Ipv6Header,
        src=ipv6_addresses,
        dst=ipv6_addresses,
        traffic_class=st.integers(0, 255),
        flow_label=st.integers(0, 0xFFFFF),
        hop_limit=st.integers(0, 255),
        extension_headers=st.lists(ipv6_extension_headers(routing=routing, fragment=fragment), max_size=2).map(tuple),
    )


AH_ALGORITHMS = [
    AuthenticationAlgorithm.MD5,
    AuthenticationAlgorithm.SHA_1,
    AuthenticationAlgorithm.SHA_256,
    AuthenticationAlgorithm.AES_GCM_128,
    AuthenticationAlgorithm.AES_GCM_256,
]
_KEY = {
    AuthenticationAlgorithm.MD5: 16,
    AuthenticationAlgorithm.SHA_1: 20,
    AuthenticationAlgorithm.SHA_256: 32,
    AuthenticationAlgorithm.AES_GCM_128: 16,
    AuthenticationAlgorithm.AES_GCM_256: 32,
}


@st.composite
def ah_sas(draw: st.DrawFn, algorithm: AuthenticationAlgorithm | None = None) -> SecAssoc:
    alg = draw(st.sampled_from(AH_ALGORITHMS)) if algorithm is None else algorithm
    gmac = alg in (AuthenticationAlgorithm.AES_GCM_128, AuthenticationAlgorithm.AES_GCM_256)
    return SecAssoc(
        operation=Operation.AH,
        spi=draw(st.integers(256, 2**32 - 1)),
        esn=draw(st.booleans()),
        seq_hi=draw(st.integers(0, 2**32 - 1)),
        authentication=AuthenticationSpec(
            algorithm=alg,
            key=draw(st.binary(min_size=_KEY[alg], max_size=_KEY[alg])),
            salt=draw(st.binary(min_size=4, max_size=4)) if gmac else b"",
        ),
    )


@st.composite
def esp_sas(draw: st.DrawFn) -> SecAssoc:
    kind = draw(st.sampled_from(["gcm", "cbc-sha1", "null-sha256"]))
    enc: EncryptionSpec
    auth: AuthenticationSpec | None = None
    if kind == "gcm":
        enc = EncryptionSpec(
            algorithm=EncryptionAlgorithm.AES_GCM_128,
            key=draw(st.binary(min_size=16, max_size=16)),
            salt=draw(st.binary(min_size=4, max_size=4)),
            icv_length=draw(st.sampled_from([8, 12, 16])),
        )
    elif kind == "cbc-sha1":
        enc = EncryptionSpec(algorithm=EncryptionAlgorithm.AES_CBC_128, key=draw(st.binary(min_size=16, max_size=16)))
        auth = AuthenticationSpec(
            algorithm=AuthenticationAlgorithm.SHA_1, key=draw(st.binary(min_size=20, max_size=20))
        )
    else:
        enc = EncryptionSpec(algorithm=EncryptionAlgorithm.NONE)
        auth = AuthenticationSpec(
            algorithm=AuthenticationAlgorithm.SHA_256, key=draw(st.binary(min_size=32, max_size=32))
        )
    return SecAssoc(
        operation=Operation.ESP,
        spi=draw(st.integers(256, 2**32 - 1)),
        esn=draw(st.booleans()),
        seq_hi=draw(st.integers(0, 2**32 - 1)),
        authentication=auth,
        encryption=enc,
    )


def _seq(draw: st.DrawFn, sa: SecAssoc) -> int:
    low = draw(st.integers(0, 2**32 - 1))
    return sa.seq_hi << 32 | low if sa.esn else low


@st.composite
def ah_layers(draw: st.DrawFn, algorithm: AuthenticationAlgorithm | None = None) -> AhLayer:
    sa = draw(ah_sas(algorithm))
    n = ah_iv_length(sa)
    return AhLayer(sec_assoc=sa, seq=_seq(draw, sa), iv=draw(st.binary(min_size=n, max_size=n)))


@st.composite
def esp_layers(draw: st.DrawFn) -> EspLayer:
    sa = draw(esp_sas())
    layout = esp_layout(sa)
    return EspLayer(
        sec_assoc=sa,
        seq=_seq(draw, sa),
        iv=draw(st.binary(min_size=layout.iv_length, max_size=layout.iv_length)),
        extra_padding=layout.alignment * draw(st.integers(0, 2)),
        pad_content=None,
    )


UPPER_PROTOCOLS = st.sampled_from([IpProtocol.TCP, IpProtocol.UDP, IpProtocol.ICMP, IpProtocol.ICMPV6, 59, 99, 132])
uppers = st.one_of(
    st.builds(Upper, protocol=UPPER_PROTOCOLS.map(int), data=st.binary(max_size=40)),
    st.just(nat_keepalive()),
    st.binary(max_size=12).map(ike_packet),
)


@st.composite
def datagrams(draw: st.DrawFn, *, depth: int = 1, protected: bool | None = None) -> Datagram:
    """Transport, tunnel (payload a datagram) and nested tunnel-over-transport shapes, AH/ESP/AH+ESP/UDP-ESP."""
    ipv6 = draw(st.booleans())
    ip: Ipv4Header | Ipv6Header = draw(ipv6_headers()) if ipv6 else draw(ipv4_headers())
    shape = (
        draw(st.sampled_from(["plain", "ah", "esp", "ah+esp", "udp-esp"]))
        if protected is None
        else (draw(st.sampled_from(["ah", "esp", "ah+esp", "udp-esp"])) if protected else "plain")
    )
    ah = draw(ah_layers()) if shape in ("ah", "ah+esp") else None
    esp = draw(esp_layers()) if shape in ("esp", "ah+esp", "udp-esp") else None
    udp = UdpEncapsulation(src_port=draw(st.sampled_from([4500, 1024, 65000]))) if shape == "udp-esp" else None
    payload: Upper | Datagram
    if shape != "plain" and depth > 0 and draw(st.booleans()):
        payload = draw(datagrams(depth=depth - 1))
    else:
        payload = draw(uppers)
    inner_ext: tuple[Ipv6ExtensionHeader, ...] = ()
    if ipv6 and shape != "plain" and draw(st.booleans()):
        inner_ext = (draw(ipv6_extension_headers(routing=False, fragment=False)),)
    return Datagram(ip=ip, ah=ah, esp=esp, udp=udp, inner_extension_headers=inner_ext, payload=payload)


def _all_sas(datagram: Datagram) -> Iterator[SecAssoc]:
    if datagram.ah is not None:
        yield datagram.ah.sec_assoc
    if datagram.esp is not None:
        yield datagram.esp.sec_assoc
    if isinstance(datagram.payload, Datagram):
        yield from _all_sas(datagram.payload)


def unique_spis(datagram: Datagram) -> bool:
    spis = [(sa.spi, sa.operation) for sa in _all_sas(datagram)]
    return len(spis) == len(set(spis))


frames = st.builds(
    Frame,
    ethernet=st.builds(
        EthernetHeader,
        dst=st.binary(min_size=6, max_size=6),
        src=st.binary(min_size=6, max_size=6),
        vlan=st.none() | st.integers(0, 4095),
    ),
    datagram=datagrams().filter(unique_spis),
)


def lookup_for(datagram: Datagram) -> SaLookup:
    table = {(sa.spi, sa.operation): sa for sa in _all_sas(datagram)}

    def lookup(spi: int, dst: IPAddress, operation: Operation) -> SecAssoc | None:
        return table.get((spi, operation))

    return lookup
