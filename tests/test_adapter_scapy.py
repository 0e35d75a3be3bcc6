"""The ``scapy`` adapter, driven with frames scapy itself protected (``SecurityAssociation.encrypt``).

These tests check the adapter's own work -- SA table, SPI + destination match, offload setting, the mapping of scapy's
results to the receive OOB flags and the in-place frame (AMB-09) -- on traffic scapy agrees with itself about. Where
scapy deviates from the RFCs is for the conformance run to find, not for these tests.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
import scapy
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import AH, ESP, SecurityAssociation
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from conformance.adapters.base import Adapter
from conformance.adapters.errors import AdapterLoadError
from conformance.adapters.scapy_nic import ScapyNic, create
from reference_model.constants import (
    AuthenticationAlgorithm,
    CryptoStatus,
    EncryptionAlgorithm,
    IpsecV2Setting,
    NdisStatus,
    Operation,
    UdpEspEncapsulation,
)
from reference_model.ndis import AddSaEntry, AuthenticationSpec, EncryptionSpec, ReceiveInfo, SecAssoc, UpdateSa

SRC, DST = "198.51.100.1", "198.51.100.2"
TUN_SRC, TUN_DST = "203.0.113.1", "203.0.113.2"
KEY16 = bytes(range(16))
SALT = bytes.fromhex("0a0b0c0d")
_SA: Any = SecurityAssociation  # scapy is untyped


def inner_packet(dst: str = DST) -> Any:
    return IP(src=SRC, dst=dst) / TCP(sport=40000, dport=80) / Raw(b"conformance payload " * 2)


def frame_of(packet: Any) -> bytes:
    return bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / packet)


# One algorithm suite per row: (NDIS SecAssoc for the adapter, scapy SecurityAssociation kwargs for the sender).
SUITES: dict[str, tuple[EncryptionSpec, AuthenticationSpec | None, dict[str, Any]]] = {
    "aes-gcm-128": (
        EncryptionSpec(algorithm=EncryptionAlgorithm.AES_GCM_128, key=KEY16, salt=SALT, icv_length=16),
        None,
        {"crypt_algo": "AES-GCM", "crypt_key": KEY16 + SALT},
    ),
    "aes-cbc-256+sha256": (
        EncryptionSpec(algorithm=EncryptionAlgorithm.AES_CBC_256, key=bytes(32)),
        AuthenticationSpec(algorithm=AuthenticationAlgorithm.SHA_256, key=b"s" * 32),
        {"crypt_algo": "AES-CBC", "crypt_key": bytes(32), "auth_algo": "SHA2-256-128", "auth_key": b"s" * 32},
    ),
    "3des+md5": (
        EncryptionSpec(algorithm=EncryptionAlgorithm.TRIPLE_DES_CBC, key=b"t" * 24),
        AuthenticationSpec(algorithm=AuthenticationAlgorithm.MD5, key=b"m" * 16),
        {"crypt_algo": "3DES", "crypt_key": b"t" * 24, "auth_algo": "HMAC-MD5-96", "auth_key": b"m" * 16},
    ),
    "null+sha1": (
        EncryptionSpec(algorithm=EncryptionAlgorithm.NONE),
        AuthenticationSpec(algorithm=AuthenticationAlgorithm.SHA_1, key=b"h" * 20),
        {"auth_algo": "HMAC-SHA1-96", "auth_key": b"h" * 20},
    ),
}


def esp_assoc(suite: str, spi: int, *, esn: bool = False, seq_hi: int = 0) -> SecAssoc:
    enc, auth, _ = SUITES[suite]
    return SecAssoc(operation=Operation.ESP, spi=spi, esn=esn, seq_hi=seq_hi, encryption=enc, authentication=auth)


def sender(suite: str, spi: int, **extra: Any) -> Any:
    return _SA(ESP, spi=spi, **SUITES[suite][2], **extra)


def entry(
    sa_id: int,
    *assocs: SecAssoc,
    dst: str = DST,
    src: str = SRC,
    inbound: bool = True,
    udp: UdpEspEncapsulation = UdpEspEncapsulation.NONE,
) -> AddSaEntry:
    dst_ip, src_ip = ipaddress.ip_address(dst), ipaddress.ip_address(src)
    return AddSaEntry(
        sa_id=sa_id,
        inbound=inbound,
        ipv6=dst_ip.version == 6,
        src=src_ip,
        dst=dst_ip,
        sec_assoc=assocs,
        udp_esp_encapsulation=udp,
    )


def add_ok(nic: ScapyNic, *entries: AddSaEntry) -> None:
    results = nic.add_sa(entries)
    assert [r.status for r in results] == [NdisStatus.SUCCESS] * len(entries)


def receive_one(nic: ScapyNic, frame: bytes) -> tuple[bytes, ReceiveInfo]:
    indications = nic.receive(frame)
    assert len(indications) == 1  # RX-INDICATE-ALL: exactly one indication per frame
    return indications[0].frame, indications[0].receive_info


def expected_in_place(frame: bytes, esp_offset: int, *, iv_len: int, icv_len: int, payload: bytes, nh: int) -> bytes:
    """AMB-09 computed from the sender's plaintext: scapy pads with 1, 2, 3... (RFC 4303 default)."""
    start, end = esp_offset + 8 + iv_len, len(frame) - icv_len
    pad = end - start - len(payload) - 2
    assert pad >= 0
    return frame[:start] + payload + bytes(range(1, pad + 1)) + bytes([pad, nh]) + frame[end:]


SUITE_SIZES = {"aes-gcm-128": (8, 16), "aes-cbc-256+sha256": (16, 16), "3des+md5": (8, 12), "null+sha1": (0, 12)}


@pytest.fixture
def nic() -> ScapyNic:
    return create(None)


def test_hello_reports_scapy_name_version_and_consistent_caps(nic: ScapyNic) -> None:
    hello = nic.hello()
    assert hello.name == "scapy-ipsec"
    assert hello.version == scapy.__version__
    assert hello.capabilities.inconsistencies() == []
    assert not hello.capabilities.authentication_algorithms & AuthenticationAlgorithm.AES_GCM_128
    assert isinstance(nic, Adapter)


def test_create_gmac_option_claims_gmac_and_rejects_unknown_option() -> None:
    caps = create("gmac,capacity=8").hello().capabilities
    assert caps.authentication_algorithms & AuthenticationAlgorithm.AES_GCM_256
    assert create("capacity=8").hello().capabilities.sa_offload_capacity == 8
    with pytest.raises(AdapterLoadError):
        create("bogus")


@pytest.mark.clause("RX-CRYPTOSTATUS-RESULT")
@pytest.mark.parametrize("suite", sorted(SUITES))
def test_receive_transport_esp_indicates_success_decrypted_in_place(nic: ScapyNic, suite: str) -> None:
    add_ok(nic, entry(1, esp_assoc(suite, 0x1001)))
    clear = inner_packet()
    frame = frame_of(sender(suite, 0x1001).encrypt(clear))
    got, info = receive_one(nic, frame)
    assert info == ReceiveInfo(crypto_done=True, crypto_status=CryptoStatus.SUCCESS)
    iv_len, icv_len = SUITE_SIZES[suite]
    assert got == expected_in_place(frame, 14 + 20, iv_len=iv_len, icv_len=icv_len, payload=bytes(clear)[20:], nh=6)


@pytest.mark.clause("RX-CRYPTOSTATUS-RESULT")
@pytest.mark.parametrize("suite", sorted(SUITES))
def test_receive_flipped_icv_gives_transport_esp_auth_failed(nic: ScapyNic, suite: str) -> None:
    add_ok(nic, entry(1, esp_assoc(suite, 0x1002)))
    frame = bytearray(frame_of(sender(suite, 0x1002).encrypt(inner_packet())))
    frame[-1] ^= 0x01
    _, info = receive_one(nic, bytes(frame))
    assert info.crypto_done
    assert not info.next_crypto_done
    assert info.crypto_status == CryptoStatus.TRANSPORT_ESP_AUTH_FAILED


@pytest.mark.clause("RX-CRYPTOSTATUS-RESULT")
def test_receive_tunnel_esp_success_then_flipped_icv_gives_tunnel_code(nic: ScapyNic) -> None:
    suite = "aes-cbc-256+sha256"
    add_ok(nic, entry(1, esp_assoc(suite, 0x2001), src=TUN_SRC, dst=TUN_DST))
    clear = inner_packet()
    frame = frame_of(sender(suite, 0x2001, tunnel_header=IP(src=TUN_SRC, dst=TUN_DST)).encrypt(clear))
    got, info = receive_one(nic, frame)
    assert info == ReceiveInfo(crypto_done=True, crypto_status=CryptoStatus.SUCCESS)
    assert got == expected_in_place(frame, 14 + 20, iv_len=16, icv_len=16, payload=bytes(clear), nh=4)
    bad = bytearray(frame)
    bad[-3] ^= 0x80
    _, info = receive_one(nic, bytes(bad))
    assert info.crypto_status == CryptoStatus.TUNNEL_ESP_AUTH_FAILED


@pytest.mark.clause("RX-NEXTCRYPTODONE-BOTH-ONLY")
def test_receive_transport_over_tunnel_sets_next_crypto_done_only_with_both_sas(nic: ScapyNic) -> None:
    inner_esp = IP(bytes(sender("aes-gcm-128", 0x3001).encrypt(inner_packet())))
    outer = sender("aes-cbc-256+sha256", 0x3002, tunnel_header=IP(src=TUN_SRC, dst=TUN_DST))
    frame = frame_of(outer.encrypt(inner_esp))
    add_ok(nic, entry(2, esp_assoc("aes-cbc-256+sha256", 0x3002), src=TUN_SRC, dst=TUN_DST))
    _, info = receive_one(nic, frame)  # AMB-05: tunnel only
    assert info == ReceiveInfo(crypto_done=True, next_crypto_done=False, crypto_status=CryptoStatus.SUCCESS)
    add_ok(nic, entry(1, esp_assoc("aes-gcm-128", 0x3001)))
    got, info = receive_one(nic, frame)
    assert info == ReceiveInfo(crypto_done=True, next_crypto_done=True, crypto_status=CryptoStatus.SUCCESS)
    assert bytes(inner_packet())[20:] in got


@pytest.mark.clause("RX-CRYPTOSTATUS-RESULT")
def test_receive_ah_transport_success_and_flipped_icv(nic: ScapyNic) -> None:
    auth = AuthenticationSpec(algorithm=AuthenticationAlgorithm.SHA_1, key=b"a" * 20)
    add_ok(nic, entry(1, SecAssoc(operation=Operation.AH, spi=0x4001, authentication=auth)))
    frame = frame_of(_SA(AH, spi=0x4001, auth_algo="HMAC-SHA1-96", auth_key=b"a" * 20).encrypt(inner_packet()))
    got, info = receive_one(nic, frame)
    assert info == ReceiveInfo(crypto_done=True, crypto_status=CryptoStatus.SUCCESS)
    assert got == frame  # nothing to decrypt
    bad = bytearray(frame)
    bad[-1] ^= 0x01
    _, info = receive_one(nic, bytes(bad))
    assert info.crypto_status == CryptoStatus.TRANSPORT_AH_AUTH_FAILED


@pytest.mark.clause("RX-CRYPTOSTATUS-RESULT")
def test_receive_esp_packet_on_ah_sa_gives_invalid_protocol(nic: ScapyNic) -> None:
    auth = AuthenticationSpec(algorithm=AuthenticationAlgorithm.SHA_1, key=b"a" * 20)
    add_ok(nic, entry(1, SecAssoc(operation=Operation.AH, spi=0x4002, authentication=auth)))
    frame = frame_of(sender("aes-gcm-128", 0x4002).encrypt(inner_packet()))
    got, info = receive_one(nic, frame)
    assert info == ReceiveInfo(crypto_done=True, crypto_status=CryptoStatus.INVALID_PROTOCOL)
    assert got == frame


@pytest.mark.clause("RX-SA-MATCH-SPI-DST")
def test_receive_unknown_spi_or_other_destination_is_untouched_with_info_zero(nic: ScapyNic) -> None:
    add_ok(nic, entry(1, esp_assoc("aes-gcm-128", 0x5001)))
    for frame in (
        frame_of(sender("aes-gcm-128", 0x5002).encrypt(inner_packet())),
        frame_of(sender("aes-gcm-128", 0x5001).encrypt(inner_packet(dst="198.51.100.99"))),
    ):
        assert nic.receive(frame)[0].frame == frame
        assert nic.receive(frame)[0].info == 0


@pytest.mark.clause("RX-SA-INBOUND-ONLY")
def test_receive_on_outbound_sa_only_is_not_processed(nic: ScapyNic) -> None:
    add_ok(nic, entry(1, esp_assoc("aes-gcm-128", 0x5003), inbound=False))
    frame = frame_of(sender("aes-gcm-128", 0x5003).encrypt(inner_packet()))
    assert nic.receive(frame)[0].info == 0


@pytest.mark.clause("RX-HW-CONFIGURED")
def test_receive_with_offload_disabled_or_esp_off_is_not_processed(nic: ScapyNic) -> None:
    add_ok(nic, entry(1, esp_assoc("aes-gcm-128", 0x6001)))
    frame = frame_of(sender("aes-gcm-128", 0x6001).encrypt(inner_packet()))
    for setting in (IpsecV2Setting.DISABLED, IpsecV2Setting.AH):
        assert nic.set_offload(setting) is NdisStatus.SUCCESS
        assert nic.receive(frame)[0].frame == frame
        assert nic.receive(frame)[0].info == 0
    nic.set_offload(IpsecV2Setting.AH_AND_ESP)
    assert nic.receive(frame)[0].receive_info.crypto_done  # AMB-22: the SA survived


@pytest.mark.clause("RX-CAPS-UDPESP")
def test_receive_udp_esp_ipv6_transport_decrypts(nic: ScapyNic) -> None:
    clear = IPv6(src="2001:db8::1", dst="2001:db8::2") / TCP(sport=1, dport=2) / Raw(b"six" * 10)
    udp = UdpEspEncapsulation.TRANSPORT
    sa = entry(1, esp_assoc("aes-gcm-128", 0x7001), src="2001:db8::1", dst="2001:db8::2", udp=udp)
    add_ok(nic, sa)
    frame = frame_of(sender("aes-gcm-128", 0x7001, nat_t_header=UDP(sport=4500, dport=4500)).encrypt(clear))
    got, info = receive_one(nic, frame)
    assert info == ReceiveInfo(crypto_done=True, crypto_status=CryptoStatus.SUCCESS)
    assert got == expected_in_place(frame, 14 + 40 + 8, iv_len=8, icv_len=16, payload=bytes(clear)[40:], nh=6)


@pytest.mark.clause("SA-UPDATE-ESN")
def test_update_sa_changes_esn_high_bits_used_for_verification(nic: ScapyNic) -> None:
    suite = "aes-cbc-256+sha256"
    add_ok(nic, entry(1, esp_assoc(suite, 0x8001, esn=True, seq_hi=1)))
    frame = frame_of(sender(suite, 0x8001, esn_en=True, esn=2).encrypt(inner_packet()))
    assert receive_one(nic, frame)[1].crypto_status == CryptoStatus.TRANSPORT_ESP_AUTH_FAILED
    assert nic.update_sa(UpdateSa(sa_id=1, operation=Operation.ESP, spi=0x8001, seq_hi=2)) is NdisStatus.SUCCESS
    assert receive_one(nic, frame)[1].crypto_status == CryptoStatus.SUCCESS
    for sa_id, operation in ((1, Operation.AH), (9, Operation.ESP)):
        update = UpdateSa(sa_id=sa_id, operation=operation, spi=0x8001, seq_hi=2)
        assert nic.update_sa(update) is NdisStatus.INVALID_PARAMETER


@pytest.mark.clause("SA-ADD-HANDLE")
def test_add_sa_handles_unique_and_delete_then_reset_clear_the_table(nic: ScapyNic) -> None:
    results = nic.add_sa([entry(1, esp_assoc("aes-gcm-128", 0x9001)), entry(2, esp_assoc("null+sha1", 0x9002))])
    handles = [r.handle for r in results]
    assert all(h is not None and h > 0 for h in handles)
    assert len(set(handles)) == 2
    frame = frame_of(sender("aes-gcm-128", 0x9001).encrypt(inner_packet()))
    assert nic.delete_sa(1) is NdisStatus.SUCCESS
    assert nic.receive(frame)[0].info == 0  # SA-AFTER-DELETE-NO-MATCH
    nic.set_offload(IpsecV2Setting.DISABLED)
    nic.reset()
    assert nic.setting is IpsecV2Setting.AH_AND_ESP
    assert nic.delete_sa(2) is NdisStatus.INVALID_PARAMETER


@pytest.mark.clause("SA-ADD-REJECT-UNSUPPORTED")
def test_add_sa_refuses_ah_gmac_and_bad_key_lengths(nic: ScapyNic) -> None:
    gmac = AuthenticationSpec(algorithm=AuthenticationAlgorithm.AES_GCM_128, key=KEY16, salt=SALT, icv_length=16)
    bad_key = EncryptionSpec(algorithm=EncryptionAlgorithm.AES_CBC_128, key=bytes(32))
    results = nic.add_sa(
        [
            entry(1, SecAssoc(operation=Operation.AH, spi=1, authentication=gmac)),
            entry(2, SecAssoc(operation=Operation.ESP, spi=2, encryption=bad_key)),
        ]
    )
    assert [r.status for r in results] == [NdisStatus.NOT_SUPPORTED, NdisStatus.INVALID_PARAMETER]
    assert all(r.handle is None for r in results)


@pytest.mark.clause("RX-INDICATE-ALL")
@settings(max_examples=40)
@given(cut=st.integers(min_value=0, max_value=200), noise=st.binary(max_size=64))
def test_receive_hostile_bytes_never_raise_and_indicate_once(cut: int, noise: bytes) -> None:
    nic = create(None)
    add_ok(nic, entry(1, esp_assoc("aes-gcm-128", 0xA001)), entry(2, esp_assoc("3des+md5", 0xA002)))
    for spi, suite in ((0xA001, "aes-gcm-128"), (0xA002, "3des+md5")):
        frame = frame_of(sender(suite, spi).encrypt(inner_packet()))
        mangled = frame[: 14 + 20 + 8 + cut] + noise
        indications = nic.receive(mangled)
        assert len(indications) == 1
        info = indications[0].receive_info
        assert info.reserved == 0
        assert not info.sa_delete_req
        assert info.crypto_done or info.crypto_status == 0
