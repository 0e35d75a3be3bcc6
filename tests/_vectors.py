"""The one loader of the data files in ``tests/vectors/`` (house style: vectors are data with a provenance note).

Test code asks this module for typed vectors and never holds vector bytes itself. ``SHARED_VECTORS_DIR`` is where the
original files live when ``shared/`` sits beside the clone (CI, and the developers' trees).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reference_model.constants import EncryptionAlgorithm, Operation
from reference_model.ndis import EncryptionSpec, SecAssoc

VECTORS_DIR = Path(__file__).resolve().parent / "vectors"
SHARED_VECTORS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "vectors"
ESP_GCM_FILE = "esp-aes-gcm-draft-mcgrew.json"

_GCM_CIPHERS = {
    "AES-GCM-128": EncryptionAlgorithm.AES_GCM_128,
    "AES-GCM-192": EncryptionAlgorithm.AES_GCM_192,
    "AES-GCM-256": EncryptionAlgorithm.AES_GCM_256,
}


def load_json(name: str) -> Any:
    return json.loads((VECTORS_DIR / name).read_text(encoding="utf-8"))


@dataclass(frozen=True, slots=True, kw_only=True)
class EspGcmVector:
    """One RFC 4106 ESP case of draft-mcgrew-gcm-test-01 (see ``vectors/PROVENANCE.md``)."""

    case: int
    algorithm: EncryptionAlgorithm
    icv_length: int
    key: bytes
    salt: bytes
    spi: int
    esn: bool
    seq: int
    esp_packet: bytes
    plaintext_with_trailer: bytes

    @property
    def sec_assoc(self) -> SecAssoc:
        return SecAssoc(
            operation=Operation.ESP,
            spi=self.spi,
            esn=self.esn,
            seq_hi=self.seq >> 32,
            encryption=EncryptionSpec(
                algorithm=self.algorithm, key=self.key, salt=self.salt, icv_length=self.icv_length
            ),
        )

    @property
    def seq_hi(self) -> int:
        return self.seq >> 32

    @property
    def iv(self) -> bytes:
        return self.esp_packet[8:16]

    @property
    def pad_length(self) -> int:
        return self.plaintext_with_trailer[-2]

    @property
    def next_header(self) -> int:
        return self.plaintext_with_trailer[-1]

    @property
    def payload(self) -> bytes:
        return self.plaintext_with_trailer[: -2 - self.pad_length]

    @property
    def pad(self) -> bytes:
        return self.plaintext_with_trailer[-2 - self.pad_length : -2]


def esp_gcm_vectors() -> tuple[EspGcmVector, ...]:
    data = load_json(ESP_GCM_FILE)
    return tuple(
        EspGcmVector(
            case=int(c["case"]),
            algorithm=_GCM_CIPHERS[c["cipher"]],
            icv_length=int(c["icv_len"]),
            key=bytes.fromhex(c["key"]),
            salt=bytes.fromhex(c["salt"]),
            spi=int(c["spi"], 16),
            esn=bool(c["esn"]),
            seq=int(c["seq"]),
            esp_packet=bytes.fromhex(c["esp_packet"]),
            plaintext_with_trailer=bytes.fromhex(c["plaintext_with_trailer"]),
        )
        for c in data["cases"]
    )
