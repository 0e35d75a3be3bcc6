"""The cryptographic primitives of ESP and AH, and the only module of the project that calls ``cryptography``.

IETF-HMAC, IETF-GCM, IETF-GMAC, IETF-CBC (and DES/3DES, whose details the spec leaves UNCONFIRMED: 8-byte block and
IV, 8- and 24-byte keys, RFC 2405/2451). The codecs (``reference_model.wire.*``) build the byte strings the
algorithms cover; this module only turns keys and bytes into tags and ciphertexts.

Why it looks the way it does: the judge re-computes thousands of frames per run, so per-packet object creation is the
cost to avoid. Keyed objects are cached per key (``functools.lru_cache`` on ``bytes`` keys) and the per-packet work is
one or two calls into the library:

- HMAC: a keyed ``HMAC`` object per key; each packet ``copy()``-ies it (the key schedule is not redone).
- AES-GCM and AES-GMAC: one ``AESGCM`` object per key. Truncated ICVs (8 or 12 bytes, RFC 4106 section 6) are handled
  by computing the full 16-byte tag and comparing its prefix in constant time; the plaintext of a truncated-tag packet
  is recovered with ``AESGCM.encrypt`` over the ciphertext, because GCM encryption is a counter-mode XOR, so encrypting
  the ciphertext under the same nonce gives back the plaintext (the tag of that call is discarded). This is several
  times faster than the ``Cipher``/``modes.GCM(min_tag_length=...)`` API, which builds new objects per packet.
- CBC (AES, DES, 3DES): one streaming CBC context per key and direction, kept across packets behind a lock. Its
  chaining value after a packet is that packet's last ciphertext block; decryption feeds the packet's IV as an extra
  leading block (whose output is dropped) so the chain restarts at the IV, and encryption XORs the first plaintext
  block with IV XOR the old chaining value. Both give exactly RFC 3602 CBC with the packet's IV.

A key of the wrong length raises ``ValueError`` (from ``cryptography`` or from the checks here); everything else
about the bytes is accepted.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from hmac import compare_digest

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from reference_model.algorithms import ENCRYPTION, GCM_IV_LENGTH, GCM_SALT_LENGTH
from reference_model.constants import AuthenticationAlgorithm, EncryptionAlgorithm

GCM_TAG_LENGTH = 16
"""The full GHASH tag; shorter ICVs are its leftmost bytes (RFC 4106 section 6)."""
_CACHE_SIZE = 4096


# --------------------------------------------------------------------------------------------------------------------
# HMAC (IETF-HMAC): RFC 2403 / 2404 / 4868, truncated to the leftmost ICV bytes.

_HMAC_HASHES: dict[AuthenticationAlgorithm, type[hashes.HashAlgorithm]] = {
    AuthenticationAlgorithm.MD5: hashes.MD5,
    AuthenticationAlgorithm.SHA_1: hashes.SHA1,
    AuthenticationAlgorithm.SHA_256: hashes.SHA256,
}


@lru_cache(maxsize=_CACHE_SIZE)
def _hmac_base(algorithm: AuthenticationAlgorithm, key: bytes) -> hmac.HMAC:
    if algorithm not in _HMAC_HASHES:
        raise ValueError(f"{algorithm!r} is not an HMAC algorithm")
    return hmac.HMAC(key, _HMAC_HASHES[algorithm]())


def hmac_icv(algorithm: AuthenticationAlgorithm, key: bytes, *chunks: bytes | memoryview, length: int) -> bytes:
    """HMAC over the concatenation of ``chunks``, truncated to ``length`` bytes (the leftmost bits, IETF-HMAC).

    Any key length is accepted, as HMAC itself allows; the SA checks decide whether the length is the RFC one.
    """
    h = _hmac_base(algorithm, key).copy()
    for chunk in chunks:
        h.update(chunk)
    return h.finalize()[:length]


# --------------------------------------------------------------------------------------------------------------------
# AES-GCM (IETF-GCM, RFC 4106) and AES-GMAC (IETF-GMAC, RFC 4543)


@lru_cache(maxsize=_CACHE_SIZE)
def _aesgcm(key: bytes) -> AESGCM:
    return AESGCM(key)


def gcm_nonce(salt: bytes, iv: bytes | memoryview) -> bytes:
    """RFC 4106 section 4: 4-byte salt followed by the 8-byte explicit IV; other lengths raise ``ValueError``."""
    if len(salt) != GCM_SALT_LENGTH:
        raise ValueError(f"GCM/GMAC salt must be {GCM_SALT_LENGTH} bytes, got {len(salt)}")
    if len(iv) != GCM_IV_LENGTH:
        raise ValueError(f"GCM/GMAC IV must be {GCM_IV_LENGTH} bytes, got {len(iv)}")
    return salt + bytes(iv)


def _check_tag_length(icv_length: int) -> None:
    if not 1 <= icv_length <= GCM_TAG_LENGTH:
        raise ValueError(f"GCM/GMAC ICV length must be 1..{GCM_TAG_LENGTH} bytes, got {icv_length}")


def gcm_seal(
    key: bytes, salt: bytes, *, iv: bytes | memoryview, plaintext: bytes | memoryview, aad: bytes, icv_length: int
) -> bytes:
    """AES-GCM encryption: ciphertext followed by the ``icv_length`` leftmost bytes of the tag."""
    _check_tag_length(icv_length)
    sealed = _aesgcm(key).encrypt(gcm_nonce(salt, iv), plaintext, aad)
    if icv_length == GCM_TAG_LENGTH:
        return sealed
    return sealed[: len(sealed) - GCM_TAG_LENGTH + icv_length]


def gcm_open(
    key: bytes, salt: bytes, *, iv: bytes | memoryview, sealed: bytes | memoryview, icv_length: int, aad: bytes
) -> bytes | None:
    """AES-GCM combined decrypt+verify of ``sealed`` = ciphertext | ICV (as on the wire); None when the ICV fails.

    ``icv_length`` is 1..16 (the RFC allows 8, 12, 16); ``sealed`` shorter than the ICV raises ``ValueError``. A
    16-byte ICV uses the library's own check; a shorter one is compared as the prefix of the recomputed full tag (see
    the module docstring).
    """
    _check_tag_length(icv_length)
    if len(sealed) < icv_length:
        raise ValueError(f"sealed data of {len(sealed)} bytes cannot hold a {icv_length}-byte ICV")
    aead = _aesgcm(key)
    nonce = gcm_nonce(salt, iv)
    if icv_length == GCM_TAG_LENGTH:
        try:
            return aead.decrypt(nonce, sealed, aad)
        except InvalidTag:
            return None
    split = len(sealed) - icv_length
    # Counter-mode XOR: encrypting the ciphertext yields the plaintext (the tag of that call is meaningless).
    plaintext = aead.encrypt(nonce, sealed[:split], None)[:-GCM_TAG_LENGTH]
    tag = aead.encrypt(nonce, plaintext, aad)[-GCM_TAG_LENGTH:]
    return plaintext if compare_digest(tag[:icv_length], bytes(sealed[split:])) else None


def gmac_tag(key: bytes, salt: bytes, *, iv: bytes | memoryview, aad: bytes | memoryview, icv_length: int) -> bytes:
    """AES-GMAC (RFC 4543 section 2): the GCM tag with everything as AAD and an empty plaintext, truncated."""
    _check_tag_length(icv_length)
    return _aesgcm(key).encrypt(gcm_nonce(salt, iv), b"", aad)[:icv_length]


def icv_equal(expected: bytes, received: bytes | memoryview) -> bool:
    """Constant-time comparison of two ICVs (a length mismatch is simply unequal)."""
    return compare_digest(expected, bytes(received))


# --------------------------------------------------------------------------------------------------------------------
# CBC block ciphers (IETF-CBC, RFC 3602; DES/3DES per RFC 2405/2451)

CBC_CIPHERS = (
    EncryptionAlgorithm.DES_CBC,
    EncryptionAlgorithm.TRIPLE_DES_CBC,
    EncryptionAlgorithm.AES_CBC_128,
    EncryptionAlgorithm.AES_CBC_192,
    EncryptionAlgorithm.AES_CBC_256,
)


def _block_cipher(algorithm: EncryptionAlgorithm, key: bytes) -> algorithms.AES | TripleDES:
    params = ENCRYPTION.get(algorithm)
    if params is None or algorithm not in CBC_CIPHERS:
        raise ValueError(f"{algorithm!r} is not a CBC cipher")
    if len(key) != params.key_length:
        raise ValueError(f"{params.wire_name} needs a {params.key_length}-byte key, got {len(key)}")
    if algorithm is EncryptionAlgorithm.DES_CBC:
        # Single DES is 3DES-EDE with K1 = K2 = K3 (the 8-byte form of TripleDES is deprecated in cryptography).
        return TripleDES(key * 3)
    if algorithm is EncryptionAlgorithm.TRIPLE_DES_CBC:
        return TripleDES(key)
    return algorithms.AES(key)


class _CbcChain:
    """A streaming CBC context reused across packets; ``last`` is its current chaining value."""

    __slots__ = ("block", "context", "last", "lock")

    def __init__(self, context: CipherContext, block: int) -> None:
        self.context = context
        self.block = block
        self.last = bytes(block)
        self.lock = threading.Lock()


@lru_cache(maxsize=_CACHE_SIZE)
def _cbc_chain(algorithm: EncryptionAlgorithm, key: bytes, decrypt: bool) -> _CbcChain:
    cipher = _block_cipher(algorithm, key)
    block = cipher.block_size // 8
    mode = modes.CBC(bytes(block))
    context = Cipher(cipher, mode).decryptor() if decrypt else Cipher(cipher, mode).encryptor()
    return _CbcChain(context, block)


def cbc_block_size(algorithm: EncryptionAlgorithm) -> int:
    return ENCRYPTION[algorithm].block_size


def cbc_encrypt(algorithm: EncryptionAlgorithm, key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    """CBC encryption without padding; ``plaintext`` must be a whole number of blocks (else ``ValueError``)."""
    chain = _cbc_chain(algorithm, key, False)
    block = chain.block
    if len(iv) != block:
        raise ValueError(f"CBC IV must be {block} bytes, got {len(iv)}")
    if len(plaintext) % block:
        raise ValueError(f"CBC plaintext of {len(plaintext)} bytes is not a multiple of {block}")
    if not plaintext:
        return b""
    with chain.lock:
        # C1 = E(P1 xor IV); the context XORs with its chaining value ``last``, so pre-XOR that away.
        first = int.from_bytes(plaintext[:block], "big") ^ int.from_bytes(iv, "big") ^ int.from_bytes(chain.last, "big")
        out = chain.context.update(first.to_bytes(block, "big") + plaintext[block:])
        chain.last = out[-block:]
    return out


def cbc_decrypt(
    algorithm: EncryptionAlgorithm, key: bytes, iv: bytes | memoryview, ciphertext: bytes | memoryview
) -> bytes:
    """CBC decryption without unpadding; ``ciphertext`` must be a whole number of blocks (else ``ValueError``)."""
    chain = _cbc_chain(algorithm, key, True)
    block = chain.block
    if len(iv) != block:
        raise ValueError(f"CBC IV must be {block} bytes, got {len(iv)}")
    if len(ciphertext) % block:
        raise ValueError(f"CBC ciphertext of {len(ciphertext)} bytes is not a multiple of {block}")
    if not ciphertext:
        return b""
    with chain.lock:
        # Feeding the IV as a leading ciphertext block makes it the chaining value for the packet's first block.
        out = chain.context.update(bytes(iv) + bytes(ciphertext))
    return out[block:]
