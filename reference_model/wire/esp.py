"""ESP (RFC 4303) sealing and opening for every IPsecOV2 algorithm combination, on ``reference_model.crypto``.

Wire form (IETF-ESP-FORMAT): SPI | Sequence Number (low 32 bits) | IV | ciphertext of (payload | padding | Pad Length |
Next Header) | ICV. Which algorithm does what (IETF-GCM, IETF-GMAC, IETF-CBC, IETF-HMAC, IETF-NULL):

- Combined mode, AES-GCM (RFC 4106): ``encryption`` is AES_GCM_* with key, salt and ICV length 8/12/16;
  ``authentication`` is ignored (it should be None, MS-SA). Nonce = salt | IV; AAD = SPI | seq low, or with ESN
  SPI | seq high | seq low.
- NULL encryption with AES-GMAC (ENCR_NULL_AUTH_AES_GMAC, RFC 4543): ``encryption`` is NONE (or None) and
  ``authentication`` is AES_GCM_* with key, salt and ICV length 16. Reading of RFC 4543 section 3 (its AAD figures),
  cross-checked against the Linux ``rfc4543(gcm(aes))`` template: nonce = salt | IV as in GCM, the GCM plaintext is
  empty, and the AAD is SPI | seq low (ESN: SPI | seq high | seq low) | IV | payload | padding | Pad Length |
  Next Header; the 16-byte GCM tag is the ICV. Padding only aligns the trailer to 4 bytes (no cipher block).
- CBC (AES-CBC RFC 3602, DES/3DES RFC 2405/2451), optionally with HMAC-MD5-96 / SHA1-96 / SHA256-128; or NULL with
  HMAC. The HMAC covers SPI | seq low | IV | ciphertext and, with ESN, the seq high bits as an implicit trailer
  (IETF-ESP-ESN). Without integrity (confidentiality-only ESP) there is no ICV and ``icv_ok`` is None.

Opening follows IETF-ESP-INBOUND-ORDER (RFC 4303 section 3.4.4): length checks, then the ICV (separate integrity) or
combined decrypt+verify, then decryption and the trailer/padding checks. Nothing is decrypted once the ICV fails,
so a failed packet reports no payload (AMB-09: on failure, nothing is asserted about payload bytes).

Errors: ``open_esp`` never raises on any ``data``. Both functions raise ``ValueError`` for a SecAssoc that no ESP
packet can use: a key of the wrong length, a GCM/GMAC salt that is not 4 bytes, a GCM/GMAC ICV length outside 1..16,
or AES-GMAC authentication together with a non-NULL cipher (RFC 4543 defines GMAC only with NULL encryption).
``seal_esp`` also raises ``ValueError`` for arguments that cannot make a packet (IV length, padding over 255 bytes or
not a whole number of CBC blocks, pad_content of the wrong length, seq outside 64 bits), and ``open_esp`` for a
``seq_hi`` outside 32 bits.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from reference_model import crypto
from reference_model.algorithms import AUTHENTICATION, ENCRYPTION
from reference_model.constants import EncryptionAlgorithm
from reference_model.ndis import AuthenticationSpec, EncryptionSpec, SecAssoc

ESP_HEADER_LENGTH = 8
"""SPI and low 32 bits of the sequence number (IETF-ESP-FORMAT)."""
TRAILER_LENGTH = 2
"""Pad Length and Next Header."""
MAX_PAD_LENGTH = 255

SYNTAX_TOO_SHORT = "shorter than header+IV+ICV"
SYNTAX_NOT_BLOCK_MULTIPLE = "ciphertext not a multiple of the block size"
SYNTAX_NO_TRAILER = "no room for pad length and next header"
SYNTAX_PAD_TOO_LONG = "pad length exceeds payload"

_HEADER = struct.Struct(">II")
_U32 = struct.Struct(">I")
_UINT32_MAX = 0xFFFFFFFF

CipherKind = Literal["null", "cbc", "gcm"]
IntegrityKind = Literal["none", "hmac", "gmac", "gcm"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EspLayout:
    """The sizes an ESP SecAssoc puts on the wire, and which primitive does the work.

    ``alignment`` is what the encrypted part (payload + padding + trailer) must be a multiple of: the cipher block
    size for CBC, 4 otherwise (IETF-ESP-PAD). ``block_size`` is the cipher block the receiver can check (1 for NULL
    and GCM, whose ciphertext may have any length).
    """

    cipher: CipherKind
    integrity: IntegrityKind
    iv_length: int
    icv_length: int
    alignment: int
    block_size: int


def esp_layout(sa: SecAssoc) -> EspLayout:
    """Classify ``sa`` (see the module docstring); ``ValueError`` for GMAC with a non-NULL cipher or odd ICV sizes."""
    return _layout(sa.encryption, sa.authentication)


@lru_cache(maxsize=4096)
def _layout(enc: EncryptionSpec | None, auth: AuthenticationSpec | None) -> EspLayout:
    """``esp_layout`` proper, cached: it runs for every packet the judge seals or opens."""
    enc_alg = EncryptionAlgorithm.NONE if enc is None else enc.algorithm
    enc_params = ENCRYPTION[enc_alg]
    if enc_params.combined_mode:
        assert enc is not None
        icv = enc.effective_icv_length
        if not 1 <= icv <= crypto.GCM_TAG_LENGTH:
            raise ValueError(f"AES-GCM ICV length must be 1..16 bytes, got {icv}")
        return EspLayout(
            cipher="gcm", integrity="gcm", iv_length=enc_params.iv_length, icv_length=icv, alignment=4, block_size=1
        )
    cipher: CipherKind = "null" if enc_alg is EncryptionAlgorithm.NONE else "cbc"
    iv_length = enc_params.iv_length
    block = enc_params.block_size if cipher == "cbc" else 1
    if auth is None:
        return EspLayout(
            cipher=cipher,
            integrity="none",
            iv_length=iv_length,
            icv_length=0,
            alignment=max(block, 4),
            block_size=block,
        )
    auth_params = AUTHENTICATION[auth.algorithm]
    icv = auth.effective_icv_length
    if auth_params.gmac:
        if cipher != "null":
            raise ValueError("AES-GMAC authentication in ESP requires NULL encryption (RFC 4543)")
        if not 1 <= icv <= crypto.GCM_TAG_LENGTH:
            raise ValueError(f"AES-GMAC ICV length must be 1..16 bytes, got {icv}")
        return EspLayout(
            cipher="null",
            integrity="gmac",
            iv_length=auth_params.iv_length,
            icv_length=icv,
            alignment=4,
            block_size=1,
        )
    return EspLayout(
        cipher=cipher,
        integrity="hmac",
        iv_length=iv_length,
        icv_length=icv,
        alignment=max(block, 4),
        block_size=block,
    )


def minimal_pad_length(sa: SecAssoc, payload_length: int) -> int:
    """IETF-ESP-PAD: fewest pad bytes so payload + padding + trailer fill whole cipher blocks and 4-byte words."""
    return -(payload_length + TRAILER_LENGTH) % esp_layout(sa).alignment


def default_pad(length: int) -> bytes:
    """RFC 4303 section 2.4: pad bytes 1, 2, 3, ... (``length`` at most 255)."""
    return bytes(range(1, length + 1))


@dataclass(frozen=True, slots=True, kw_only=True)
class EspOpened:
    """What ``open_esp`` found in one ESP packet.

    ``icv_ok`` is None when the SA has no integrity (confidentiality-only ESP, AMB-08: no AUTH_FAILED possible), and
    False when the ICV does not verify or the packet is too short to hold one. ``pad_content_ok`` is False only when
    the pad bytes were located and do not follow 1, 2, 3, ... (RFC 4303 section 2.4, a receiver SHOULD); it is True
    when they do or when they could not be checked (nothing decrypted, or a syntax error hid them). ``payload``,
    ``pad``, ``pad_length`` and ``next_header`` come from the decrypted trailer (empty/0 when not decrypted;
    ``pad_length``/``next_header`` keep the field values when only the pad-length check failed). ``region`` is the
    plaintext that replaces ``data[region_offset:region_offset + len(region)]`` when a NIC decrypts in place (AMB-09):
    the same length as the ciphertext, empty when nothing was decrypted (for NULL encryption it equals the input).
    """

    spi: int
    seq_low: int
    icv_ok: bool | None
    syntax_errors: tuple[str, ...] = ()
    pad_content_ok: bool = True
    payload: bytes = b""
    pad: bytes = b""
    pad_length: int = 0
    next_header: int = 0
    region_offset: int = 0
    region: bytes = b""

    @property
    def ok(self) -> bool:
        """The packet passed the ICV (or has none) and every structural check (RX-CRYPTOSTATUS-RESULT success)."""
        return self.icv_ok is not False and not self.syntax_errors


def peek_esp(data: bytes, offset: int = 0) -> tuple[int, int] | None:
    """(SPI, low 32 bits of the sequence number) of the ESP header at ``offset``, or None if fewer than 8 bytes."""
    if offset < 0 or len(data) - offset < ESP_HEADER_LENGTH:
        return None
    spi, seq_low = _HEADER.unpack_from(data, offset)
    return spi, seq_low


def _esn_aad(header: bytes | memoryview, seq_hi: int) -> bytes:
    """SPI | seq high | seq low (RFC 4106 section 5 / RFC 4543 section 3.3, ESN form)."""
    return bytes(header[:4]) + _U32.pack(seq_hi) + bytes(header[4:8])


def seal_esp(
    sa: SecAssoc,
    *,
    seq: int,
    iv: bytes,
    payload: bytes,
    next_header: int,
    extra_padding: int = 0,
    pad_content: bytes | None = None,
    pad_length_field: int | None = None,
    next_header_field: int | None = None,
) -> bytes:
    """Build SPI | seq low | IV | ciphertext(payload + pad + Pad Length + Next Header) | ICV for ``sa``.

    ``seq`` is the full 64-bit number; its high half enters the ICV (implicit trailer) or the GCM/GMAC AAD only when
    ``sa.esn``. Padding is the minimum (IETF-ESP-PAD) plus ``extra_padding``, with bytes 1, 2, 3, ... unless
    ``pad_content`` (its length must equal the total). ``pad_length_field`` and ``next_header_field`` write other
    values into the trailer, inside the encryption and under a valid ICV (for AMB-08 corruptions).
    """
    layout = esp_layout(sa)
    if not 0 <= seq <= 0xFFFF_FFFF_FFFF_FFFF:
        raise ValueError(f"seq {seq} is not a 64-bit sequence number")
    if len(iv) != layout.iv_length:
        raise ValueError(f"IV must be {layout.iv_length} bytes for this SA, got {len(iv)}")
    pad_total = -(len(payload) + TRAILER_LENGTH) % layout.alignment + extra_padding
    if not 0 <= pad_total <= MAX_PAD_LENGTH:
        raise ValueError(f"total padding {pad_total} is outside 0..255")
    if pad_content is None:
        pad_content = default_pad(pad_total)
    elif len(pad_content) != pad_total:
        raise ValueError(f"pad_content has {len(pad_content)} bytes, the padding is {pad_total}")
    trailer = bytes(
        (
            pad_total if pad_length_field is None else pad_length_field,
            next_header if next_header_field is None else next_header_field,
        )
    )
    plaintext = payload + pad_content + trailer
    seq_hi, seq_low = seq >> 32, seq & _UINT32_MAX
    header = _HEADER.pack(sa.spi, seq_low)

    if layout.integrity == "gcm":
        enc = sa.encryption
        assert enc is not None
        aad = _esn_aad(header, seq_hi) if sa.esn else header
        return (
            header
            + iv
            + crypto.gcm_seal(enc.key, enc.salt, iv=iv, plaintext=plaintext, aad=aad, icv_length=layout.icv_length)
        )

    if layout.cipher == "cbc":
        enc = sa.encryption
        assert enc is not None
        if len(plaintext) % layout.block_size:
            raise ValueError(f"padding leaves {len(plaintext)} bytes, not a multiple of {layout.block_size}")
        body = header + iv + crypto.cbc_encrypt(enc.algorithm, enc.key, iv, plaintext)
    else:
        body = header + iv + plaintext

    auth = sa.authentication
    if layout.integrity == "none" or auth is None:
        return body
    if layout.integrity == "gmac":
        aad = _esn_aad(header, seq_hi) + body[ESP_HEADER_LENGTH:] if sa.esn else body
        return body + crypto.gmac_tag(auth.key, auth.salt, iv=iv, aad=aad, icv_length=layout.icv_length)
    implicit = (_U32.pack(seq_hi),) if sa.esn else ()
    return body + crypto.hmac_icv(auth.algorithm, auth.key, body, *implicit, length=layout.icv_length)


def open_esp(sa: SecAssoc, data: bytes, *, seq_hi: int) -> EspOpened:
    """Verify and decrypt one ESP packet (``data`` = ESP header .. end of ICV) under ``sa``.

    ``seq_hi`` is the high half of the sequence number the receiver assumes (used only when ``sa.esn``; AMB-16: the
    value the NIC was given). Never raises on any ``data``; see the module docstring for ``ValueError`` on bad SAs.
    """
    layout = esp_layout(sa)
    if not 0 <= seq_hi <= _UINT32_MAX:
        raise ValueError(f"seq_hi {seq_hi} is not a 32-bit value")
    view = memoryview(data)
    n = len(view)
    spi, seq_low = _HEADER.unpack_from(view) if n >= ESP_HEADER_LENGTH else (0, 0)
    has_icv = layout.integrity != "none"
    region_offset = ESP_HEADER_LENGTH + layout.iv_length
    if n < region_offset + layout.icv_length:
        return EspOpened(
            spi=spi,
            seq_low=seq_low,
            icv_ok=False if has_icv else None,
            syntax_errors=(SYNTAX_TOO_SHORT,),
            region_offset=region_offset,
        )
    icv_start = n - layout.icv_length
    iv = view[ESP_HEADER_LENGTH:region_offset]
    ciphertext = view[region_offset:icv_start]
    icv = view[icv_start:]
    errors: list[str] = []
    if len(ciphertext) % layout.block_size:
        errors.append(SYNTAX_NOT_BLOCK_MULTIPLE)

    icv_ok: bool | None = None
    plaintext: bytes | None = None
    auth = sa.authentication
    if layout.integrity == "gcm":
        enc = sa.encryption
        assert enc is not None
        aad = _esn_aad(view, seq_hi) if sa.esn else bytes(view[:ESP_HEADER_LENGTH])
        plaintext = crypto.gcm_open(
            enc.key, enc.salt, iv=iv, sealed=view[region_offset:], icv_length=layout.icv_length, aad=aad
        )
        icv_ok = plaintext is not None
    elif layout.integrity == "hmac":
        assert auth is not None
        implicit = (_U32.pack(seq_hi),) if sa.esn else ()
        expected = crypto.hmac_icv(auth.algorithm, auth.key, view[:icv_start], *implicit, length=layout.icv_length)
        icv_ok = crypto.icv_equal(expected, icv)
    elif layout.integrity == "gmac":
        assert auth is not None
        covered = view[:icv_start]
        aad = _esn_aad(view, seq_hi) + bytes(covered[ESP_HEADER_LENGTH:]) if sa.esn else bytes(covered)
        icv_ok = crypto.icv_equal(
            crypto.gmac_tag(auth.key, auth.salt, iv=iv, aad=aad, icv_length=layout.icv_length), icv
        )

    if icv_ok is False or errors:
        return EspOpened(
            spi=spi, seq_low=seq_low, icv_ok=icv_ok, syntax_errors=tuple(errors), region_offset=region_offset
        )

    if plaintext is None:
        if layout.cipher == "cbc":
            enc = sa.encryption
            assert enc is not None
            plaintext = crypto.cbc_decrypt(enc.algorithm, enc.key, iv, ciphertext)
        else:
            plaintext = bytes(ciphertext)

    size = len(plaintext)
    if size < TRAILER_LENGTH:
        return EspOpened(
            spi=spi,
            seq_low=seq_low,
            icv_ok=icv_ok,
            syntax_errors=(SYNTAX_NO_TRAILER,),
            region_offset=region_offset,
            region=plaintext,
        )
    pad_length = plaintext[-2]
    next_header = plaintext[-1]
    if pad_length > size - TRAILER_LENGTH:
        return EspOpened(
            spi=spi,
            seq_low=seq_low,
            icv_ok=icv_ok,
            syntax_errors=(SYNTAX_PAD_TOO_LONG,),
            pad_length=pad_length,
            next_header=next_header,
            region_offset=region_offset,
            region=plaintext,
        )
    payload_end = size - TRAILER_LENGTH - pad_length
    pad = plaintext[payload_end : size - TRAILER_LENGTH]
    return EspOpened(
        spi=spi,
        seq_low=seq_low,
        icv_ok=icv_ok,
        pad_content_ok=pad == default_pad(pad_length),
        payload=plaintext[:payload_end],
        pad=pad,
        pad_length=pad_length,
        next_header=next_header,
        region_offset=region_offset,
        region=plaintext,
    )
