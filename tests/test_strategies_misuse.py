"""Strategy misuse raises ``InvalidArgument`` up front, with a message that says what to change."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis.errors import InvalidArgument

from reference_model.constants import AuthenticationAlgorithm, EncryptionAlgorithm, UdpEspEncapsulation
from reference_model.ndis import Capabilities
from strategies import (
    EVERYTHING,
    MINIMAL,
    SaTable,
    bursts,
    capabilities,
    corruptions,
    frames,
    sa_tables,
    scenarios,
    security_associations,
)

NO_ALGORITHMS = replace(
    EVERYTHING,
    authentication_algorithms=AuthenticationAlgorithm(0),
    encryption_algorithms=EncryptionAlgorithm(0),
)


@pytest.mark.parametrize(
    "call",
    [
        lambda: security_associations(caps=NO_ALGORITHMS),
        lambda: sa_tables(caps=NO_ALGORITHMS),
        lambda: scenarios(caps=NO_ALGORITHMS),
        lambda: frames(sa_table=SaTable(entries=()), caps=NO_ALGORITHMS),
    ],
)
def test_capabilities_without_algorithms_rejected_with_advice(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidArgument, match=r"no usable algorithm.*Add bits"):
        call()


def test_capabilities_without_protocols_rejected() -> None:
    with pytest.raises(InvalidArgument, match="neither ah nor esp"):
        security_associations(caps=replace(EVERYTHING, ah=False, esp=False))


def test_protection_not_claimed_rejected() -> None:
    with pytest.raises(InvalidArgument, match="protection='ah' is not possible"):
        security_associations(caps=MINIMAL, protection="ah")


def test_ipv6_not_claimed_rejected() -> None:
    with pytest.raises(InvalidArgument, match="ipv6_supported is False"):
        security_associations(caps=MINIMAL, ipv6=True)


def test_udp_esp_subtype_not_claimed_rejected() -> None:
    with pytest.raises(InvalidArgument, match="not claimed"):
        security_associations(caps=MINIMAL, udp_esp=UdpEspEncapsulation.TRANSPORT)


def test_capacity_bounds_swapped_rejected() -> None:
    with pytest.raises(InvalidArgument, match="swap them"):
        capabilities(min_capacity=8, max_capacity=2)


def test_frames_need_a_table() -> None:
    with pytest.raises(InvalidArgument, match=r"sa_table=.*must be a SaTable"):
        frames(sa_table=[], caps=EVERYTHING)  # type: ignore[arg-type]


def test_frames_without_usable_bundle_and_without_unmatched_rejected() -> None:
    with pytest.raises(InvalidArgument, match="no frame can be built"):
        frames(sa_table=SaTable(entries=()), caps=EVERYTHING, unmatched=False)


def test_bursts_need_an_inbound_bundle() -> None:
    with pytest.raises(InvalidArgument, match="bursts\\(\\) needs an inbound bundle"):
        bursts(sa_table=SaTable(entries=()), caps=EVERYTHING)


def test_ipv6_table_with_ipv4_only_caps_rejected() -> None:
    import ipaddress

    from reference_model.constants import Operation
    from reference_model.ndis import AddSaEntry, EncryptionSpec, SecAssoc

    entry = AddSaEntry(
        sa_id=1, inbound=True, ipv6=True, src=ipaddress.IPv6Address("2001:db8::1"),
        dst=ipaddress.IPv6Address("2001:db8::2"),
        sec_assoc=(SecAssoc(operation=Operation.ESP, spi=256, encryption=EncryptionSpec(
            algorithm=EncryptionAlgorithm.AES_GCM_128, key=bytes(16), salt=bytes(4), icv_length=16)),),
    )
    with pytest.raises(InvalidArgument, match="generate the table with the same caps"):
        frames(sa_table=SaTable(entries=(entry,)), caps=MINIMAL)


def test_corruptions_need_a_generated_frame() -> None:
    with pytest.raises(InvalidArgument, match="must be a GeneratedFrame"):
        corruptions(frame=b"\x00" * 60)  # type: ignore[arg-type]


def test_minimal_and_everything_are_consistent() -> None:
    """The two named NICs satisfy CAP-CONSISTENCY & co (the strategies' own inputs must be valid)."""
    assert EVERYTHING.inconsistencies() == []
    assert MINIMAL.inconsistencies() == []
    assert isinstance(EVERYTHING, Capabilities)
