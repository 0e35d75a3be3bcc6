"""``capabilities()``: reported ``NDIS_IPSEC_OFFLOAD_V2`` structures, from "everything" down to minimal NICs.

Every drawn value is consistent (CAP-CONSISTENCY, CAP-TUNNEL-TRUE, CAP-ENCAP-8023, CAP-SACAPACITY) and offers at least
one SA that can be built, so downstream strategies never need to filter. Each choice is drawn as "drop this
capability", so shrinking goes toward the NIC that claims everything: a failure found on a minimal NIC shrinks to the
smallest set of missing capabilities that still shows it.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from reference_model.constants import (
    ALL_AUTHENTICATION,
    ALL_ENCRYPTION,
    AuthenticationAlgorithm,
    Encapsulation,
    EncryptionAlgorithm,
    UdpEspEncapsulation,
)
from reference_model.ndis import Capabilities
from strategies._check import check_size
from strategies._draw import BOOLEANS, integers, pick

_AUTH_BITS = tuple(AuthenticationAlgorithm(b) for b in (1, 2, 4, 8, 16, 32))
_ENC_BITS = tuple(EncryptionAlgorithm(1 << i) for i in range(9))
_UDP_BITS = tuple(UdpEspEncapsulation(1 << i) for i in range(4))
_EXTRA_ENCAP = (
    Encapsulation.IEEE_802_3_P_AND_Q,
    Encapsulation.NULL,
    Encapsulation.IEEE_802_3_P_AND_Q_IN_OOB,
    Encapsulation.IEEE_LLC_SNAP_ROUTED,
)

EVERYTHING = Capabilities(encapsulation=Encapsulation.IEEE_802_3 | Encapsulation.IEEE_802_3_P_AND_Q)
"""A NIC that claims every capability (VLAN tags included)."""

MINIMAL = Capabilities(
    encapsulation=Encapsulation.IEEE_802_3,
    ipv6_supported=False,
    ipv4_options=False,
    ipv6_non_ipsec_extension_headers=False,
    ah=False,
    esp=True,
    ah_esp_combined=False,
    transport=False,
    tunnel=True,
    transport_tunnel_combined=False,
    extended_sequence_numbers=False,
    udp_esp=UdpEspEncapsulation.NONE,
    authentication_algorithms=AuthenticationAlgorithm(0),
    encryption_algorithms=EncryptionAlgorithm.AES_GCM_128,
    sa_offload_capacity=1,
)
"""The least a NIC can claim and still offload something: ESP tunnel, AES-GCM-128, IPv4 without options, one SA."""


def _drop_some(draw: st.DrawFn, bits: Sequence[int], keep: int | None = None) -> int:
    """The OR of ``bits`` minus a drawn subset (never ``bits[keep]``); each bit is one boolean "drop it" draw, so
    shrinking goes toward keeping every bit."""
    mask = 0
    for i, b in enumerate(bits):
        if i == keep or not draw(BOOLEANS):
            mask |= int(b)
    return mask


@st.composite
def _capabilities(draw: st.DrawFn, min_capacity: int, max_capacity: int) -> Capabilities:
    drop = BOOLEANS
    # Protocols: at least one of AH / ESP.
    protocols = pick(draw, ("both", "esp-only", "ah-only"))
    ah = protocols != "esp-only"
    esp = protocols != "ah-only"
    auth = AuthenticationAlgorithm(_drop_some(draw, _AUTH_BITS, draw(integers(0, len(_AUTH_BITS) - 1))))
    if esp:
        # Keep at least one real cipher, so an ESP entry is always possible (NULL alone needs auth, which we have).
        enc = EncryptionAlgorithm(_drop_some(draw, _ENC_BITS, draw(integers(1, len(_ENC_BITS) - 1))))
        udp = UdpEspEncapsulation(_drop_some(draw, _UDP_BITS))
    else:
        enc = EncryptionAlgorithm(0)
        udp = UdpEspEncapsulation.NONE
    transport = not draw(drop)
    # CAP-ENCAP-8023: 802.3 always; each other encapsulation drawn as "claimed" (shrinks toward not claimed).
    encapsulation = Encapsulation(Encapsulation.IEEE_802_3 | (~_drop_some(draw, _EXTRA_ENCAP) & 0x1D))
    return Capabilities(
        encapsulation=encapsulation,
        ipv6_supported=not draw(drop),
        ipv4_options=not draw(drop),
        ipv6_non_ipsec_extension_headers=not draw(drop),
        ah=ah,
        esp=esp,
        ah_esp_combined=ah and esp and not draw(drop),
        transport=transport,
        tunnel=True,  # CAP-TUNNEL-TRUE
        transport_tunnel_combined=transport and not draw(drop),
        lso_supported=draw(BOOLEANS),
        extended_sequence_numbers=not draw(drop),
        udp_esp=udp,
        authentication_algorithms=auth,
        encryption_algorithms=enc,
        sa_offload_capacity=draw(integers(min_capacity, max_capacity)),
    )


def capabilities(*, min_capacity: int = 1, max_capacity: int = 64) -> st.SearchStrategy[Capabilities]:
    """Consistent reported capabilities (CAP-*), "everything" first, then ever smaller NICs.

    ``min_capacity``/``max_capacity`` bound ``SaOffloadCapacity`` (1..1024); keep them small where a scenario
    fills the capacity.
    """
    check_size("min_capacity", min_capacity, lo=1, hi=1024)
    check_size("max_capacity", max_capacity, lo=1, hi=1024)
    if min_capacity > max_capacity:
        from hypothesis.errors import InvalidArgument

        raise InvalidArgument(f"min_capacity={min_capacity} > max_capacity={max_capacity}: swap them")
    return st.one_of(
        st.just(EVERYTHING).map(lambda c: _with_capacity(c, min_capacity, max_capacity)),
        _capabilities(min_capacity, max_capacity),
        st.just(MINIMAL).map(lambda c: _with_capacity(c, min_capacity, max_capacity)),
    )


def _with_capacity(caps: Capabilities, lo: int, hi: int) -> Capabilities:
    from dataclasses import replace

    return replace(caps, sa_offload_capacity=min(max(caps.sa_offload_capacity, lo), hi))


__all__ = ["ALL_AUTHENTICATION", "ALL_ENCRYPTION", "EVERYTHING", "MINIMAL", "capabilities"]
