"""Receive-path expectations of the NIC model: one test per RX-* clause of spec section 3.2 (and per RX-CAPS-* row),
each building a frame and a model state where that clause decides the outcome."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from _nic_frames import (
    DST4,
    DST6,
    INNER_DST4,
    INNER_SRC4,
    OTHER4,
    SRC4,
    SRC6,
    V4,
    ah_sha256,
    assert_processed_ok,
    assert_reference_consistent,
    assert_unprocessed,
    cbc_sha,
    datagram,
    entry,
    flip,
    frame,
    gcm,
    model_with,
    ref_frame,
    status_allowed,
    the,
)

from reference_model.constants import (
    CryptoStatus,
    Encapsulation,
    IpProtocol,
    IpsecV2Setting,
    NdisStatus,
    UdpEspEncapsulation,
)
from reference_model.expectation import Level, ObservedField
from reference_model.ndis import Capabilities, Indication, IPAddress, ReceiveInfo, SecAssoc
from reference_model.nic import NicModel
from reference_model.packets import Ipv4Option, Ipv6OptionsHeader, Upper
from reference_model.wire.dissect import dissect_frame

ESP = gcm(0x1001)
AH = ah_sha256(0x2001)
F = ObservedField
S = CryptoStatus


def esp_model(**caps: Any) -> tuple[NicModel, bytes]:
    model = model_with(entry(1, ESP), caps=Capabilities(**caps))
    return model, frame(datagram(esp=ESP))


# ---------------------------------------------------------------------------------------------------------------
# Indication and flags


@pytest.mark.clause("RX-INDICATE-ALL")
def test_every_frame_indicated_once_including_failures_and_non_ipsec() -> None:
    model = model_with(entry(1, ESP))
    good = frame(datagram(esp=ESP))
    plain = frame(datagram(payload=Upper(protocol=IpProtocol.UDP, data=b"x" * 20)))
    for data in (good, flip(good, 1), plain, b"\x00" * 20):
        exp = model.receive(data)
        count = the(exp.primary, F.INDICATION_COUNT)
        assert (count.allowed, count.level) == (frozenset({1}), Level.MUST)
        assert_reference_consistent(exp)


@pytest.mark.clause("RX-PROCESS-ALL-MATCHING")
def test_matching_frame_within_caps_processed_and_decrypted_in_place() -> None:
    model, data = esp_model()
    exp = model.receive(data)
    assert_processed_ok(exp)
    assert exp.matched_sa_ids == (1,)
    after = next(iter(the(exp.primary, F.FRAME).allowed))
    assert isinstance(after, bytes)
    assert len(after) == len(data)
    assert after != data
    assert b"payload-bytes-0123" in after
    assert b"payload-bytes-0123" not in data


@pytest.mark.clause("RX-CRYPTODONE-SET")
def test_failed_icv_still_crypto_done() -> None:
    model, data = esp_model()
    exp = model.receive(flip(data, 1))
    assert exp.processed
    assert the(exp.primary, F.CRYPTO_DONE, "RX-CRYPTODONE-SET").allowed == frozenset({1})
    assert not [c for c in exp.primary.constraints if c.field is F.FRAME]  # AMB-09: failed frame bytes unchecked


@pytest.mark.clause("RX-FAIL-INDICATE-WITH-STATUS")
def test_failed_icv_requires_failure_status() -> None:
    model, data = esp_model()
    exp = model.receive(flip(data, 1))
    c = the(exp.primary, F.CRYPTO_STATUS, "RX-FAIL-INDICATE-WITH-STATUS")
    assert 0 not in c.allowed
    assert c.level is Level.V1_INHERITED
    assert exp.primary.violations([Indication(frame=data, info=ReceiveInfo(crypto_done=True).pack())])


@pytest.mark.clause("RX-FLAGS-CLEAR-NOT-DECRYPTED")
def test_unprocessed_frame_has_both_flags_clear() -> None:
    model = model_with(entry(1, ESP))
    model.apply_set_offload(IpsecV2Setting.DISABLED, NdisStatus.SUCCESS)
    exp = model.receive(frame(datagram(esp=ESP)))
    c = the(exp.primary, F.NEXT_CRYPTO_DONE, "RX-FLAGS-CLEAR-NOT-DECRYPTED")
    assert c.allowed == frozenset({0})
    assert c.level is Level.MUST


@pytest.mark.clause("RX-CRYPTOSTATUS-SUCCESS-NOT-DECRYPTED")
def test_unprocessed_matched_frame_status_zero_v1_inherited() -> None:
    model, data = esp_model(ipv4_options=False)
    data = frame(datagram(esp=ESP, options=(Ipv4Option(option_type=148, data=b"\x00\x00"),)))
    exp = model.receive(data)
    c = the(exp.primary, F.CRYPTO_STATUS)
    assert (c.clause, c.allowed, c.level) == (
        "RX-CRYPTOSTATUS-SUCCESS-NOT-DECRYPTED",
        frozenset({0}),
        Level.V1_INHERITED,
    )


@pytest.mark.clause("RX-RESERVED-ZERO")
def test_reserved_bits_zero_and_high_bits_zero() -> None:
    model, data = esp_model()
    exp = model.receive(data)
    assert the(exp.primary, F.RESERVED).allowed == frozenset({0})
    high = the(exp.primary, F.HIGH_BITS)
    assert (high.reading, high.level) == ("AMB-24", Level.INTERPRETATION)
    assert exp.primary.violations([Indication(frame=data, info=ReceiveInfo(crypto_done=True, reserved=1).pack())])


@pytest.mark.clause("RX-NEXTCRYPTODONE-BOTH-ONLY")
def test_ah_esp_bundle_in_one_portion_gives_next_crypto_done_zero() -> None:
    model = model_with(entry(1, ESP, AH))
    exp = model.receive(frame(datagram(esp=ESP, ah=AH)))
    assert_processed_ok(exp, both=False)
    assert "ah+esp" in exp.shape


def tunnel_frame(outer: SecAssoc, inner: SecAssoc, *, inner_dst: IPAddress = INNER_DST4) -> bytes:
    inner_dg = datagram(esp=inner, src=INNER_SRC4, dst=inner_dst)
    return frame(datagram(esp=outer, payload=inner_dg))


OUTER = gcm(0x3001)
INNER = cbc_sha(0x4001)


def tunnel_model(**caps: Any) -> NicModel:
    return model_with(entry(1, OUTER), entry(2, INNER, dst=INNER_DST4, src=INNER_SRC4), caps=Capabilities(**caps))


@pytest.mark.clause("RX-NEXTCRYPTODONE-IMPLIES-CRYPTODONE")
def test_tunnel_and_transport_both_checked() -> None:
    model = tunnel_model()
    exp = model.receive(tunnel_frame(OUTER, INNER))
    assert_processed_ok(exp, both=True)
    assert the(exp.primary, F.CRYPTO_DONE, "RX-NEXTCRYPTODONE-IMPLIES-CRYPTODONE").allowed == frozenset({1})
    assert exp.matched_sa_ids == (1, 2)
    assert {"tunnel", "tunnel+transport"} <= set(exp.shape)
    bad = Indication(frame=ref_frame(exp), info=ReceiveInfo(next_crypto_done=True).pack())
    assert any(c.clause == "RX-NEXTCRYPTODONE-IMPLIES-CRYPTODONE" for c in exp.primary.violations([bad]))


# ---------------------------------------------------------------------------------------------------------------
# CryptoStatus mapping


@pytest.mark.clause("RX-CRYPTOSTATUS-RESULT")
def test_transport_esp_icv_failure_code_and_family() -> None:
    model, data = esp_model()
    exp = model.receive(flip(data, 1))
    assert status_allowed(exp) == {S.TRANSPORT_ESP_AUTH_FAILED, S.TUNNEL_ESP_AUTH_FAILED}
    family = the(exp.primary, F.CRYPTO_STATUS, "AMB-07")
    assert (family.allowed, family.level) == (frozenset({S.TRANSPORT_ESP_AUTH_FAILED}), Level.INTERPRETATION)
    assert exp.reference is not None
    assert exp.reference.receive_info.crypto_status == S.TRANSPORT_ESP_AUTH_FAILED


@pytest.mark.clause("RX-CRYPTOSTATUS-RESULT")
def test_transport_ah_icv_failure_code() -> None:
    model = model_with(entry(1, AH))
    exp = model.receive(flip(frame(datagram(ah=AH)), 1))
    assert the(exp.primary, F.CRYPTO_STATUS, "AMB-07").allowed == frozenset({S.TRANSPORT_AH_AUTH_FAILED})


@pytest.mark.clause("AMB-07")
def test_tunnel_esp_icv_failure_family_read_from_trailer() -> None:
    model = model_with(entry(1, OUTER))
    inner = datagram(src=INNER_SRC4, dst=INNER_DST4)
    exp = model.receive(flip(frame(datagram(esp=OUTER, payload=inner)), 1))
    assert the(exp.primary, F.CRYPTO_STATUS, "AMB-07").allowed == frozenset({S.TUNNEL_ESP_AUTH_FAILED})


@pytest.mark.clause("RX-CRYPTOSTATUS-RESULT")
def test_inner_failure_of_two_portion_frame_is_transport_code_must() -> None:
    data = tunnel_frame(OUTER, INNER)
    assert tunnel_model().receive(data).processed
    # The NIC holds another key for the inner SA: the inner ICV fails while the outer portion verifies.
    assert INNER.authentication is not None
    other_key = dataclasses.replace(INNER, authentication=dataclasses.replace(INNER.authentication, key=bytes(20)))
    broken = model_with(entry(1, OUTER), entry(2, other_key, dst=INNER_DST4, src=INNER_SRC4))
    exp = broken.receive(data)
    assert_reference_consistent(exp)
    assert status_allowed(exp) == frozenset({S.TRANSPORT_ESP_AUTH_FAILED})
    assert the(exp.primary, F.NEXT_CRYPTO_DONE).allowed == frozenset({1})


@pytest.mark.clause("RX-CRYPTOSTATUS-RESULT")
def test_pad_length_beyond_payload_is_invalid_packet_syntax() -> None:
    model = model_with(entry(1, ESP))
    exp = model.receive(frame(datagram(esp=ESP, esp_kw={"pad_length_field": 200})))
    assert status_allowed(exp) == frozenset({S.INVALID_PACKET_SYNTAX})
    assert the(exp.primary, F.CRYPTO_STATUS, "RX-CRYPTOSTATUS-RESULT").level is Level.MUST


@pytest.mark.clause("RX-CRYPTOSTATUS-RESULT")
def test_truncated_datagram_matching_sa_is_invalid_packet_syntax() -> None:
    model, data = esp_model()
    cut = bytearray(data)
    cut[16:18] = (len(data) - 14 + 40).to_bytes(2, "big")  # IPv4 total length beyond the frame
    exp = model.receive(bytes(cut))
    assert status_allowed(exp) == frozenset({S.INVALID_PACKET_SYNTAX})


@pytest.mark.clause("RX-CRYPTOSTATUS-RESULT")
def test_bundle_ah_esp_packet_esp_only_is_invalid_protocol() -> None:
    model = model_with(entry(1, ESP, AH))
    exp = model.receive(frame(datagram(esp=ESP)))
    assert status_allowed(exp) == frozenset({S.INVALID_PROTOCOL})


@pytest.mark.clause("RX-CRYPTOSTATUS-RESULT")
def test_ah_sa_esp_packet_same_spi_is_invalid_protocol() -> None:
    ah_same_spi = ah_sha256(0x1001)
    model = model_with(entry(1, ah_same_spi))
    exp = model.receive(frame(datagram(esp=ESP)))
    assert status_allowed(exp) == frozenset({S.INVALID_PROTOCOL})


@pytest.mark.clause("AMB-06")
def test_several_failures_allow_any_failing_code() -> None:
    model = model_with(entry(1, ESP, AH))
    exp = model.receive(flip(frame(datagram(esp=ESP, ah=AH)), 1))  # ESP ICV byte: AH covers it too
    allowed = status_allowed(exp)
    assert {S.TRANSPORT_AH_AUTH_FAILED, S.TRANSPORT_ESP_AUTH_FAILED} <= allowed
    assert S.SUCCESS not in allowed
    assert S.INVALID_PROTOCOL not in allowed


@pytest.mark.clause("AMB-08")
def test_bad_pad_content_generic_or_syntax_and_success_alternative() -> None:
    model = model_with(entry(1, ESP))
    data = frame(datagram(esp=ESP, esp_kw={"extra_padding": 4, "pad_content": b"\x09" * 4}))
    exp = model.receive(data)
    c = the(exp.primary, F.CRYPTO_STATUS, "RX-CRYPTOSTATUS-RESULT")
    assert (c.allowed, c.level, c.reading) == (
        frozenset({S.GENERIC_ERROR, S.INVALID_PACKET_SYNTAX}),
        Level.INTERPRETATION,
        "AMB-08",
    )
    assert len(exp.outcomes) == 2
    assert exp.outcomes[1].reading == "AMB-08"
    assert status_allowed(exp, 1) == frozenset({0})
    strict = model_with(entry(1, ESP), profile=dataclasses.replace(model.profile, require_pad_check=True))
    assert len(strict.receive(data).outcomes) == 1


@pytest.mark.clause("RX-CRYPTOSTATUS-RESULT")
def test_dummy_packet_next_header_59_is_processed_success() -> None:
    model = model_with(entry(1, ESP))
    exp = model.receive(frame(datagram(esp=ESP, payload=Upper(protocol=IpProtocol.IPV6_NONXT))))
    assert_processed_ok(exp)


# ---------------------------------------------------------------------------------------------------------------
# Step 1 and 2: configuration and SA matching


@pytest.mark.clause("RX-HW-CONFIGURED")
def test_offload_disabled_not_processed_sadeletereq_allowed() -> None:
    model = model_with(entry(1, ESP))
    model.apply_set_offload(IpsecV2Setting.DISABLED, NdisStatus.SUCCESS)
    data = frame(datagram(esp=ESP))
    exp = model.receive(data)
    assert_unprocessed(exp, data, "RX-HW-CONFIGURED")
    assert the(exp.primary, F.SA_DELETE_REQ).allowed == frozenset({0, 1})
    model.apply_set_offload(IpsecV2Setting.AH_AND_ESP, NdisStatus.SUCCESS)
    assert model.receive(data).processed  # AMB-22: disabling does not delete SAs


@pytest.mark.clause("AMB-22")
def test_protocol_disabled_by_setting_only_that_protocol_skipped() -> None:
    model = model_with(entry(1, ESP), entry(2, AH))
    model.apply_set_offload(IpsecV2Setting.AH, NdisStatus.SUCCESS)
    esp_frame = frame(datagram(esp=ESP))
    assert_unprocessed(model.receive(esp_frame), esp_frame, "RX-HW-CONFIGURED")
    assert model.receive(frame(datagram(ah=AH))).processed


@pytest.mark.clause("RX-SA-MATCH-SPI-DST")
def test_spi_match_destination_mismatch_not_processed() -> None:
    model = model_with(entry(1, ESP))
    data = frame(datagram(esp=ESP, dst=OTHER4))
    exp = model.receive(data)
    assert_unprocessed(exp, data, "RX-SA-MATCH-SPI-DST")
    assert the(exp.primary, F.SA_DELETE_REQ).allowed == frozenset({0})


@pytest.mark.clause("AMB-03")
def test_zero_destination_is_wildcard() -> None:
    model = model_with(entry(1, ESP, dst=V4(0)))
    assert model.receive(frame(datagram(esp=ESP, dst=OTHER4))).processed


@pytest.mark.clause("RX-NO-SA-NO-OOB")
def test_unknown_spi_whole_info_zero() -> None:
    model = model_with(entry(1, ESP))
    data = frame(datagram(esp=gcm(0x7777)))
    exp = model.receive(data)
    assert_unprocessed(exp, data, "RX-NO-SA-NO-OOB")
    for field in (F.CRYPTO_STATUS, F.SA_DELETE_REQ):
        c = the(exp.primary, field)
        assert (c.clause, c.allowed, c.level) == ("RX-NO-SA-NO-OOB", frozenset({0}), Level.MUST)
    assert "no-sa" in exp.shape
    assert exp.matched_sa_ids == ()


@pytest.mark.clause("RX-SA-INBOUND-ONLY")
def test_outbound_sa_not_used_for_receive() -> None:
    model = model_with(entry(1, ESP, inbound=False))
    data = frame(datagram(esp=ESP))
    assert_unprocessed(model.receive(data), data, "RX-SA-INBOUND-ONLY")


@pytest.mark.clause("RX-SA-AF-MATCH")
def test_ipv4_sa_does_not_match_ipv6_packet() -> None:
    model = model_with(entry(1, ESP))
    data = frame(datagram(esp=ESP, src=SRC6, dst=DST6))
    assert_unprocessed(model.receive(data), data, "RX-SA-AF-MATCH")


@pytest.mark.clause("SA-AFTER-DELETE-NO-MATCH")
def test_deleted_sa_no_longer_matches() -> None:
    model = model_with(entry(1, ESP))
    data = frame(datagram(esp=ESP))
    assert model.receive(data).processed
    model.apply_delete_sa(1, NdisStatus.SUCCESS)
    assert_unprocessed(model.receive(data), data, "SA-AFTER-DELETE-NO-MATCH")


@pytest.mark.clause("SA-NO-SELF-DELETE")
def test_sa_stays_until_deleted_whatever_frames_arrive() -> None:
    model = model_with(entry(1, ESP))
    data = frame(datagram(esp=ESP))
    for corrupt in (flip(data, 1), data, b"junk"):
        model.receive(corrupt)
    assert model.receive(data).processed
    assert not model.sa_table()[0].deleted


@pytest.mark.clause("RX-TRANSPORT-DOES-REPLAY")
def test_replayed_frame_processed_like_first_copy() -> None:
    model, data = esp_model()
    first, second = model.receive(data), model.receive(data)
    assert first == second
    assert_processed_ok(second)
    assert any("RX-TRANSPORT-DOES-REPLAY" in step for step in second.trace)


# ---------------------------------------------------------------------------------------------------------------
# Step 3: capabilities (RX-CAPS-* rows)


@pytest.mark.clause("RX-CAPS-IPV4-OPTIONS")
def test_ipv4_options_without_capability_not_processed() -> None:
    options = (Ipv4Option(option_type=148, data=b"\x00\x00"),)  # router alert
    data = frame(datagram(esp=ESP, options=options))
    model, _ = esp_model(ipv4_options=False)
    exp = model.receive(data)
    assert_unprocessed(exp, data, "RX-CAPS-IPV4-OPTIONS")
    assert the(exp.primary, F.CRYPTO_DONE, "RX-CAPS-IPV4-OPTIONS").level is Level.MUST
    assert "ipv4-options" in exp.shape
    assert esp_model()[0].receive(data).processed


@pytest.mark.clause("RX-CAPS-IPV6")
def test_ipv6_without_capability_not_processed() -> None:
    model = model_with(entry(1, ESP, src=SRC6, dst=DST6), caps=Capabilities(ipv6_supported=False))
    data = frame(datagram(esp=ESP, src=SRC6, dst=DST6))
    exp = model.receive(data)
    assert_unprocessed(exp, data, "RX-CAPS-IPV6")
    assert the(exp.primary, F.CRYPTO_DONE, "RX-CAPS-IPV6").level is Level.DERIVED


@pytest.mark.clause("RX-CAPS-IPV6-EXTHDR")
def test_ipv6_extension_headers_without_capability_not_processed() -> None:
    caps = Capabilities(ipv6_non_ipsec_extension_headers=False)
    model = model_with(entry(1, ESP, src=SRC6, dst=DST6), caps=caps)
    data = frame(datagram(esp=ESP, src=SRC6, dst=DST6, ext=(Ipv6OptionsHeader(kind=60),)))
    assert_unprocessed(model.receive(data), data, "RX-CAPS-IPV6-EXTHDR")


@pytest.mark.clause("RX-CAPS-AH")
def test_ah_without_capability_not_processed() -> None:
    caps = Capabilities(ah=False, ah_esp_combined=False)
    model = model_with(entry(1, AH), caps=caps)
    data = frame(datagram(ah=AH))
    assert_unprocessed(model.receive(data), data, "RX-CAPS-AH")


@pytest.mark.clause("RX-CAPS-ESP")
def test_esp_without_capability_not_processed() -> None:
    caps = Capabilities(esp=False, ah_esp_combined=False, udp_esp=UdpEspEncapsulation.NONE)
    model = model_with(entry(1, ESP), caps=caps)
    data = frame(datagram(esp=ESP))
    assert_unprocessed(model.receive(data), data, "RX-CAPS-ESP")


@pytest.mark.clause("RX-CAPS-AHESP")
def test_ah_esp_without_combined_capability_not_processed() -> None:
    model = model_with(entry(1, ESP, AH), caps=Capabilities(ah_esp_combined=False))
    data = frame(datagram(esp=ESP, ah=AH))
    assert_unprocessed(model.receive(data), data, "RX-CAPS-AHESP")


@pytest.mark.clause("RX-CAPS-TRANSPORT")
def test_transport_mode_without_capability_not_processed() -> None:
    model, data = esp_model(transport=False, transport_tunnel_combined=False)
    exp = model.receive(data)
    assert_unprocessed(exp, data, "RX-CAPS-TRANSPORT")
    assert the(exp.primary, F.SA_DELETE_REQ).allowed == frozenset({0, 1})  # RX-SADELETEREQ-INDEPENDENT


@pytest.mark.clause("RX-CAPS-TUNNEL")
def test_tunnel_mode_without_capability_not_processed() -> None:
    model = model_with(entry(1, OUTER), caps=Capabilities(tunnel=False, transport_tunnel_combined=False))
    data = frame(datagram(esp=OUTER, payload=datagram(src=INNER_SRC4, dst=INNER_DST4)))
    assert_unprocessed(model.receive(data), data, "RX-CAPS-TUNNEL")


@pytest.mark.clause("RX-CAPS-TPT-TUN")
def test_without_combined_capability_only_tunnel_portion_processed() -> None:
    data = tunnel_frame(OUTER, INNER)
    full = tunnel_model().receive(data)
    exp = tunnel_model(transport_tunnel_combined=False).receive(data)
    assert_processed_ok(exp, both=False)
    frame_c = the(exp.primary, F.FRAME)
    assert frame_c.clause == "RX-CAPS-TPT-TUN"
    partial = next(iter(frame_c.allowed))
    assert partial not in (data, ref_frame(full))  # outer decrypted, inner still ciphertext
    assert exp.matched_sa_ids == (1,)


@pytest.mark.clause("AMB-05")
def test_only_inner_sa_offloaded_nothing_processed() -> None:
    model = model_with(entry(2, INNER, dst=INNER_DST4, src=INNER_SRC4))
    data = tunnel_frame(OUTER, INNER)
    assert_unprocessed(model.receive(data), data, "RX-NO-SA-NO-OOB")


@pytest.mark.clause("AMB-04")
def test_inner_sa_compared_with_inner_destination() -> None:
    model = model_with(entry(1, OUTER), entry(2, INNER, dst=OTHER4))
    exp = model.receive(tunnel_frame(OUTER, INNER))
    assert_processed_ok(exp, both=False)
    assert the(exp.primary, F.FRAME).clause == "RX-SA-MATCH-SPI-DST"


@pytest.mark.clause("RX-CAPS-UDPESP")
def test_udp_esp_subtype_not_reported_not_processed() -> None:
    caps = Capabilities(udp_esp=UdpEspEncapsulation.TUNNEL)
    model = model_with(entry(1, ESP), caps=caps)
    data = frame(datagram(esp=ESP, udp=True))
    exp = model.receive(data)
    assert_unprocessed(exp, data, "RX-CAPS-UDPESP")
    assert "udp-esp" in exp.shape
    ok = model_with(entry(1, ESP), caps=Capabilities(udp_esp=UdpEspEncapsulation.TRANSPORT))
    assert ok.receive(data).processed


@pytest.mark.clause("RX-CAPS-ALGO")
def test_sa_with_unreported_algorithm_accepted_anyway_is_inactive() -> None:
    from reference_model.constants import EncryptionAlgorithm

    caps = Capabilities(encryption_algorithms=EncryptionAlgorithm.AES_CBC_128 | EncryptionAlgorithm.NONE)
    model = model_with(entry(1, ESP), caps=caps)  # the IUT said SUCCESS to a GCM SA it does not support
    data = frame(datagram(esp=ESP))
    exp = model.receive(data)
    assert_unprocessed(exp, data, "RX-CAPS-ALGO")
    assert the(exp.primary, F.SA_DELETE_REQ).allowed == frozenset({0})


@pytest.mark.clause("RX-CAPS-ESN")
def test_esn_sa_without_capability_inactive() -> None:
    esn = gcm(0x1001, esn=True)
    model = model_with(entry(1, esn), caps=Capabilities(extended_sequence_numbers=False))
    data = frame(datagram(esp=esn))
    assert_unprocessed(model.receive(data), data, "RX-CAPS-ESN")


@pytest.mark.clause("RX-CAPS-ENCAP")
def test_vlan_tag_needs_p_and_q_encapsulation() -> None:
    data = frame(datagram(esp=ESP), vlan=5)
    model = model_with(entry(1, ESP))
    exp = model.receive(data)
    assert_unprocessed(exp, data, "RX-CAPS-ENCAP")
    assert "vlan" in exp.shape
    caps = Capabilities(encapsulation=Encapsulation.IEEE_802_3 | Encapsulation.IEEE_802_3_P_AND_Q)
    assert model_with(entry(1, ESP), caps=caps).receive(data).processed


@pytest.mark.clause("RX-FRAGMENT-NOT-PROCESSED")
def test_fragment_not_processed() -> None:
    model = model_with(entry(1, ESP))
    data = frame(datagram(esp=ESP, flags=0x1))  # MF
    exp = model.receive(data)
    assert_unprocessed(exp, data, "RX-FRAGMENT-NOT-PROCESSED")
    assert "fragment" in exp.shape


@pytest.mark.clause("RX-UDPESP-NON-ESP-UNTOUCHED")
@pytest.mark.parametrize("payload", [b"\x00\x00\x00\x00ike-message-bytes", b"\xff"], ids=["ike", "keepalive"])
def test_ike_and_keepalive_on_4500_untouched(payload: bytes) -> None:
    model = model_with(entry(1, ESP))
    # A UDP datagram to port 4500 carrying the payload (UDP header written by hand: src/dst 4500, checksum 0).
    udp = (4500).to_bytes(2, "big") * 2 + (8 + len(payload)).to_bytes(2, "big") + b"\x00\x00" + payload
    data = frame(datagram(payload=Upper(protocol=IpProtocol.UDP, data=udp)))
    view = dissect_frame(data).datagram
    assert view is not None
    assert view.udp is not None
    assert view.udp.encap in ("ike", "keepalive")
    exp = model.receive(data)
    assert_unprocessed(exp, data, "RX-UDPESP-NON-ESP-UNTOUCHED")
    assert the(exp.primary, F.SA_DELETE_REQ).allowed == frozenset({0})


# ---------------------------------------------------------------------------------------------------------------
# SaDeleteReq, header info


@pytest.mark.clause("RX-SADELETEREQ")
def test_sadeletereq_allowed_on_processed_frame() -> None:
    model, data = esp_model()
    c = the(model.receive(data).primary, F.SA_DELETE_REQ)
    assert (c.clause, c.allowed) == ("RX-SADELETEREQ", frozenset({0, 1}))


@pytest.mark.clause("RX-SADELETEREQ-INDEPENDENT")
def test_sadeletereq_allowed_with_crypto_done_zero_when_sa_matched() -> None:
    model = model_with(entry(1, ESP), caps=Capabilities(ipv4_options=False))
    exp = model.receive(frame(datagram(esp=ESP, options=(Ipv4Option(option_type=148, data=b"\x00\x00"),))))
    c = the(exp.primary, F.SA_DELETE_REQ)
    assert (c.clause, c.allowed) == ("RX-SADELETEREQ-INDEPENDENT", frozenset({0, 1}))
    info = ReceiveInfo(sa_delete_req=True).pack()
    assert exp.primary.violations([Indication(frame=ref_frame(exp), info=info)]) == []


@pytest.mark.clause("RX-HDRINFO-VALID-FLAG")
def test_header_info_optional_and_equal_to_trailer() -> None:
    model, data = esp_model()
    exp = model.receive(data)
    c = the(exp.primary, F.HEADER_INFO)
    assert c.allowed == frozenset({None, (IpProtocol.UDP, 0)})
    ah_exp = model_with(entry(1, AH)).receive(frame(datagram(ah=AH)))
    assert the(ah_exp.primary, F.HEADER_INFO).allowed == frozenset({None})


# ---------------------------------------------------------------------------------------------------------------
# ESN (SA-UPDATE-ESN, AMB-16)


@pytest.mark.clause("SA-UPDATE-ESN")
def test_esn_frame_verifies_only_after_update() -> None:
    esn = cbc_sha(0x1001, esn=True, seq_hi=0)
    model = model_with(entry(1, esn))
    data = frame(datagram(esp=esn, seq=(1 << 32) + 5))  # built with Seqh = 1
    before = model.receive(data)
    assert status_allowed(before) == {S.TRANSPORT_ESP_AUTH_FAILED, S.TUNNEL_ESP_AUTH_FAILED}
    assert len(before.outcomes) == 2
    assert before.outcomes[1].reading == "AMB-16"
    assert status_allowed(before, 1) == frozenset({0})
    assert "esn" in before.shape
    from reference_model.constants import Operation
    from reference_model.ndis import UpdateSa

    update = UpdateSa(sa_id=1, operation=Operation.ESP, spi=0x1001, seq_hi=1)
    assert model.expect_update_sa(update).allowed == frozenset({NdisStatus.SUCCESS})
    model.apply_update_sa(update, NdisStatus.SUCCESS)
    after = model.receive(data)
    assert_processed_ok(after)
    assert len(after.outcomes) == 1


@pytest.mark.clause("AMB-16")
def test_esn_allow_inferred_profile_lists_alternative_without_reading() -> None:
    from reference_model.profile import load_profile

    esn = gcm(0x1001, esn=True, seq_hi=7)
    model = model_with(entry(1, esn), profile=load_profile('esn_wrap = "allow-inferred"\n'))
    exp = model.receive(frame(datagram(esp=esn, seq=(8 << 32) + 1)))
    assert len(exp.outcomes) == 2
    assert exp.outcomes[1].reading is None


@pytest.mark.clause("RX-NO-SA-NO-OOB")
def test_non_ipsec_frame_not_processed() -> None:
    model = model_with(entry(1, ESP))
    data = frame(datagram(payload=Upper(protocol=IpProtocol.TCP, data=b"x" * 20)))
    exp = model.receive(data)
    assert_unprocessed(exp, data, "RX-NO-SA-NO-OOB")
    assert "non-ipsec" in exp.shape


def test_ipv6_esp_processed_when_supported() -> None:
    model = model_with(entry(1, ESP, src=SRC6, dst=DST6))
    exp = model.receive(frame(datagram(esp=ESP, src=SRC6, dst=DST6)))
    assert_processed_ok(exp)
    assert "ipv6" in exp.shape
    assert SRC4 != SRC6
    assert DST4 != DST6
