"""``reference_model.crypto`` against independent computations (stdlib ``hmac``, fresh ``cryptography`` objects).

The module caches keyed objects and reuses streaming CBC contexts across packets; these tests recompute each result
the plain way, one fresh object per call, so a chaining or caching mistake shows up as a mismatch.
"""

from __future__ import annotations

import hashlib
import hmac as std_hmac
import warnings

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from reference_model import crypto
from reference_model.algorithms import ENCRYPTION
from reference_model.constants import AuthenticationAlgorithm as A
from reference_model.constants import EncryptionAlgorithm as E

STD_HASHES = {A.MD5: hashlib.md5, A.SHA_1: hashlib.sha1, A.SHA_256: hashlib.sha256}
ICV = {A.MD5: 12, A.SHA_1: 12, A.SHA_256: 16}


def blocks(block: int, max_blocks: int = 20) -> st.SearchStrategy[bytes]:
    return st.integers(0, max_blocks).flatmap(lambda n: st.binary(min_size=n * block, max_size=n * block))


def fixed(n: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=n, max_size=n)


def reference_block_cipher(algorithm: E, key: bytes) -> algorithms.AES | TripleDES:
    if algorithm is E.DES_CBC:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the 8-byte (single DES) form is deprecated but still the definition
            return TripleDES(key)
    if algorithm is E.TRIPLE_DES_CBC:
        return TripleDES(key)
    return algorithms.AES(key)


@pytest.mark.clause("IETF-HMAC")
@pytest.mark.parametrize("algorithm", list(STD_HASHES), ids=lambda a: a.name)
@given(key=st.binary(min_size=1, max_size=40), chunks=st.lists(st.binary(max_size=300), max_size=4))
def test_hmac_icv_equals_stdlib_truncated(algorithm: A, key: bytes, chunks: list[bytes]) -> None:
    expected = std_hmac.new(key, b"".join(chunks), STD_HASHES[algorithm]).digest()[: ICV[algorithm]]
    assert crypto.hmac_icv(algorithm, key, *chunks, length=ICV[algorithm]) == expected


@pytest.mark.clause("IETF-CBC")
@pytest.mark.parametrize("algorithm", [E.AES_CBC_128, E.AES_CBC_192, E.AES_CBC_256, E.DES_CBC, E.TRIPLE_DES_CBC])
@given(data=st.data())
def test_cbc_matches_fresh_cipher_across_packets(algorithm: E, data: st.DataObject) -> None:
    """Several packets under one key (the cached chain carries state between them) each equal a fresh CBC."""
    params = ENCRYPTION[algorithm]
    key = data.draw(fixed(params.key_length))
    for _ in range(data.draw(st.integers(1, 4))):
        iv = data.draw(fixed(params.block_size))
        plaintext = data.draw(blocks(params.block_size))
        reference = Cipher(reference_block_cipher(algorithm, key), modes.CBC(iv))
        encryptor = reference.encryptor()
        expected = encryptor.update(plaintext) + encryptor.finalize()
        assert crypto.cbc_encrypt(algorithm, key, iv, plaintext) == expected
        assert crypto.cbc_decrypt(algorithm, key, iv, expected) == plaintext


@pytest.mark.clause("IETF-CBC")
def test_cbc_rejects_partial_blocks_and_wrong_keys() -> None:
    with pytest.raises(ValueError, match="multiple"):
        crypto.cbc_encrypt(E.AES_CBC_128, bytes(16), bytes(16), bytes(15))
    with pytest.raises(ValueError, match="multiple"):
        crypto.cbc_decrypt(E.DES_CBC, bytes(8), bytes(8), bytes(9))
    with pytest.raises(ValueError, match="key"):
        crypto.cbc_encrypt(E.AES_CBC_256, bytes(16), bytes(16), bytes(16))


@pytest.mark.clause("IETF-GCM")
@pytest.mark.parametrize("key_length", [16, 24, 32])
@pytest.mark.parametrize("icv_length", [8, 12, 16])
@given(data=st.data())
def test_gcm_seal_and_open_match_the_gcm_mode_with_truncated_tags(
    key_length: int, icv_length: int, data: st.DataObject
) -> None:
    key, salt, iv = data.draw(fixed(key_length)), data.draw(fixed(4)), data.draw(fixed(8))
    plaintext, aad = data.draw(st.binary(max_size=300)), data.draw(st.binary(min_size=8, max_size=12))
    encryptor = Cipher(algorithms.AES(key), modes.GCM(salt + iv)).encryptor()
    encryptor.authenticate_additional_data(aad)
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    expected = ciphertext + encryptor.tag[:icv_length]
    sealed = crypto.gcm_seal(key, salt, iv=iv, plaintext=plaintext, aad=aad, icv_length=icv_length)
    assert sealed == expected

    assert crypto.gcm_open(key, salt, iv=iv, sealed=expected, icv_length=icv_length, aad=aad) == plaintext
    bit = data.draw(st.integers(len(ciphertext) * 8, len(expected) * 8 - 1))
    bad = bytearray(expected)
    bad[bit // 8] ^= 1 << (bit % 8)
    assert crypto.gcm_open(key, salt, iv=iv, sealed=bytes(bad), icv_length=icv_length, aad=aad) is None
    assert crypto.gcm_open(key, salt, iv=iv, sealed=expected, icv_length=icv_length, aad=aad + b"\x00") is None
    with pytest.raises(ValueError, match="cannot hold"):
        crypto.gcm_open(key, salt, iv=iv, sealed=expected[: icv_length - 1], icv_length=icv_length, aad=aad)


@pytest.mark.clause("IETF-GMAC")
@pytest.mark.parametrize("key_length", [16, 24, 32])
@given(data=st.data())
def test_gmac_tag_is_gcm_tag_over_aad_only(key_length: int, data: st.DataObject) -> None:
    key, salt, iv = data.draw(fixed(key_length)), data.draw(fixed(4)), data.draw(fixed(8))
    aad = data.draw(st.binary(max_size=300))
    encryptor = Cipher(algorithms.AES(key), modes.GCM(salt + iv)).encryptor()
    encryptor.authenticate_additional_data(aad)
    encryptor.finalize()
    assert crypto.gmac_tag(key, salt, iv=iv, aad=aad, icv_length=16) == encryptor.tag


@pytest.mark.clause("IETF-GCM")
def test_gcm_nonce_needs_four_byte_salt_and_eight_byte_iv() -> None:
    assert crypto.gcm_nonce(b"abcd", b"01234567") == b"abcd01234567"
    with pytest.raises(ValueError, match="salt"):
        crypto.gcm_nonce(b"abc", b"01234567")
    with pytest.raises(ValueError, match="IV"):
        crypto.gcm_nonce(b"abcd", b"0123456")


def test_icv_equal_compares_content_and_length() -> None:
    assert crypto.icv_equal(b"abc", memoryview(b"abc"))
    assert not crypto.icv_equal(b"abc", b"abd")
    assert not crypto.icv_equal(b"abc", b"ab")
