"""AH ICV coverage (IETF-AH-MUTABLE-V4/V6, IETF-AH-OPTIONS-V4): flips in immutable bytes fail, mutable ones pass."""

from __future__ import annotations

import ipaddress

import pytest
from _wire_values import ah_layers, ipv4_headers, ipv6_headers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference_model.packets import (
    AhLayer,
    Datagram,
    Ipv4Header,
    Ipv4Option,
    Ipv6Header,
    Ipv6RoutingHeader,
    Upper,
)
from reference_model.wire.ah import ah_length, verify_ah
from reference_model.wire.dissect import dissect_datagram
from reference_model.wire.frame import encode_datagram

FLIPS = settings(max_examples=12, suppress_health_check=[HealthCheck.too_slow])

# Our own table of IPv4 option numbers AH includes (RFC 4302 Appendix A1), independent of wire.ipv4.
INCLUDED_V4_OPTION_NUMBERS = {0, 1, 2, 5, 6, 20, 21}


def _mutable_bits_v4(raw: bytes) -> set[tuple[int, int]]:
    """(byte, bit) positions of the IPv4 header that AH zeroes, plus positions to skip (mutable option type/len)."""
    out = {(1, b) for b in range(8)} | {(6, b) for b in range(8)} | {(7, b) for b in range(8)}
    out |= {(8, b) for b in range(8)} | {(10, b) for b in range(8)} | {(11, b) for b in range(8)}
    ihl = (raw[0] & 0xF) * 4
    pos = 20
    while pos < ihl:
        kind = raw[pos]
        if kind in (0, 1):
            pos += 1
            continue
        length = raw[pos + 1]
        if kind & 0x1F not in INCLUDED_V4_OPTION_NUMBERS:
            out |= {(i, b) for i in range(pos, pos + length) for b in range(8)}
        pos += length
    return out


def _skipped_v4(raw: bytes) -> set[int]:
    """Type and length bytes of zeroed options: changing them re-classifies the option, so no fixed verdict."""
    ihl = (raw[0] & 0xF) * 4
    pos, out = 20, set()
    while pos < ihl:
        kind = raw[pos]
        if kind in (0, 1):
            pos += 1
            continue
        if kind & 0x1F not in INCLUDED_V4_OPTION_NUMBERS:
            out |= {pos, pos + 1}
        pos += raw[pos + 1]
    return out


def _mutable_bits_v6(raw: bytes, datagram: Datagram) -> set[tuple[int, int]]:
    out = {(0, b) for b in range(4)} | {(i, b) for i in (1, 2, 3, 7) for b in range(8)}
    view = dissect_datagram(raw)
    for ext in view.extension_headers:
        for opt in ext.options:
            if opt.option_type & 0x20:
                out |= {(i, b) for i in range(opt.data_offset, opt.data_offset + opt.data_length) for b in range(8)}
    return out


def _check_all_flips(raw: bytes, datagram: Datagram, mutable: set[tuple[int, int]], skip: set[int]) -> None:
    ah = datagram.ah
    assert ah is not None
    sa, seq_hi = ah.sec_assoc, ah.seq >> 32
    view = dissect_datagram(raw)
    assert view.ah is not None
    assert verify_ah(raw, view, sa, seq_hi=seq_hi).ok
    header_end = view.ah.offset + 12
    for index in range(len(raw)):
        if index in skip:
            continue
        bits = range(8) if index < header_end else (index % 8,)
        for bit in bits:
            flipped = bytearray(raw)
            flipped[index] ^= 1 << bit
            result = verify_ah(bytes(flipped), dissect_datagram(bytes(flipped)), sa, seq_hi=seq_hi)
            if (index, bit) in mutable:
                assert result.ok, (index, bit, result)
            else:
                assert not result.ok, (index, bit)


@pytest.mark.clause("IETF-AH-MUTABLE-V4")
@FLIPS
@given(ip=ipv4_headers(routing=False), ah=ah_layers(), data=st.binary(max_size=24))
def test_verify_ah_ipv4_fails_on_immutable_flip_and_passes_on_mutable_flip(
    ip: Ipv4Header, ah: AhLayer, data: bytes
) -> None:
    datagram = Datagram(ip=ip, ah=ah, payload=Upper(protocol=6, data=data))
    raw = encode_datagram(datagram)
    _check_all_flips(raw, datagram, _mutable_bits_v4(raw), _skipped_v4(raw))


@pytest.mark.clause("IETF-AH-MUTABLE-V6")
@FLIPS
@given(ip=ipv6_headers(routing=False, fragment=False), ah=ah_layers(), data=st.binary(max_size=24))
def test_verify_ah_ipv6_fails_on_immutable_flip_and_passes_on_mutable_flip(
    ip: Ipv6Header, ah: AhLayer, data: bytes
) -> None:
    datagram = Datagram(ip=ip, ah=ah, payload=Upper(protocol=17, data=data))
    raw = encode_datagram(datagram)
    _check_all_flips(raw, datagram, _mutable_bits_v6(raw, datagram), set())


@pytest.mark.clause("IETF-AH-MUTABLE-V4")
@settings(max_examples=20)
@given(ah=ah_layers(), route=st.lists(st.integers(1, 2**32 - 1), min_size=1, max_size=3))
def test_verify_ah_lsrr_uses_final_destination(ah: AhLayer, route: list[int]) -> None:
    hops = [ipaddress.IPv4Address(a) for a in route]
    option = Ipv4Option(option_type=131, data=bytes((4,)) + b"".join(h.packed for h in hops))
    ip = Ipv4Header(src=ipaddress.IPv4Address("192.0.2.1"), dst=ipaddress.IPv4Address("192.0.2.2"), options=(option,))
    raw = bytearray(encode_datagram(Datagram(ip=ip, ah=ah, payload=Upper(protocol=6, data=b"p"))))
    view = dissect_datagram(bytes(raw))
    assert view.final_dst == hops[-1]
    # The header destination is mutable (each hop rewrites it); the last route address is the ICV's destination.
    raw[16] ^= 0x40
    assert verify_ah(bytes(raw), dissect_datagram(bytes(raw)), ah.sec_assoc, seq_hi=ah.seq >> 32).ok
    last = 20 + 3 + 4 * (len(hops) - 1)
    raw[last] ^= 0x01
    assert not verify_ah(bytes(raw), dissect_datagram(bytes(raw)), ah.sec_assoc, seq_hi=ah.seq >> 32).ok


@pytest.mark.clause("IETF-AH-MUTABLE-V6")
@settings(max_examples=20)
@given(ah=ah_layers(), route=st.lists(st.integers(1, 2**128 - 1), min_size=1, max_size=3), data=st.data())
def test_verify_ah_routing_header_is_as_at_destination(ah: AhLayer, route: list[int], data: st.DataObject) -> None:
    hops = tuple(ipaddress.IPv6Address(a) for a in route)
    left = data.draw(st.integers(1, len(hops)))
    first = Ipv6Header(
        src=ipaddress.IPv6Address("2001:db8::1"),
        dst=ipaddress.IPv6Address("2001:db8::2"),
        extension_headers=(Ipv6RoutingHeader(segments_left=left, addresses=hops),),
    )
    sent = encode_datagram(Datagram(ip=first, ah=ah, payload=Upper(protocol=6, data=b"p")))
    # Simulate the remaining hops of RFC 8200 type 0 processing on the bytes; the ICV must still verify.
    raw = bytearray(sent)
    n = len(hops)
    while raw[40 + 3]:
        raw[40 + 3] -= 1
        i = n - raw[40 + 3]
        at = 40 + 8 + 16 * (i - 1)
        raw[24:40], raw[at : at + 16] = raw[at : at + 16], raw[24:40]
        raw[7] = (raw[7] - 1) % 256
    arrived = bytes(raw)
    assert dissect_datagram(arrived).dst == hops[-1]
    assert verify_ah(arrived, dissect_datagram(arrived), ah.sec_assoc, seq_hi=ah.seq >> 32).ok
    assert verify_ah(sent, dissect_datagram(sent), ah.sec_assoc, seq_hi=ah.seq >> 32).ok


@pytest.mark.clause("IETF-AH-PAYLEN")
@given(ah=ah_layers(), ipv6=st.booleans())
@settings(max_examples=30)
def test_ah_length_is_aligned_and_matches_payload_len(ah: AhLayer, ipv6: bool) -> None:
    total = ah_length(ah.sec_assoc, ipv6=ipv6)
    assert total % (8 if ipv6 else 4) == 0
    ip: Ipv4Header | Ipv6Header = (
        Ipv6Header(src=ipaddress.IPv6Address("::1"), dst=ipaddress.IPv6Address("::2"))
        if ipv6
        else Ipv4Header(src=ipaddress.IPv4Address("10.0.0.1"), dst=ipaddress.IPv4Address("10.0.0.2"))
    )
    raw = encode_datagram(Datagram(ip=ip, ah=ah, payload=Upper(protocol=6)))
    view = dissect_datagram(raw)
    assert view.ah is not None
    assert view.ah.total_length == total == (view.ah.payload_len + 2) * 4


@pytest.mark.clause("IETF-AH-PAYLEN")
def test_ah_lengths_match_rfc_examples() -> None:
    from reference_model.constants import AuthenticationAlgorithm, Operation
    from reference_model.ndis import AuthenticationSpec, SecAssoc

    def sa(alg: AuthenticationAlgorithm, key: int) -> SecAssoc:
        return SecAssoc(
            operation=Operation.AH, spi=300, authentication=AuthenticationSpec(algorithm=alg, key=bytes(key))
        )

    sha1, sha256 = sa(AuthenticationAlgorithm.SHA_1, 20), sa(AuthenticationAlgorithm.SHA_256, 32)
    assert (ah_length(sha1, ipv6=False), ah_length(sha1, ipv6=True)) == (24, 24)
    assert (ah_length(sha256, ipv6=False), ah_length(sha256, ipv6=True)) == (28, 32)
    gmac = sa(AuthenticationAlgorithm.AES_GCM_128, 16)
    assert (ah_length(gmac, ipv6=False), ah_length(gmac, ipv6=True)) == (36, 40)  # RFC 4543 erratum 3643


@pytest.mark.clause("IETF-AH-FORMAT")
@given(ah=ah_layers(), data=st.binary(max_size=60))
@settings(max_examples=50)
def test_verify_ah_on_random_tail_never_raises(ah: AhLayer, data: bytes) -> None:
    ip = Ipv4Header(src=ipaddress.IPv4Address("10.0.0.1"), dst=ipaddress.IPv4Address("10.0.0.2"))
    raw = encode_datagram(Datagram(ip=ip, ah=ah, payload=Upper(protocol=6, data=b"abc")))
    for cut in range(20, len(raw)):
        junk = raw[:cut] + data
        result = verify_ah(junk, dissect_datagram(junk), ah.sec_assoc, seq_hi=0)
        assert not result.ok or junk == raw
