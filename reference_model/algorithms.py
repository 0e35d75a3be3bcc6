"""Sizes of every IPsecOV2 algorithm: key, salt, ICV, IV and block length, in one table.

Sources: IETF-HMAC (RFC 2403/2404/4868), IETF-CBC (RFC 3602), IETF-GCM (RFC 4106), IETF-GMAC (RFC 4543),
IETF-NULL (RFC 2410), IETF-ICV-LENGTHS. DES/3DES details are UNCONFIRMED in the spec (section 7.3); the values here
are the usual ones (RFC 2405/2451: 8-byte block and IV, 8- and 24-byte keys).

The key lengths are the cipher key without the 4-byte GCM/GMAC salt; the adapter protocol carries the salt separately
(AMB-19 decides how a driver receives them).
"""

from __future__ import annotations

from dataclasses import dataclass

from reference_model.constants import AuthenticationAlgorithm, EncryptionAlgorithm

GCM_SALT_LENGTH = 4
GCM_IV_LENGTH = 8
GCM_ICV_LENGTHS = (8, 12, 16)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlgorithmParams:
    """What a codec and a generator need to know about one algorithm identifier."""

    wire_name: str
    key_length: int
    salt_length: int = 0
    icv_lengths: tuple[int, ...] = ()
    """Allowed ICV lengths in bytes; the first is the default. Empty for confidentiality-only ciphers."""
    iv_length: int = 0
    block_size: int = 4
    """The cipher block size for padding (RFC 4303 section 2.4); 4 where only the 4-byte alignment applies."""
    combined_mode: bool = False
    """AES-GCM: encryption and integrity in one algorithm, carried in ``encryption`` alone (MS-SA)."""
    gmac: bool = False
    """AES-GMAC integrity (RFC 4543): needs an IV and a salt like GCM but encrypts nothing."""


AUTHENTICATION: dict[AuthenticationAlgorithm, AlgorithmParams] = {
    AuthenticationAlgorithm.MD5: AlgorithmParams(wire_name="MD5", key_length=16, icv_lengths=(12,)),
    AuthenticationAlgorithm.SHA_1: AlgorithmParams(wire_name="SHA_1", key_length=20, icv_lengths=(12,)),
    AuthenticationAlgorithm.SHA_256: AlgorithmParams(wire_name="SHA_256", key_length=32, icv_lengths=(16,)),
    AuthenticationAlgorithm.AES_GCM_128: AlgorithmParams(
        wire_name="AES_GCM_128", key_length=16, salt_length=4, icv_lengths=(16,), iv_length=8, gmac=True
    ),
    AuthenticationAlgorithm.AES_GCM_192: AlgorithmParams(
        wire_name="AES_GCM_192", key_length=24, salt_length=4, icv_lengths=(16,), iv_length=8, gmac=True
    ),
    AuthenticationAlgorithm.AES_GCM_256: AlgorithmParams(
        wire_name="AES_GCM_256", key_length=32, salt_length=4, icv_lengths=(16,), iv_length=8, gmac=True
    ),
}

ENCRYPTION: dict[EncryptionAlgorithm, AlgorithmParams] = {
    EncryptionAlgorithm.NONE: AlgorithmParams(wire_name="NONE", key_length=0),
    EncryptionAlgorithm.DES_CBC: AlgorithmParams(wire_name="DES_CBC", key_length=8, iv_length=8, block_size=8),
    EncryptionAlgorithm.TRIPLE_DES_CBC: AlgorithmParams(
        wire_name="3_DES_CBC", key_length=24, iv_length=8, block_size=8
    ),
    EncryptionAlgorithm.AES_GCM_128: AlgorithmParams(
        wire_name="AES_GCM_128", key_length=16, salt_length=4, icv_lengths=(16, 12, 8), iv_length=8,
        combined_mode=True,
    ),
    EncryptionAlgorithm.AES_GCM_192: AlgorithmParams(
        wire_name="AES_GCM_192", key_length=24, salt_length=4, icv_lengths=(16, 12, 8), iv_length=8,
        combined_mode=True,
    ),
    EncryptionAlgorithm.AES_GCM_256: AlgorithmParams(
        wire_name="AES_GCM_256", key_length=32, salt_length=4, icv_lengths=(16, 12, 8), iv_length=8,
        combined_mode=True,
    ),
    EncryptionAlgorithm.AES_CBC_128: AlgorithmParams(
        wire_name="AES_CBC_128", key_length=16, iv_length=16, block_size=16
    ),
    EncryptionAlgorithm.AES_CBC_192: AlgorithmParams(
        wire_name="AES_CBC_192", key_length=24, iv_length=16, block_size=16
    ),
    EncryptionAlgorithm.AES_CBC_256: AlgorithmParams(
        wire_name="AES_CBC_256", key_length=32, iv_length=16, block_size=16
    ),
}

AUTHENTICATION_BY_NAME: dict[str, AuthenticationAlgorithm] = {p.wire_name: a for a, p in AUTHENTICATION.items()}
ENCRYPTION_BY_NAME: dict[str, EncryptionAlgorithm] = {p.wire_name: a for a, p in ENCRYPTION.items()}
