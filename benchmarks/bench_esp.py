"""ESP seal/open throughput per algorithm combination: ``python -m benchmarks.bench_esp [--seconds S]``.

Prints operations per second of ``seal_esp`` and ``open_esp`` for a 100-byte and a 1400-byte payload. The judge
re-computes every frame it sends, so these numbers bound how many frames per second the reference model can judge.
Not a test: wall-clock numbers vary between machines and are never asserted.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from reference_model.algorithms import AUTHENTICATION, ENCRYPTION
from reference_model.constants import AuthenticationAlgorithm as A
from reference_model.constants import EncryptionAlgorithm as E
from reference_model.constants import Operation
from reference_model.ndis import AuthenticationSpec, EncryptionSpec, SecAssoc
from reference_model.wire.esp import esp_layout, open_esp, seal_esp

PAYLOAD_SIZES = (100, 1400)
SEQ = (1 << 32) | 7
"""An ESN sequence number (high half 1) so the ESN paths are the ones measured."""


def _key(n: int, seed: int) -> bytes:
    return bytes((seed + 7 * i) & 0xFF for i in range(n))


def sec_assoc(encryption: E, authentication: A | None, icv_length: int | None = None) -> SecAssoc:
    eparams = ENCRYPTION[encryption]
    enc = EncryptionSpec(
        algorithm=encryption,
        key=_key(eparams.key_length, 1),
        salt=_key(eparams.salt_length, 2),
        icv_length=icv_length if eparams.combined_mode else None,
    )
    auth = None
    if authentication is not None:
        aparams = AUTHENTICATION[authentication]
        auth = AuthenticationSpec(
            algorithm=authentication,
            key=_key(aparams.key_length, 3),
            salt=_key(aparams.salt_length, 4),
            icv_length=16 if aparams.gmac else None,
        )
    return SecAssoc(operation=Operation.ESP, spi=0x1000, esn=True, seq_hi=1, authentication=auth, encryption=enc)


CASES: tuple[tuple[str, SecAssoc], ...] = (
    ("AES-GCM-128 icv16", sec_assoc(E.AES_GCM_128, None, 16)),
    ("AES-GCM-128 icv8", sec_assoc(E.AES_GCM_128, None, 8)),
    ("AES-GCM-256 icv16", sec_assoc(E.AES_GCM_256, None, 16)),
    ("NULL+GMAC-128", sec_assoc(E.NONE, A.AES_GCM_128)),
    ("AES-CBC-128+SHA1", sec_assoc(E.AES_CBC_128, A.SHA_1)),
    ("AES-CBC-256+SHA256", sec_assoc(E.AES_CBC_256, A.SHA_256)),
    ("AES-CBC-128 (no auth)", sec_assoc(E.AES_CBC_128, None)),
    ("3DES+MD5", sec_assoc(E.TRIPLE_DES_CBC, A.MD5)),
    ("DES+SHA1", sec_assoc(E.DES_CBC, A.SHA_1)),
    ("NULL+SHA256", sec_assoc(E.NONE, A.SHA_256)),
)


def rate(operation: Callable[[], object], seconds: float) -> float:
    """Operations per second, measured in batches until ``seconds`` have passed."""
    count, batch = 0, 64
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(batch):
            operation()
        count += batch
    return count / elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.3, help="measuring time per number (default 0.3)")
    args = parser.parse_args(argv)
    print(f"{'algorithm':<24}" + "".join(f"{f'seal {n}B':>13}{f'open {n}B':>13}" for n in PAYLOAD_SIZES) + "  (ops/s)")
    for name, sa in CASES:
        iv = bytes(esp_layout(sa).iv_length)
        row = f"{name:<24}"
        for size in PAYLOAD_SIZES:
            payload = bytes(i & 0xFF for i in range(size))
            packet = seal_esp(sa, seq=SEQ, iv=iv, payload=payload, next_header=17)
            opened = open_esp(sa, packet, seq_hi=1)
            if not opened.ok or opened.payload != payload:
                raise SystemExit(f"{name}: seal/open round trip failed")

            def do_seal(sa: SecAssoc = sa, iv: bytes = iv, payload: bytes = payload) -> bytes:
                return seal_esp(sa, seq=SEQ, iv=iv, payload=payload, next_header=17)

            def do_open(sa: SecAssoc = sa, packet: bytes = packet) -> object:
                return open_esp(sa, packet, seq_hi=1)

            row += f"{rate(do_seal, args.seconds):>13,.0f}{rate(do_open, args.seconds):>13,.0f}"
        print(row)


if __name__ == "__main__":
    main()
