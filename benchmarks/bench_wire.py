"""Throughput of the wire codecs: encodes/s and dissects/s for a few frame shapes (``python -m benchmarks.bench_wire``).

Numbers are printed, never asserted (ARCHITECTURE "Scale").
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable

from reference_model.constants import AuthenticationAlgorithm, EncryptionAlgorithm, Operation
from reference_model.ndis import AuthenticationSpec, EncryptionSpec, SecAssoc
from reference_model.packets import (
    AhLayer,
    Datagram,
    EspLayer,
    Frame,
    Ipv4Header,
    Ipv4Option,
    Ipv6Header,
    Ipv6OptionsHeader,
    UdpEncapsulation,
    Upper,
)
from reference_model.wire.dissect import dissect_frame
from reference_model.wire.frame import decode_frame, encode_frame

V4 = Ipv4Header(src=ipaddress.IPv4Address("192.0.2.1"), dst=ipaddress.IPv4Address("192.0.2.2"))
V4_OPTS = Ipv4Header(
    src=V4.src, dst=V4.dst, options=(Ipv4Option(option_type=148, data=b"\x00\x00"), Ipv4Option(option_type=1))
)
V6 = Ipv6Header(
    src=ipaddress.IPv6Address("2001:db8::1"),
    dst=ipaddress.IPv6Address("2001:db8::2"),
    extension_headers=(Ipv6OptionsHeader(kind=0),),
)
GCM = SecAssoc(
    operation=Operation.ESP,
    spi=0x1000,
    encryption=EncryptionSpec(algorithm=EncryptionAlgorithm.AES_GCM_128, key=bytes(16), salt=bytes(4)),
)
CBC = SecAssoc(
    operation=Operation.ESP,
    spi=0x1001,
    encryption=EncryptionSpec(algorithm=EncryptionAlgorithm.AES_CBC_128, key=bytes(16)),
    authentication=AuthenticationSpec(algorithm=AuthenticationAlgorithm.SHA_1, key=bytes(20)),
)
AH = SecAssoc(
    operation=Operation.AH,
    spi=0x2000,
    authentication=AuthenticationSpec(algorithm=AuthenticationAlgorithm.SHA_256, key=bytes(32)),
)
PAYLOAD = Upper(protocol=6, data=bytes(100))

SHAPES: dict[str, Frame] = {
    "plain IPv4": Frame(datagram=Datagram(ip=V4, payload=PAYLOAD)),
    "ESP-GCM transport IPv4": Frame(
        datagram=Datagram(ip=V4, esp=EspLayer(sec_assoc=GCM, iv=bytes(8)), payload=PAYLOAD)
    ),
    "AH-SHA256 IPv4 options": Frame(datagram=Datagram(ip=V4_OPTS, ah=AhLayer(sec_assoc=AH), payload=PAYLOAD)),
    "AH+ESP-CBC IPv6 ext": Frame(
        datagram=Datagram(ip=V6, ah=AhLayer(sec_assoc=AH), esp=EspLayer(sec_assoc=CBC, iv=bytes(16)), payload=PAYLOAD)
    ),
    "UDP-ESP tunnel over transport": Frame(
        datagram=Datagram(
            ip=V4,
            esp=EspLayer(sec_assoc=GCM, iv=bytes(8)),
            udp=UdpEncapsulation(),
            payload=Datagram(ip=V4, esp=EspLayer(sec_assoc=CBC, iv=bytes(16)), payload=PAYLOAD),
        )
    ),
}
TABLE = {(sa.spi, sa.operation): sa for sa in (GCM, CBC, AH)}


def _rate(fn: Callable[[], object], seconds: float = 0.5) -> float:
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(50):
            fn()
        count += 50
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def main() -> None:
    print(f"{'shape':32} {'bytes':>6} {'encode/s':>10} {'dissect/s':>10} {'decode/s':>10}")
    for name, frame in SHAPES.items():
        raw = encode_frame(frame)
        assert decode_frame(raw, lookup=lambda spi, dst, op: TABLE.get((spi, op))).frame == frame
        enc = _rate(lambda f=frame: encode_frame(f))  # type: ignore[misc]
        dis = _rate(lambda r=raw: dissect_frame(r))  # type: ignore[misc]
        dec = _rate(lambda r=raw: decode_frame(r, lookup=lambda spi, dst, op: TABLE.get((spi, op))))  # type: ignore[misc]
        print(f"{name:32} {len(raw):6d} {enc:10.0f} {dis:10.0f} {dec:10.0f}")


if __name__ == "__main__":
    main()
