"""encode_frame / decode_frame: identity on every frame shape, padding to 60 bytes, and hostile bytes never raise."""

from __future__ import annotations

import ipaddress

import pytest
from _wire_values import datagrams, frames, lookup_for, unique_spis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference_model.constants import ETHERNET_MIN_FRAME, Operation
from reference_model.ndis import IPAddress, SecAssoc
from reference_model.packets import Datagram, Frame, Ipv4Header, Upper
from reference_model.wire.frame import decode_frame, encode_datagram, encode_frame

SLOW = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much], max_examples=150)


def _no_sa(spi: int, dst: IPAddress, operation: Operation) -> SecAssoc | None:
    return None


@SLOW
@given(frame=frames)
def test_decode_inverts_encode_on_every_shape(frame: Frame) -> None:
    raw = encode_frame(frame)
    decoded = decode_frame(raw, lookup=lookup_for(frame.datagram))
    assert decoded.error is None, decoded
    assert decoded.frame == frame


TUNNELS = datagrams(depth=1, protected=True).filter(lambda d: d.tunnel and unique_spis(d))


@pytest.mark.clause("IETF-TUNNEL-NH")
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much], max_examples=40)
@given(frame=st.builds(Frame, datagram=TUNNELS))
def test_decode_inverts_encode_on_tunnel_shapes(frame: Frame) -> None:
    decoded = decode_frame(encode_frame(frame), lookup=lookup_for(frame.datagram))
    assert decoded.frame == frame, decoded.error


@given(frame=frames)
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much], max_examples=40)
def test_encoded_frame_has_minimum_length_and_datagram_inside(frame: Frame) -> None:
    raw = encode_frame(frame)
    datagram = encode_datagram(frame.datagram)
    header = 18 if frame.ethernet.vlan is not None else 14
    assert len(raw) == max(ETHERNET_MIN_FRAME, header + len(datagram))
    assert raw[header : header + len(datagram)] == datagram
    assert not any(raw[header + len(datagram) :])


def test_short_frame_is_padded_with_zeros_to_60_bytes() -> None:
    frame = Frame(
        datagram=Datagram(
            ip=Ipv4Header(src=ipaddress.IPv4Address("192.0.2.1"), dst=ipaddress.IPv4Address("192.0.2.2")),
            payload=Upper(protocol=6, data=b"x"),
        )
    )
    raw = encode_frame(frame)
    assert len(raw) == 60
    assert raw[14 + 21 :] == bytes(60 - 35)
    assert decode_frame(raw, lookup=_no_sa).frame == frame


@settings(max_examples=300)
@given(data=st.binary(max_size=200))
def test_decode_random_bytes_never_raises(data: bytes) -> None:
    decoded = decode_frame(data, lookup=_no_sa)
    assert (decoded.frame is None) != (decoded.error is None)
    assert decoded.error is None or not decoded.error.startswith("internal")


@SLOW
@given(frame=frames, data=st.data())
def test_decode_truncated_or_flipped_frame_never_raises(frame: Frame, data: st.DataObject) -> None:
    raw = bytearray(encode_frame(frame))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    else:
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] ^= 1 << data.draw(st.integers(0, 7))
    decoded = decode_frame(bytes(raw), lookup=lookup_for(frame.datagram))
    assert decoded.error is None or not decoded.error.startswith("internal"), decoded.error
    if decoded.frame is not None:
        # Whatever decoded must be a value that encodes back to the same bytes (the trailing padding aside).
        again = encode_frame(decoded.frame)
        assert bytes(raw).startswith(again) or again.startswith(bytes(raw))
