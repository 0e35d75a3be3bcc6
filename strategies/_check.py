"""Up-front argument checks: misuse raises ``InvalidArgument`` with a message that says what to change."""

from __future__ import annotations

from hypothesis.errors import InvalidArgument

from reference_model.constants import EncryptionAlgorithm
from reference_model.ndis import Capabilities


def check_type(name: str, value: object, expected: type | tuple[type, ...]) -> None:
    if not isinstance(value, expected):
        want = expected.__name__ if isinstance(expected, type) else " or ".join(t.__name__ for t in expected)
        raise InvalidArgument(f"{name}={value!r:.80} must be a {want}")


def check_caps(caps: object) -> Capabilities:
    """Capabilities that some SA can be generated for; anything else is a usage error, said plainly."""
    check_type("caps", caps, Capabilities)
    assert isinstance(caps, Capabilities)
    if not (caps.ah or caps.esp):
        raise InvalidArgument("caps claims neither ah nor esp: nothing can be offloaded; set ah=True or esp=True")
    if not (ah_feasible(caps) or esp_feasible(caps)):
        raise InvalidArgument(
            "caps has no usable algorithm: AH needs an AuthenticationAlgorithm bit; ESP needs an EncryptionAlgorithm "
            "bit other than NONE, or NONE plus an AuthenticationAlgorithm bit. Add bits to "
            f"authentication_algorithms={caps.authentication_algorithms!r} / "
            f"encryption_algorithms={caps.encryption_algorithms!r}"
        )
    if not caps.tunnel and not caps.transport:
        raise InvalidArgument("caps claims neither tunnel nor transport: no frame could be processed; set tunnel=True")
    if caps.sa_offload_capacity < 1:
        raise InvalidArgument("caps.sa_offload_capacity is 0: no SA can be offloaded; report at least 1")
    return caps


def ah_feasible(caps: Capabilities) -> bool:
    """An AH entry can be built: AH claimed and at least one authentication algorithm (SA-AH-ENTRY)."""
    return caps.ah and bool(caps.authentication_algorithms)


def esp_feasible(caps: Capabilities) -> bool:
    """An ESP entry can be built: a real cipher, or NULL encryption with an authentication algorithm (SA-ESP-ENTRY)."""
    if not caps.esp:
        return False
    enc = caps.encryption_algorithms
    real_cipher = bool(enc & ~EncryptionAlgorithm.NONE)
    return real_cipher or bool(enc & EncryptionAlgorithm.NONE and caps.authentication_algorithms)


def check_size(name: str, value: object, *, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidArgument(f"{name}={value!r:.40} must be an integer in {lo}..{hi}")
    return value
