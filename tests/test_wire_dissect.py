"""dissect_frame / dissect_datagram: never raise, and report what the NIC model needs (SPI, offsets, UDP kinds)."""

from __future__ import annotations

import ipaddress

import pytest
from _wire_values import esp_layers, frames, ipv4_headers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference_model.packets import Datagram, EspLayer, Frame, Ipv4Header, UdpEncapsulation, Upper
from reference_model.wire.checksum import internet_checksum
from reference_model.wire.dissect import dissect_datagram, dissect_frame
from reference_model.wire.frame import encode_datagram, encode_frame
from reference_model.wire.udp import ike_packet, nat_keepalive

V4 = Ipv4Header(src=ipaddress.IPv4Address("10.0.0.1"), dst=ipaddress.IPv4Address("10.0.0.2"))


@settings(max_examples=300)
@given(data=st.binary(max_size=200), offset=st.integers(0, 40))
def test_dissect_random_bytes_never_raises(data: bytes, offset: int) -> None:
    frame = dissect_frame(data)
    assert frame.length == len(data)
    view = dissect_datagram(data, offset)
    assert view.error is None or view.error_offset is not None


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(frame=frames, data=st.data())
def test_dissect_truncated_frame_never_raises_and_says_where(frame: Frame, data: st.DataObject) -> None:
    raw = encode_frame(frame)
    full = dissect_frame(raw)
    assert full.error is None
    assert full.datagram is not None
    # Upper-layer UDP shorter than its header is legal as a value; the dissector still says so.
    assert full.datagram.error in (None, "UDP header truncated"), full
    cut = data.draw(st.integers(0, len(raw) - 1))
    view = dissect_frame(raw[:cut])
    if view.datagram is not None and view.datagram.error is not None:
        assert view.datagram.error_offset is not None
        assert view.datagram.error_offset <= cut


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(frame=frames)
def test_dissect_finds_first_ipsec_header_spi(frame: Frame) -> None:
    view = dissect_frame(encode_frame(frame)).datagram
    assert view is not None
    d = frame.datagram
    if d.ah is not None:
        assert (view.ipsec_kind, view.spi) == ("ah", d.ah.sec_assoc.spi)
        assert view.seq_low == d.ah.seq & 0xFFFFFFFF
        if d.esp is not None:
            assert view.after_ah_protocol == (50 if d.udp is None else 17)
            assert view.esp is not None
            assert view.esp.spi == d.esp.sec_assoc.spi
    elif d.esp is not None:
        assert (view.ipsec_kind, view.spi) == ("esp", d.esp.sec_assoc.spi)
        assert (view.udp is not None) == (d.udp is not None and d.udp.dst_port == 4500)
    else:
        assert view.ipsec_kind is None
    assert view.end == len(encode_datagram(d)) + view.header_offset
    assert view.total_length_ok


@pytest.mark.clause("RX-UDPESP-NON-ESP-UNTOUCHED")
@settings(max_examples=20)
@given(esp=esp_layers(), ike=st.binary(max_size=20))
def test_dissect_classifies_port_4500_traffic(esp: EspLayer, ike: bytes) -> None:
    keepalive = dissect_datagram(encode_datagram(Datagram(ip=V4, payload=nat_keepalive())))
    assert keepalive.udp is not None
    assert keepalive.udp.encap == "keepalive"
    assert keepalive.ipsec_kind is None
    ike_view = dissect_datagram(encode_datagram(Datagram(ip=V4, payload=ike_packet(ike))))
    assert ike_view.udp is not None
    assert ike_view.udp.encap == "ike"
    assert ike_view.ipsec_kind is None
    udp_esp = dissect_datagram(encode_datagram(Datagram(ip=V4, esp=esp, udp=UdpEncapsulation())))
    assert udp_esp.udp is not None
    assert udp_esp.udp.encap == "esp"
    assert (udp_esp.ipsec_kind, udp_esp.ipsec_offset, udp_esp.spi) == ("esp", 28, esp.sec_assoc.spi)
    assert udp_esp.udp.checksum == 0


@pytest.mark.clause("RX-FRAGMENT-NOT-PROCESSED")
@given(flags=st.sampled_from([0, 1, 2, 3]), offset=st.integers(0, 0x1FFF))
def test_dissect_reports_ipv4_fragment(flags: int, offset: int) -> None:
    ip = Ipv4Header(src=V4.src, dst=V4.dst, flags=flags, fragment_offset=offset)
    view = dissect_datagram(encode_datagram(Datagram(ip=ip, payload=Upper(protocol=6, data=b"x"))))
    assert view.is_fragment == bool(flags & 1 or offset)


def _naive_checksum(header: bytes) -> int:
    total = 0
    for i in range(0, len(header), 2):
        total += header[i] << 8 | header[i + 1]
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


@given(ip=ipv4_headers(), data=st.binary(max_size=30))
@settings(max_examples=100)
def test_ipv4_header_checksum_matches_independent_computation(ip: Ipv4Header, data: bytes) -> None:
    raw = encode_datagram(Datagram(ip=ip, payload=Upper(protocol=6, data=data)))
    ihl = (raw[0] & 0xF) * 4
    zeroed = raw[:10] + b"\x00\x00" + raw[12:ihl]
    assert raw[10] << 8 | raw[11] == _naive_checksum(zeroed)
    assert dissect_datagram(raw).header_checksum_ok


@given(data=st.binary(max_size=100))
def test_internet_checksum_matches_naive_sum(data: bytes) -> None:
    padded = data + b"\x00" * (len(data) % 2)
    assert internet_checksum(data) == _naive_checksum(padded)
