"""The interpretation profile: the spec's genuinely open readings (section 8, AMB-*) as switches.

Why a profile: where the sources are silent or contradict each other, the model takes the documented reading, but a
vendor whose driver follows another defensible reading must be able to say so and get a report that still means
something. The switches live in a small TOML file; the documented defaults are ``default-profile.toml`` (package
data, read with :mod:`importlib.resources`). The CLI reads a user's file and passes its text to ``load_profile``;
nothing here touches the file system except reading that package resource.

Unknown keys and wrong types are refused with a ``ProfileError`` naming the key: a typo in a profile must not silently
fall back to a default and change a verdict.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from typing import Any, Literal, get_args

SpiByteOrder = Literal["network", "host"]
IcvLengthUnit = Literal["bytes", "bits"]
EsnWrap = Literal["configured-only", "allow-inferred"]

MIN_REPLAY_WINDOW = 32
"""IETF-REPLAY: a receiver must support a window of at least 32 packets."""

DEFAULT_PROFILE_RESOURCE = "default-profile.toml"


class ProfileError(ValueError):
    """A profile text that is not valid TOML, has an unknown key, or a value of the wrong type; names the key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InterpretationProfile:
    """The readings in force. Defaults equal ``default-profile.toml`` (a test keeps them in step)."""

    spi_byte_order: SpiByteOrder = "network"
    """AMB-13: how an adapter packs ``Spi`` for a real driver. The model compares SPIs as numbers."""
    gcm_key_includes_salt: bool = True
    """AMB-19: GCM/GMAC ``KeyLength`` covers key || 4-byte salt (an adapter concern, recorded in reports)."""
    gcm_icv_length_unit: IcvLengthUnit = "bytes"
    """AMB-19: unit of ``AdditionalInfo`` for the GCM ICV length (an adapter concern, recorded in reports)."""
    require_pad_check: bool = False
    """AMB-08: False lets CRYPTO_SUCCESS stand for a frame whose only fault is its ESP pad content."""
    esn_wrap: EsnWrap = "configured-only"
    """AMB-16: whether success under an inferred Seqh (configured +/- 1) is an alternative or equally conforming."""
    replay_window: int = 64
    """IETF-REPLAY: anti-replay window of the transport model."""

    def to_dict(self) -> dict[str, object]:
        """Key -> value, in declaration order, for reports (the profile in force is printed in every report)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_toml(self) -> str:
        """The profile as TOML text that ``load_profile`` reads back to an equal profile."""
        lines = []
        for key, value in self.to_dict().items():
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, int):
                text = str(value)
            else:
                text = f'"{value}"'
            lines.append(f"{key} = {text}")
        return "\n".join(lines) + "\n"


_CHOICES: dict[str, tuple[object, ...]] = {
    "spi_byte_order": get_args(SpiByteOrder),
    "gcm_icv_length_unit": get_args(IcvLengthUnit),
    "esn_wrap": get_args(EsnWrap),
}
_TYPES: dict[str, type] = {
    "spi_byte_order": str,
    "gcm_key_includes_salt": bool,
    "gcm_icv_length_unit": str,
    "require_pad_check": bool,
    "esn_wrap": str,
    "replay_window": int,
}


def _check(key: str, value: Any) -> object:
    expected = _TYPES[key]
    # bool is a subclass of int: "replay_window = true" must not pass as 1.
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ProfileError(f"profile key {key!r}: expected {expected.__name__}, got {type(value).__name__} {value!r}")
    choices = _CHOICES.get(key)
    if choices is not None and value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ProfileError(f"profile key {key!r}: {value!r} is not one of {options}")
    if key == "replay_window" and isinstance(value, int) and value < MIN_REPLAY_WINDOW:
        raise ProfileError(
            f"profile key 'replay_window': {value} is below the minimum {MIN_REPLAY_WINDOW} (IETF-REPLAY)"
        )
    return value


def parse_profile(text: str, *, base: InterpretationProfile | None = None) -> InterpretationProfile:
    """``base`` (the built-in defaults when None) with the keys of TOML ``text`` applied."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - set(_TYPES))
    if unknown:
        known = ", ".join(sorted(_TYPES))
        raise ProfileError(f"unknown profile key {unknown[0]!r} (known keys: {known})")
    values = (base or InterpretationProfile()).to_dict()
    values.update({key: _check(key, value) for key, value in data.items()})
    return InterpretationProfile(**values)  # type: ignore[arg-type]


@cache
def default_profile() -> InterpretationProfile:
    """The documented defaults, read from the package's ``default-profile.toml``."""
    text = resources.files("reference_model").joinpath(DEFAULT_PROFILE_RESOURCE).read_text(encoding="utf-8")
    return parse_profile(text)


def load_profile(text: str | None) -> InterpretationProfile:
    """The profile for a run: the defaults when ``text`` is None, else the defaults overridden by ``text``."""
    if text is None:
        return default_profile()
    return parse_profile(text, base=default_profile())
