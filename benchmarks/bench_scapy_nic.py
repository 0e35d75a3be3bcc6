"""``receive()`` calls per second of the ``scapy`` adapter: ``python -m benchmarks.bench_scapy_nic [--seconds S]``.

The frame is IPv4 transport-mode ESP AES-GCM-128 (ICV 16) around a 100-byte upper-layer payload (TCP header plus 80
bytes), built by scapy itself. Three cases: a valid frame (verdict + in-place plaintext, i.e. two scapy decryptions),
the same frame with a flipped ICV, and an unknown SPI (dissection and lookup only). The numbers bound how fast a
conformance run against the scapy IUT can go. Not a test: wall-clock numbers are never asserted.
"""

from __future__ import annotations

import argparse
import ipaddress
import time
from typing import Any

from scapy.layers.inet import IP, TCP
from scapy.layers.ipsec import ESP, SecurityAssociation
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from conformance.adapters.scapy_nic import ScapyNic, create
from reference_model.constants import CryptoStatus, EncryptionAlgorithm, Operation
from reference_model.ndis import AddSaEntry, EncryptionSpec, SecAssoc

KEY = bytes(range(16))
SALT = bytes.fromhex("0a0b0c0d")
SPI = 0x1000
PAYLOAD = 100
_SA: Any = SecurityAssociation  # scapy is untyped


def _setup() -> tuple[ScapyNic, bytes]:
    nic = create(None)
    assoc = SecAssoc(
        operation=Operation.ESP,
        spi=SPI,
        encryption=EncryptionSpec(algorithm=EncryptionAlgorithm.AES_GCM_128, key=KEY, salt=SALT, icv_length=16),
    )
    entry = AddSaEntry(
        sa_id=1,
        inbound=True,
        ipv6=False,
        src=ipaddress.ip_address("198.51.100.1"),
        dst=ipaddress.ip_address("198.51.100.2"),
        sec_assoc=(assoc,),
    )
    nic.add_sa([entry])
    sender = _SA(ESP, spi=SPI, crypt_algo="AES-GCM", crypt_key=KEY + SALT)
    clear = IP(src="198.51.100.1", dst="198.51.100.2") / TCP(sport=40000, dport=80) / Raw(b"p" * (PAYLOAD - 20))
    return nic, bytes(Ether() / sender.encrypt(clear))


def _rate(nic: ScapyNic, frame: bytes, seconds: float) -> float:
    calls = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            nic.receive(frame)
        calls += 20
    return calls / elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per case (default 2)")
    args = parser.parse_args(argv)
    nic, frame = _setup()
    flipped = bytearray(frame)
    flipped[-1] ^= 1
    unknown = bytearray(frame)
    unknown[34:38] = (SPI + 1).to_bytes(4, "big")
    cases = (
        ("valid (CRYPTO_SUCCESS)", bytes(frame), CryptoStatus.SUCCESS, True),
        ("flipped ICV (TRANSPORT_ESP_AUTH_FAILED)", bytes(flipped), CryptoStatus.TRANSPORT_ESP_AUTH_FAILED, True),
        ("unknown SPI (info 0)", bytes(unknown), CryptoStatus.SUCCESS, False),
    )
    print(f"scapy adapter receive(), ESP AES-GCM-128, {PAYLOAD}-byte payload, {len(frame)}-byte frame")
    for name, data, status, done in cases:
        info = nic.receive(data)[0].receive_info
        if info.crypto_status != status or info.crypto_done != done:  # a benchmark of the wrong path is worthless
            raise SystemExit(f"{name}: unexpected result {info.describe()}")
        print(f"  {name:<42} {_rate(nic, data, args.seconds):10.0f} calls/s")


if __name__ == "__main__":
    main()
