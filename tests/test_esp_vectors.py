"""The ESP codec against the RFC 4106 AES-GCM cases of draft-mcgrew-gcm-test-01 (IETF-GCM, IETF-ESP-ESN).

Every case opens to its ``plaintext_with_trailer``, and sealing the payload, padding and next header taken from that
plaintext, with the case's IV, gives back the packet byte for byte. Vector bytes come from ``tests/vectors`` only.
"""

from __future__ import annotations

import pytest
from _vectors import EspGcmVector, esp_gcm_vectors

from reference_model.wire.esp import minimal_pad_length, open_esp, seal_esp

VECTORS = esp_gcm_vectors()
IDS = [f"case-{v.case}" for v in VECTORS]


def test_esp_vectors_all_fourteen_loaded_with_esn_cases() -> None:
    assert [v.case for v in VECTORS] == list(range(1, 15))
    assert any(v.esn for v in VECTORS)
    assert any(not v.esn for v in VECTORS)


@pytest.mark.clause("IETF-GCM")
@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_open_esp_vector_yields_plaintext_with_trailer(vector: EspGcmVector) -> None:
    opened = open_esp(vector.sec_assoc, vector.esp_packet, seq_hi=vector.seq_hi)
    assert opened.ok
    assert opened.icv_ok is True
    assert opened.syntax_errors == ()
    assert (opened.spi, opened.seq_low) == (vector.spi, vector.seq & 0xFFFFFFFF)
    assert opened.region == vector.plaintext_with_trailer
    start = opened.region_offset
    assert start == 16  # SPI, sequence number, 8-byte IV
    assert len(opened.region) == len(vector.esp_packet) - start - vector.icv_length
    assert opened.payload == vector.payload
    assert opened.pad == vector.pad
    assert (opened.pad_length, opened.next_header) == (vector.pad_length, vector.next_header)
    assert opened.pad_content_ok


@pytest.mark.clause("IETF-GCM")
@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_seal_esp_vector_reproduces_packet(vector: EspGcmVector) -> None:
    sa = vector.sec_assoc
    extra = vector.pad_length - minimal_pad_length(sa, len(vector.payload))
    assert extra >= 0
    sealed = seal_esp(
        sa,
        seq=vector.seq,
        iv=vector.iv,
        payload=vector.payload,
        next_header=vector.next_header,
        extra_padding=extra,
        pad_content=vector.pad,
    )
    assert sealed == vector.esp_packet


@pytest.mark.clause("IETF-GCM")
@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_seal_esp_vector_default_padding_reproduces_packet(vector: EspGcmVector) -> None:
    """Every case uses RFC 4303 minimal padding 1, 2, ..., so the defaults alone reproduce the packet."""
    sealed = seal_esp(
        vector.sec_assoc, seq=vector.seq, iv=vector.iv, payload=vector.payload, next_header=vector.next_header
    )
    assert sealed == vector.esp_packet


@pytest.mark.clause("IETF-ESP-ESN")
@pytest.mark.parametrize("vector", [v for v in VECTORS if v.esn], ids=[f"case-{v.case}" for v in VECTORS if v.esn])
def test_open_esp_vector_wrong_seq_hi_fails_icv(vector: EspGcmVector) -> None:
    opened = open_esp(vector.sec_assoc, vector.esp_packet, seq_hi=(vector.seq_hi + 1) & 0xFFFFFFFF)
    assert opened.icv_ok is False
    assert not opened.ok
    assert opened.region == b""
