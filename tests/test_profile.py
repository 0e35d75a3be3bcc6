"""The interpretation profile (reference_model.profile): defaults, overrides, and refusals that name the key."""

from __future__ import annotations

import pytest

from reference_model.profile import InterpretationProfile, ProfileError, default_profile, load_profile


def test_default_profile_loads_from_package_data() -> None:
    profile = load_profile(None)
    assert profile == default_profile()
    assert profile.esn_wrap == "configured-only"
    assert profile.require_pad_check is False


def test_default_profile_equals_dataclass_defaults() -> None:
    # The TOML file documents the defaults; the dataclass must not drift from it.
    assert default_profile() == InterpretationProfile()


@pytest.mark.clause("AMB-08")
def test_load_profile_override_applies_one_key() -> None:
    profile = load_profile("require_pad_check = true\n")
    assert profile.require_pad_check is True
    assert profile.spi_byte_order == default_profile().spi_byte_order


@pytest.mark.clause("AMB-13")
def test_load_profile_unknown_key_names_it() -> None:
    with pytest.raises(ProfileError, match="spi_byteorder"):
        load_profile('spi_byteorder = "host"\n')


@pytest.mark.clause("AMB-19")
def test_load_profile_wrong_type_names_key() -> None:
    with pytest.raises(ProfileError, match="gcm_key_includes_salt"):
        load_profile('gcm_key_includes_salt = "yes"\n')


@pytest.mark.clause("AMB-16")
def test_load_profile_bad_choice_names_key_and_options() -> None:
    with pytest.raises(ProfileError, match=r"esn_wrap.*configured-only"):
        load_profile('esn_wrap = "guess"\n')


@pytest.mark.clause("IETF-REPLAY")
def test_load_profile_replay_window_below_minimum_refused() -> None:
    with pytest.raises(ProfileError, match="replay_window"):
        load_profile("replay_window = 16\n")
    with pytest.raises(ProfileError, match="replay_window"):
        load_profile("replay_window = true\n")


def test_load_profile_invalid_toml_refused() -> None:
    with pytest.raises(ProfileError, match="TOML"):
        load_profile("spi_byte_order = \n")


def test_profile_to_toml_round_trips() -> None:
    profile = InterpretationProfile(spi_byte_order="host", esn_wrap="allow-inferred", replay_window=128)
    assert load_profile(profile.to_toml()) == profile
