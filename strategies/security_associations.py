"""``security_associations()`` and ``sa_tables()``: add-SA entries the reported capabilities allow.

Every entry is valid by construction (section 5.2/5.4): ESP before AH in ``sec_assoc``; keys, salts and ICV lengths
of the right size for the algorithm (``reference_model.algorithms``); GCM only in ``encryption``; GMAC and HMAC only
in ``authentication``; ESN only when ``ExtendedSequenceNumbers`` is claimed; UDP-ESP subtypes only on ESP-only
bundles and only when claimed. Simplest choices come first so shrinking lands on an ESP/AES-GCM-128 entry with
all-zero keys between two small documentation addresses.
"""

from __future__ import annotations

import functools
import ipaddress
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from reference_model.algorithms import AUTHENTICATION, ENCRYPTION
from reference_model.constants import (
    AUTH_GMAC,
    AUTH_HMAC,
    ENC_CBC,
    ENC_GCM,
    AuthenticationAlgorithm,
    EncryptionAlgorithm,
    Operation,
    UdpEspEncapsulation,
)
from reference_model.ndis import AddSaEntry, AuthenticationSpec, Capabilities, EncryptionSpec, IPAddress, SecAssoc
from strategies._check import ah_feasible, check_caps, check_size, esp_feasible
from strategies._draw import BOOLEANS, integers, pick

SPI_EDGES = (256, 0xFFFFFFFF, 0x80000000, 0x100)
"""SPI edge values: 256 is the first not reserved by IANA (IETF-ESP-FORMAT), 0xFFFFFFFF the largest."""
SEQ_HI_EDGES = (1, 0xFFFFFFFF, 0x7FFFFFFF)

V4_NET = int(ipaddress.IPv4Address("198.51.100.0"))
V6_NET = int(ipaddress.IPv6Address("2001:db8::"))


def address(*, ipv6: bool, host: int) -> IPAddress:
    """Documentation-range address number ``host`` (RFC 5737 / RFC 3849)."""
    if ipv6:
        return ipaddress.IPv6Address(V6_NET + host)
    return ipaddress.IPv4Address(V4_NET + (host & 0xFF))


def hosts() -> st.SearchStrategy[int]:
    return st.integers(1, 254)


_SPIS = st.one_of(st.integers(256, 0xFFFFFFFF), st.sampled_from(SPI_EDGES))
_SEQ_HI = st.one_of(st.just(0), st.sampled_from(SEQ_HI_EDGES), st.integers(0, 0xFFFFFFFF))


def spis() -> st.SearchStrategy[int]:
    """SPIs >= 256 (1..255 are IANA-reserved, 0 is never sent), edge values included."""
    return _SPIS


def distinct_spis(draw: st.DrawFn, n: int, used: set[int]) -> tuple[int, ...]:
    """``n`` SPIs not in ``used`` (and added to it). A collision is moved to the next free value instead of being
    filtered out, so no draw is ever rejected."""
    out = []
    for _ in range(n):
        spi = draw(_SPIS)
        while spi in used:
            spi = spi + 1 if spi < 0xFFFFFFFF else 256
        used.add(spi)
        out.append(spi)
    return tuple(out)


def _bits(mask: int) -> list[int]:
    return [1 << i for i in range(32) if mask >> i & 1]


@functools.cache
def _key(length: int) -> st.SearchStrategy[bytes]:
    """``length`` key bytes from one drawn seed: 0 (the shrink target) gives all zeros, others pseudo-random bytes.

    One integer choice instead of a byte string keeps examples short, which is what Hypothesis' time is spent on.
    """
    return st.integers(0, 2**32 - 1).map(lambda seed: _derive(seed, length))


def _derive(seed: int, length: int) -> bytes:
    if seed == 0:
        return bytes(length)
    return random.Random(f"key:{seed}:{length}").randbytes(length)


def _authentication(draw: st.DrawFn, algorithms: Sequence[AuthenticationAlgorithm]) -> AuthenticationSpec:
    algorithm = pick(draw, algorithms)
    params = AUTHENTICATION[algorithm]
    if params.gmac:
        return AuthenticationSpec(
            algorithm=algorithm,
            key=draw(_key(params.key_length)),
            salt=draw(_key(params.salt_length)),
            icv_length=params.icv_lengths[0],
        )
    return AuthenticationSpec(algorithm=algorithm, key=draw(_key(params.key_length)))


def _encryption(draw: st.DrawFn, algorithms: Sequence[EncryptionAlgorithm]) -> EncryptionSpec:
    algorithm = pick(draw, algorithms)
    params = ENCRYPTION[algorithm]
    if params.combined_mode:
        return EncryptionSpec(
            algorithm=algorithm,
            key=draw(_key(params.key_length)),
            salt=draw(_key(params.salt_length)),
            icv_length=pick(draw, params.icv_lengths),  # SA-ESP-ENTRY: 16, 12 or 8
        )
    return EncryptionSpec(algorithm=algorithm, key=draw(_key(params.key_length)))


def esp_suites(caps: Capabilities) -> list[str]:
    """The ESP algorithm combinations ``caps`` allows, simplest first."""
    enc, auth = caps.encryption_algorithms, caps.authentication_algorithms
    out = []
    if enc & ENC_GCM:
        out.append("gcm")
    if enc & ENC_CBC and auth & AUTH_HMAC:
        out.append("cbc+hmac")
    if enc & EncryptionAlgorithm.NONE and auth & AUTH_HMAC:
        out.append("null+hmac")
    if enc & ENC_CBC:
        out.append("cbc")
    if enc & EncryptionAlgorithm.NONE and auth & AUTH_GMAC:
        out.append("null+gmac")
    return out


def _esp_sec_assoc(draw: st.DrawFn, caps: Capabilities, spi: int, esn: bool, seq_hi: int) -> SecAssoc:
    suite = pick(draw, esp_suites(caps))
    enc_bits = caps.encryption_algorithms
    auth_bits = caps.authentication_algorithms
    encryption: EncryptionSpec
    authentication: AuthenticationSpec | None = None
    if suite == "gcm":
        encryption = _encryption(draw, [EncryptionAlgorithm(b) for b in _bits(enc_bits & ENC_GCM)])
    elif suite in ("cbc", "cbc+hmac"):
        encryption = _encryption(draw, [EncryptionAlgorithm(b) for b in _bits(enc_bits & ENC_CBC)])
        if suite == "cbc+hmac":
            authentication = _authentication(draw, [AuthenticationAlgorithm(b) for b in _bits(auth_bits & AUTH_HMAC)])
    else:
        encryption = EncryptionSpec(algorithm=EncryptionAlgorithm.NONE)
        mask = AUTH_HMAC if suite == "null+hmac" else AUTH_GMAC
        authentication = _authentication(draw, [AuthenticationAlgorithm(b) for b in _bits(auth_bits & mask)])
    return SecAssoc(
        operation=Operation.ESP, spi=spi, esn=esn, seq_hi=seq_hi, authentication=authentication, encryption=encryption
    )


def _ah_sec_assoc(draw: st.DrawFn, caps: Capabilities, spi: int, esn: bool, seq_hi: int) -> SecAssoc:
    algorithms = [AuthenticationAlgorithm(b) for b in _bits(caps.authentication_algorithms)]
    return SecAssoc(
        operation=Operation.AH, spi=spi, esn=esn, seq_hi=seq_hi, authentication=_authentication(draw, algorithms)
    )


def protections(caps: Capabilities) -> list[str]:
    """Bundle kinds ``caps`` allows, simplest first: ``esp``, ``ah``, ``ah+esp`` (RX-CAPS-AH/ESP/AHESP)."""
    out = []
    if esp_feasible(caps):
        out.append("esp")
    if ah_feasible(caps):
        out.append("ah")
    if caps.ah_esp_combined and esp_feasible(caps) and ah_feasible(caps):
        out.append("ah+esp")
    return out


_NESTED_UDP = (UdpEspEncapsulation.TRANSPORT_OVER_UDP_ESP_TUNNEL, UdpEspEncapsulation.TRANSPORT_OVER_TUNNEL)


def _entry(
    draw: st.DrawFn,
    caps: Capabilities,
    *,
    sa_id: int,
    inbound: bool,
    ipv6: bool | None,
    protection: str | None,
    udp_esp: UdpEspEncapsulation | None,
    spi_values: tuple[int, ...] | None,
    wildcard: bool | None,
) -> AddSaEntry:
    if ipv6 is None:
        ipv6 = draw(BOOLEANS) if caps.ipv6_supported else False
    if protection is None:
        protection = pick(draw, protections(caps))
    if udp_esp is None:
        udp_esp = UdpEspEncapsulation.NONE
        simple = [b for b in (UdpEspEncapsulation.TRANSPORT, UdpEspEncapsulation.TUNNEL) if caps.udp_esp & b]
        if not caps.transport:
            simple = [b for b in simple if b is not UdpEspEncapsulation.TRANSPORT]
        if protection == "esp" and simple and draw(BOOLEANS):
            udp_esp = pick(draw, simple)
    n = 2 if protection == "ah+esp" else 1
    if spi_values is None:
        spi_values = distinct_spis(draw, n, set())
    esn = caps.extended_sequence_numbers and draw(BOOLEANS)
    seq_hi = draw(_SEQ_HI) if esn else 0
    sec_assoc: list[SecAssoc] = []
    if protection in ("esp", "ah+esp"):
        sec_assoc.append(_esp_sec_assoc(draw, caps, spi_values[0], esn, seq_hi))
    if protection in ("ah", "ah+esp"):
        sec_assoc.append(_ah_sec_assoc(draw, caps, spi_values[-1], esn, seq_hi))
    src_host = draw(hosts())
    dst_host = draw(hosts())
    if dst_host == src_host:
        dst_host = src_host % 254 + 1
    # Wildcards (AMB-03): a zero source matches any source; a zero destination any destination.
    zero_src = zero_dst = False
    if wildcard is None or wildcard:
        zero_src = draw(BOOLEANS) if wildcard is None else True
        zero_dst = draw(BOOLEANS) if wildcard is None else False
        if wildcard is None:
            zero_dst = zero_dst and draw(BOOLEANS)
    zero: IPAddress = ipaddress.IPv6Address(0) if ipv6 else ipaddress.IPv4Address(0)
    return AddSaEntry(
        sa_id=sa_id,
        inbound=inbound,
        ipv6=ipv6,
        src=zero if zero_src else address(ipv6=ipv6, host=src_host),
        dst=zero if zero_dst else address(ipv6=ipv6, host=dst_host),
        sec_assoc=tuple(sec_assoc),
        udp_esp_encapsulation=udp_esp,
    )


_entries = st.composite(_entry)


def security_associations(
    *,
    caps: Capabilities,
    sa_id: int = 1,
    inbound: bool = True,
    ipv6: bool | None = None,
    protection: str | None = None,
    udp_esp: UdpEspEncapsulation | None = None,
    wildcard: bool | None = None,
) -> st.SearchStrategy[AddSaEntry]:
    """One add-SA entry ``caps`` allows (section 5.2).

    ``protection`` is ``"esp"``, ``"ah"`` or ``"ah+esp"`` (default: any allowed); ``ipv6`` forces the address
    family; ``udp_esp`` forces the UDP-ESP subtype (ESP only); ``wildcard`` True gives a zero source, False none,
    None either (and rarely a zero destination).
    """
    caps = check_caps(caps)
    check_size("sa_id", sa_id, lo=0, hi=0xFFFFFFFF)
    allowed = protections(caps)
    if protection is not None and protection not in allowed:
        raise InvalidArgument(
            f"protection={protection!r} is not possible with these caps (allowed: {allowed}); "
            "pick one of those or claim the capability (ah, esp, ah_esp_combined, algorithms)"
        )
    if ipv6 and not caps.ipv6_supported:
        raise InvalidArgument("ipv6=True but caps.ipv6_supported is False: set ipv6=None/False or claim IPv6")
    if udp_esp is not None and udp_esp is not UdpEspEncapsulation.NONE:
        if not caps.udp_esp & udp_esp:
            raise InvalidArgument(f"udp_esp={udp_esp!r} is not claimed in caps.udp_esp={caps.udp_esp!r}")
        if protection not in (None, "esp") or "esp" not in allowed:
            raise InvalidArgument("UDP-ESP encapsulation needs an ESP-only bundle: use protection='esp'")
        protection = "esp"
    return _entries(caps, sa_id=sa_id, inbound=inbound, ipv6=ipv6, protection=protection, udp_esp=udp_esp,
                    spi_values=None, wildcard=wildcard)


# --------------------------------------------------------------------------------------------------------------------
# Tables


@dataclass(frozen=True, slots=True, kw_only=True)
class SaTable:
    """The bundles offloaded so far (``entries``, inbound and outbound) and those deleted since (``deleted``).

    SPIs are unique across both, so a frame's SPI names exactly one bundle.
    """

    entries: tuple[AddSaEntry, ...]
    deleted: tuple[AddSaEntry, ...] = field(default=())

    @property
    def inbound(self) -> tuple[AddSaEntry, ...]:
        return tuple(e for e in self.entries if e.inbound)

    @property
    def spis(self) -> frozenset[int]:
        return frozenset(sa.spi for e in (*self.entries, *self.deleted) for sa in e.sec_assoc)

    def by_id(self, sa_id: int) -> AddSaEntry:
        return next(e for e in self.entries if e.sa_id == sa_id)

    def delete(self, sa_id: int) -> SaTable:
        gone = self.by_id(sa_id)
        return SaTable(entries=tuple(e for e in self.entries if e.sa_id != sa_id), deleted=(*self.deleted, gone))


def _group(draw: st.DrawFn, caps: Capabilities, first_id: int, used_spis: set[int]) -> list[AddSaEntry]:
    """One inbound bundle, a nested (tunnel + transport) pair, or an inbound bundle with its outbound partner."""
    kinds = ["single", "outbound-partner"]
    nested_ok = caps.transport and caps.transport_tunnel_combined
    if nested_ok:
        kinds.append("nested")
    kind = pick(draw, kinds)

    def fresh_spis(n: int) -> tuple[int, ...]:
        return distinct_spis(draw, n, used_spis)

    def one(sa_id: int, *, inbound: bool = True, protection: str | None = None,
            udp: UdpEspEncapsulation | None = None) -> AddSaEntry:
        prot = protection if protection is not None else pick(draw, protections(caps))
        n = 2 if prot == "ah+esp" else 1
        return _entry(draw, caps, sa_id=sa_id, inbound=inbound, ipv6=None, protection=prot, udp_esp=udp,
                      spi_values=fresh_spis(n), wildcard=None)

    if kind == "single":
        return [one(first_id)]
    if kind == "outbound-partner":
        inbound = one(first_id)
        outbound = one(first_id + 1, inbound=False, protection=_protection_of(inbound))
        return [inbound, outbound]
    # Nested: which of them carries UDP (CAP-02 subtypes 0x4 and 0x8), if any claimed.
    udp_choices: list[UdpEspEncapsulation] = [UdpEspEncapsulation.NONE]
    if "esp" in protections(caps):
        udp_choices += [b for b in _NESTED_UDP if caps.udp_esp & b]
    udp = pick(draw, udp_choices)
    if udp is UdpEspEncapsulation.TRANSPORT_OVER_UDP_ESP_TUNNEL:
        outer = one(first_id, protection="esp", udp=udp)
        inner = one(first_id + 1, protection="esp", udp=UdpEspEncapsulation.NONE)
    elif udp is UdpEspEncapsulation.TRANSPORT_OVER_TUNNEL:
        outer = one(first_id, udp=UdpEspEncapsulation.NONE)
        inner = one(first_id + 1, protection="esp", udp=udp)
    else:
        outer = one(first_id, udp=UdpEspEncapsulation.NONE)
        inner = one(first_id + 1, udp=UdpEspEncapsulation.NONE)
    # Wildcard destinations are fine, but the inner entry of a pair must not use the outer's SPIs (done above).
    return [outer, inner]


def _protection_of(entry: AddSaEntry) -> str:
    if entry.ah is not None and entry.esp is not None:
        return "ah+esp"
    return "ah" if entry.ah is not None else "esp"


@st.composite
def _sa_tables(draw: st.DrawFn, caps: Capabilities, min_groups: int, max_groups: int, with_deleted: bool) -> SaTable:
    n = draw(integers(min_groups, max_groups))
    entries: list[AddSaEntry] = []
    used: set[int] = set()
    for _ in range(n):
        if len(entries) + 2 > caps.sa_offload_capacity and entries:
            break
        group = _group(draw, caps, len(entries) + 1, used)
        if len(entries) + len(group) > caps.sa_offload_capacity:
            group = group[:1]
        entries.extend(group)
    deleted: tuple[AddSaEntry, ...] = ()
    if with_deleted:
        deleted = (_entry(draw, caps, sa_id=len(entries) + 1, inbound=True, ipv6=None, protection=None,
                          udp_esp=UdpEspEncapsulation.NONE, spi_values=distinct_spis(draw, 2, used), wildcard=None),)
    return SaTable(entries=tuple(entries), deleted=deleted)


def sa_tables(
    *, caps: Capabilities, min_groups: int = 1, max_groups: int = 3, with_deleted: bool = False
) -> st.SearchStrategy[SaTable]:
    """A table of bundles within ``SaOffloadCapacity``: single inbound bundles, inbound/outbound pairs
    (RX-SA-INBOUND-ONLY) and tunnel+transport pairs for nested frames; ``sa_id`` = 1, 2, ... in order.
    ``with_deleted`` adds one inbound bundle that was added and deleted since (SA-AFTER-DELETE-NO-MATCH)."""
    caps = check_caps(caps)
    check_size("min_groups", min_groups, lo=1, hi=64)
    check_size("max_groups", max_groups, lo=min_groups, hi=64)
    return _sa_tables(caps, min_groups, max_groups, with_deleted)


def mirror(entry: AddSaEntry, *, sa_id: int, spi_offset: int = 1) -> AddSaEntry:
    """The same bundle under new SPIs (for capacity fillers derived without further draws)."""
    sas = tuple(replace(sa, spi=(sa.spi + spi_offset - 256) % (0xFFFFFFFF - 255) + 256) for sa in entry.sec_assoc)
    return replace(entry, sa_id=sa_id, sec_assoc=sas)
