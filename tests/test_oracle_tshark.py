"""Independent oracle: Wireshark's ESP dissector checks the frames our encoder builds.

Why: the reference model encodes and verifies ESP with the same code, so a shared misreading of an RFC (wrong AAD,
wrong HMAC coverage, wrong nonce) would pass every self-test. tshark was written by other people; if it decrypts our
frames and finds every ICV good, and finds an ICV with one flipped bit bad, our wire format and crypto agree with an
implementation nobody here wrote.

Coverage is every ESP algorithm both tshark 4.x and IPsecOV2 know: NULL, AES-CBC-128/192/256, DES-CBC and 3DES-CBC
with HMAC-MD5-96, HMAC-SHA-1-96 or HMAC-SHA-256-128; AES-GCM-128/192/256 with 8, 12 and 16-byte ICVs; and
confidentiality-only CBC (no ICV: only the decryption is checked). Each on IPv4 and IPv6, transport and tunnel mode,
with and without RFC 3948 UDP encapsulation. Not covered because tshark's ESP dissector lacks them: AES-GMAC
(ENCR_NULL_AUTH_AES_GMAC) and ESN (the SA table has no high-order sequence bits).

tshark is configured through ``-o`` options: ``esp.enable_encryption_decode``, ``esp.enable_authentication_check`` and
one ``uat:esp_sa`` record per SA with the fields Protocol, Src IP, Dest IP, SPI, Encryption, Encryption Key,
Authentication, Authentication Key (the field order of Wireshark's packet-ipsec.c ``esp_uat_flds``, 4.0 series).
"""

from __future__ import annotations

import hashlib
import ipaddress
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from scapy.utils import rdpcap, wrpcap

from reference_model.constants import AuthenticationAlgorithm, EncryptionAlgorithm, Operation
from reference_model.ndis import AuthenticationSpec, EncryptionSpec, SecAssoc
from reference_model.packets import Datagram, EspLayer, Frame, Ipv4Header, Ipv6Header, UdpEncapsulation, Upper
from reference_model.wire.frame import encode_frame

pytestmark = [pytest.mark.oracle, pytest.mark.clause("IETF-ESP-FORMAT")]

LINKTYPE_ETHERNET = 1
UDP = 17
DISCARD_PORT = 9
ETHERNET_MIN_FRAME = 60

WS_AUTH = {
    AuthenticationAlgorithm.MD5: "HMAC-MD5-96 [RFC2403]",
    AuthenticationAlgorithm.SHA_1: "HMAC-SHA-1-96 [RFC2404]",
    AuthenticationAlgorithm.SHA_256: "HMAC-SHA-256-128 [RFC4868]",
}
"""Wireshark's names (the uat value strings) for the IPsecOV2 HMAC algorithms."""

WS_CBC = {
    EncryptionAlgorithm.NONE: "NULL",
    EncryptionAlgorithm.DES_CBC: "DES-CBC [RFC2405]",
    EncryptionAlgorithm.TRIPLE_DES_CBC: "TripleDES-CBC [RFC2451]",
    EncryptionAlgorithm.AES_CBC_128: "AES-CBC [RFC3602]",
    EncryptionAlgorithm.AES_CBC_192: "AES-CBC [RFC3602]",
    EncryptionAlgorithm.AES_CBC_256: "AES-CBC [RFC3602]",
}
"""Wireshark's names for the non-combined IPsecOV2 ciphers (AES-CBC takes the key size from the key)."""

ENC_KEY = {
    EncryptionAlgorithm.NONE: 0,
    EncryptionAlgorithm.DES_CBC: 8,
    EncryptionAlgorithm.TRIPLE_DES_CBC: 24,
    EncryptionAlgorithm.AES_CBC_128: 16,
    EncryptionAlgorithm.AES_CBC_192: 24,
    EncryptionAlgorithm.AES_CBC_256: 32,
    EncryptionAlgorithm.AES_GCM_128: 16,
    EncryptionAlgorithm.AES_GCM_192: 24,
    EncryptionAlgorithm.AES_GCM_256: 32,
}
IV_LENGTH = {
    EncryptionAlgorithm.NONE: 0,
    EncryptionAlgorithm.DES_CBC: 8,
    EncryptionAlgorithm.TRIPLE_DES_CBC: 8,
    EncryptionAlgorithm.AES_CBC_128: 16,
    EncryptionAlgorithm.AES_CBC_192: 16,
    EncryptionAlgorithm.AES_CBC_256: 16,
}
AUTH_KEY = {AuthenticationAlgorithm.MD5: 16, AuthenticationAlgorithm.SHA_1: 20, AuthenticationAlgorithm.SHA_256: 32}
GCM = (EncryptionAlgorithm.AES_GCM_128, EncryptionAlgorithm.AES_GCM_192, EncryptionAlgorithm.AES_GCM_256)


def _bytes(label: str, n: int) -> bytes:
    """Deterministic, distinct test bytes (keys, IVs, payloads) derived from a label."""
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{counter}".encode()).digest()
        counter += 1
    return out[:n]


@dataclass(frozen=True, slots=True, kw_only=True)
class Algo:
    """One ESP algorithm combination: the SecAssoc minus its SPI, its IV length, and tshark's names for it."""

    name: str
    encryption: EncryptionSpec
    authentication: AuthenticationSpec | None
    iv_length: int
    ws_encryption: str
    ws_authentication: str

    @property
    def has_icv(self) -> bool:
        return self.authentication is not None or self.encryption.algorithm in GCM

    def sec_assoc(self, spi: int) -> SecAssoc:
        return SecAssoc(
            operation=Operation.ESP, spi=spi, authentication=self.authentication, encryption=self.encryption
        )

    def uat(self, spi: int, src: str, dst: str, ipv6: bool) -> str:
        """One ``uat:esp_sa`` record: Protocol, Src IP, Dest IP, SPI, Encryption, key, Authentication, key."""
        enc_key = self.encryption.key + self.encryption.salt
        auth_key = b"" if self.authentication is None else self.authentication.key
        fields = [
            "IPv6" if ipv6 else "IPv4",
            src,
            dst,
            f"0x{spi:08x}",
            self.ws_encryption,
            f"0x{enc_key.hex()}" if enc_key else "",
            self.ws_authentication,
            f"0x{auth_key.hex()}" if auth_key else "",
        ]
        return "uat:esp_sa:" + ",".join(f'"{f}"' for f in fields)


def _algorithms() -> Iterator[Algo]:
    """Every combination tshark can check (see the module docstring for what is left out and why)."""
    ciphers = [EncryptionAlgorithm.NONE, EncryptionAlgorithm.AES_CBC_128, EncryptionAlgorithm.AES_CBC_192]
    ciphers += [EncryptionAlgorithm.AES_CBC_256, EncryptionAlgorithm.DES_CBC, EncryptionAlgorithm.TRIPLE_DES_CBC]
    for cipher in ciphers:
        for auth in (AuthenticationAlgorithm.MD5, AuthenticationAlgorithm.SHA_1, AuthenticationAlgorithm.SHA_256):
            name = f"{cipher.name}+{auth.name}"
            yield Algo(
                name=name,
                encryption=EncryptionSpec(algorithm=cipher, key=_bytes(f"{name}/ek", ENC_KEY[cipher])),
                authentication=AuthenticationSpec(algorithm=auth, key=_bytes(f"{name}/ak", AUTH_KEY[auth])),
                iv_length=IV_LENGTH[cipher],
                ws_encryption=WS_CBC[cipher],
                ws_authentication=WS_AUTH[auth],
            )
    for cipher in (EncryptionAlgorithm.AES_CBC_128, EncryptionAlgorithm.TRIPLE_DES_CBC):  # confidentiality only
        name = f"{cipher.name}+no-integrity"
        yield Algo(
            name=name,
            encryption=EncryptionSpec(algorithm=cipher, key=_bytes(f"{name}/ek", ENC_KEY[cipher])),
            authentication=None,
            iv_length=IV_LENGTH[cipher],
            ws_encryption=WS_CBC[cipher],
            ws_authentication="NULL",
        )
    for cipher in GCM:
        for icv in (8, 12, 16):
            name = f"{cipher.name}/icv{icv}"
            yield Algo(
                name=name,
                encryption=EncryptionSpec(
                    algorithm=cipher,
                    key=_bytes(f"{name}/ek", ENC_KEY[cipher]),
                    salt=_bytes(f"{name}/salt", 4),
                    icv_length=icv,
                ),
                authentication=None,
                iv_length=8,
                ws_encryption=f"AES-GCM with {icv} octet ICV [RFC4106]",
                ws_authentication="NULL",
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One frame for tshark: the algorithm, the shape, the encoded bytes and the SA record that decodes it."""

    id: str
    algo: Algo
    frame: bytes
    uat: str
    next_header: int


def _udp_discard(data: bytes) -> Upper:
    """A UDP datagram to the discard port (RFC 863), checksum 0, which tshark is told to show as plain data.

    A payload tshark dissects further (a heuristic dissector such as RTCP claiming random bytes) can raise a
    malformed-packet exception there, which aborts the ESP dissection before the trailer and ICV check; an unknown
    IP protocol number instead makes tshark skip the trailer fields.
    """
    header = DISCARD_PORT.to_bytes(2, "big") * 2 + (8 + len(data)).to_bytes(2, "big") + b"\0\0"
    return Upper(protocol=UDP, data=header + data)


def _ip(ipv6: bool, outer: bool) -> tuple[Ipv4Header | Ipv6Header, str, str]:
    if ipv6:
        src6, dst6 = ("2001:db8::1", "2001:db8::2") if outer else ("2001:db8:1::a", "2001:db8:1::b")
        return Ipv6Header(src=ipaddress.IPv6Address(src6), dst=ipaddress.IPv6Address(dst6)), src6, dst6
    src4, dst4 = ("192.0.2.1", "192.0.2.2") if outer else ("10.1.0.1", "10.1.0.2")
    return Ipv4Header(src=ipaddress.IPv4Address(src4), dst=ipaddress.IPv4Address(dst4)), src4, dst4


def _cases() -> list[Case]:
    cases: list[Case] = []
    for algo in _algorithms():
        for ipv6 in (False, True):
            for tunnel in (False, True):
                for udp in (False, True):
                    spi = 0x1000 + len(cases)
                    case_id = f"{algo.name}-{'v6' if ipv6 else 'v4'}-{'tunnel' if tunnel else 'transport'}"
                    case_id += "-udp" if udp else ""
                    upper = _udp_discard(_bytes(f"{case_id}/payload", 64))
                    outer, src, dst = _ip(ipv6, outer=True)
                    payload: Upper | Datagram = upper
                    next_header = UDP
                    if tunnel:
                        payload = Datagram(ip=_ip(ipv6, outer=False)[0], payload=upper)
                        next_header = 41 if ipv6 else 4
                    esp = EspLayer(
                        sec_assoc=algo.sec_assoc(spi), seq=len(cases) + 1, iv=_bytes(case_id, algo.iv_length)
                    )
                    datagram = Datagram(ip=outer, esp=esp, udp=UdpEncapsulation() if udp else None, payload=payload)
                    frame = encode_frame(Frame(datagram=datagram))
                    cases.append(
                        Case(
                            id=case_id,
                            algo=algo,
                            frame=frame,
                            uat=algo.uat(spi, src, dst, ipv6),
                            next_header=next_header,
                        )
                    )
    return cases


CASES = _cases()


@dataclass(frozen=True, slots=True, kw_only=True)
class Dissected:
    """What tshark said about one frame's ESP: ICV good/bad (None when not checked) and the decrypted Next Header."""

    icv_good: bool | None
    icv_bad: bool | None
    next_header: int | None


def _flag(text: str) -> bool | None:
    if not text:
        return None
    return text.strip().lower() in {"1", "true"}


def _tshark(tshark: str, pcap: Path, cases: list[Case]) -> list[Dissected]:
    args = [tshark, "-n", "-r", str(pcap), "-o", "esp.enable_encryption_decode:TRUE"]
    args += ["-o", "esp.enable_authentication_check:TRUE", "-o", "esp.do_esp_sequence_analysis:FALSE"]
    args += ["-d", f"udp.port=={DISCARD_PORT},data"]  # no heuristic dissector may claim (and choke on) the payload
    for case in cases:
        args += ["-o", case.uat]
    args += ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    args += ["-e", "esp.icv_good", "-e", "esp.icv_bad", "-e", "esp.protocol"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"tshark failed ({done.returncode}): {done.stderr[-2000:]}"
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    assert len(rows) == len(cases), done.stdout[-2000:]
    return [
        Dissected(icv_good=_flag(good), icv_bad=_flag(bad), next_header=int(proto, 16) if proto else None)
        for good, bad, proto in rows
    ]


def _flip_last_bit(frame: bytes) -> bytes:
    """The frame with the lowest bit of its last byte flipped: that byte is the last ICV byte (no Ethernet padding)."""
    return frame[:-1] + bytes([frame[-1] ^ 0x01])


@pytest.fixture(scope="module")
def tshark_path(running_in_ci: bool) -> str:
    path = shutil.which("tshark")
    if path is None:
        if running_in_ci:
            pytest.fail("tshark is required in CI (the .ci/run script installs it)")
        pytest.skip("tshark not installed: the independent ESP oracle cannot run (apt-get install tshark)")
    return path


@pytest.fixture(scope="module")
def dissections(tshark_path: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Dissected, Dissected]]:
    """tshark's view of every case, intact and with one ICV bit flipped (two tshark runs for all cases)."""
    directory = tmp_path_factory.mktemp("oracle")
    intact, flipped = directory / "intact.pcap", directory / "flipped.pcap"
    wrpcap(str(intact), [c.frame for c in CASES], linktype=LINKTYPE_ETHERNET)
    wrpcap(str(flipped), [_flip_last_bit(c.frame) for c in CASES], linktype=LINKTYPE_ETHERNET)
    assert [bytes(p) for p in rdpcap(str(intact))] == [c.frame for c in CASES]
    good = _tshark(tshark_path, intact, CASES)
    bad = _tshark(tshark_path, flipped, CASES)
    return {c.id: (g, b) for c, g, b in zip(CASES, good, bad, strict=True)}


def test_oracle_cases_cover_every_shape_and_have_no_ethernet_padding() -> None:
    assert len({c.id for c in CASES}) == len(CASES) == (6 * 3 + 2 + 3 * 3) * 8
    assert all(len(c.frame) > ETHERNET_MIN_FRAME for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_oracle_tshark_decrypts_and_verifies_icv_of_encoded_frame(
    case: Case, dissections: dict[str, tuple[Dissected, Dissected]]
) -> None:
    intact, flipped = dissections[case.id]
    assert intact.next_header == case.next_header, f"tshark decrypted a different Next Header: {intact}"
    if case.algo.has_icv:
        assert (intact.icv_good, intact.icv_bad) == (True, False), f"tshark rejected our ICV: {intact}"
        assert (flipped.icv_good, flipped.icv_bad) == (False, True), f"tshark accepted a flipped ICV: {flipped}"
    else:
        assert intact.icv_good is None, "confidentiality-only ESP has no ICV to check"
