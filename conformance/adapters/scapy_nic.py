"""The ``scapy`` adapter: a software NIC whose IPsec work is done by ``scapy.layers.ipsec.SecurityAssociation``.

Nobody on this project wrote the crypto under test here: decryption and ICV verification are scapy's, and so is the
parsing of the frame into layers. The adapter plays the miniport around it (spec 3.1 steps 1-3): it keeps the SA
table, honours the IPsecV2 offload setting and the capabilities it reports, finds the SA by SPI + destination
(RX-SA-MATCH-SPI-DST), then hands the datagram to scapy and translates what scapy did into the receive OOB flags
(RX-CRYPTODONE-SET, RX-NEXTCRYPTODONE-BOTH-ONLY, RX-CRYPTOSTATUS-RESULT) and an in-place decrypted frame (AMB-09).

Deliberately, scapy's behaviour is not corrected: whatever it accepts, rejects or raises is reported as the NIC's
answer, so the suite's findings against this adapter are findings about scapy. ``docs/adapters/scapy.md`` describes
every mapping and lists what scapy cannot do (and is therefore not claimed in the capabilities).

Argument (``--iut scapy:ARG``): comma-separated options. ``gmac`` also claims the AES-GMAC authentication bits (scapy
has ESP-NULL-GMAC but no AH-GMAC, so AH-GMAC entries are then refused at add time); ``capacity=N`` sets
``SaOffloadCapacity`` (default 64).
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import scapy
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting
from scapy.layers.ipsec import AH, ESP, IPSecIntegrityError, SecurityAssociation

from conformance.adapters.errors import AdapterLoadError
from reference_model.algorithms import AUTHENTICATION, ENCRYPTION, GCM_ICV_LENGTHS, GCM_SALT_LENGTH
from reference_model.constants import (
    ALL_ENCRYPTION,
    ALL_UDP_ESP,
    AUTH_GMAC,
    AUTH_HMAC,
    ENC_GCM,
    AuthenticationAlgorithm,
    CryptoStatus,
    Encapsulation,
    EncryptionAlgorithm,
    EtherType,
    IpProtocol,
    IpsecV2Setting,
    NdisStatus,
    Operation,
    UdpEspEncapsulation,
)
from reference_model.ndis import (
    AddSaEntry,
    AddSaResult,
    Capabilities,
    HeaderInfo,
    Hello,
    Indication,
    ReceiveInfo,
    SecAssoc,
    UpdateSa,
)

__all__ = ["ADAPTER_NAME", "ScapyNic", "create"]

ADAPTER_NAME = "scapy-ipsec"
DEFAULT_CAPACITY = 64

ETHERNET_HEADER_LENGTH = 14
ESP_HEADER_LENGTH = 8  # SPI + sequence number (IETF-ESP-FORMAT)
UDP_HEADER_LENGTH = 8
TUNNEL_NEXT_HEADERS = (IpProtocol.IPV4, IpProtocol.IPV6)  # AMB-05: "tunnel mode" means next header 4 or 41
_UDP_ESP_TUNNEL_HINTS = UdpEspEncapsulation.TUNNEL | UdpEspEncapsulation.TRANSPORT_OVER_UDP_ESP_TUNNEL

# The names scapy's CRYPT_ALGOS / AUTH_ALGOS tables use for each NDIS identifier (scapy/layers/ipsec.py, 2.8).
_SCAPY_CRYPT: dict[EncryptionAlgorithm, str] = {
    EncryptionAlgorithm.NONE: "NULL",
    EncryptionAlgorithm.DES_CBC: "DES",
    EncryptionAlgorithm.TRIPLE_DES_CBC: "3DES",
    EncryptionAlgorithm.AES_GCM_128: "AES-GCM",
    EncryptionAlgorithm.AES_GCM_192: "AES-GCM",
    EncryptionAlgorithm.AES_GCM_256: "AES-GCM",
    EncryptionAlgorithm.AES_CBC_128: "AES-CBC",
    EncryptionAlgorithm.AES_CBC_192: "AES-CBC",
    EncryptionAlgorithm.AES_CBC_256: "AES-CBC",
}
_SCAPY_AUTH: dict[AuthenticationAlgorithm, str] = {
    AuthenticationAlgorithm.MD5: "HMAC-MD5-96",
    AuthenticationAlgorithm.SHA_1: "HMAC-SHA1-96",
    AuthenticationAlgorithm.SHA_256: "SHA2-256-128",
}
_SecurityAssociation: Any = SecurityAssociation  # scapy is untyped; Any at the boundary
_SCAPY_GMAC = "AES-NULL-GMAC"
"""RFC 4543 ESP-NULL-GMAC: a *crypt* algorithm in scapy, so only an ESP entry with NULL encryption can use it."""


class _Refused(Exception):  # noqa: N818 -- private control flow, not an error type others catch
    """An add-SA entry this NIC will not offload; carries the NDIS status it answers."""

    def __init__(self, status: NdisStatus, why: str) -> None:
        super().__init__(why)
        self.status = status


@dataclass(slots=True, kw_only=True)
class _Operation:
    """One SecAssoc entry of a bundle as the NIC keeps it: the scapy constructor arguments and the current Seqh."""

    sec_assoc: SecAssoc
    kwargs: dict[str, Any]
    seq_hi: int
    udp_hint: UdpEspEncapsulation = UdpEspEncapsulation.NONE
    """The bundle's UdpEspEncapsulation: not a matching key, only a hint for the mode of a failed AEAD portion."""

    @property
    def spi(self) -> int:
        return self.sec_assoc.spi

    def scapy_sa(self, *, udp: bool = False) -> Any:
        """A fresh ``SecurityAssociation`` (cheap to build; always carries the latest Seqh from UPDATE_SA).

        ``udp`` gives scapy its ``nat_t_header`` so that it decapsulates UDP-ESP the way it was written to
        (its IPv6 path needs it to drop the UDP header).
        """
        extra: dict[str, Any] = {"esn_en": self.sec_assoc.esn, "esn": self.seq_hi}
        if udp:
            extra["nat_t_header"] = UDP(sport=4500, dport=4500)
        return _SecurityAssociation(spi=self.spi, **self.kwargs, **extra)


@dataclass(slots=True, kw_only=True)
class _Bundle:
    entry: AddSaEntry
    handle: int
    esp: _Operation | None
    ah: _Operation | None

    @property
    def operations(self) -> tuple[_Operation, ...]:
        return tuple(op for op in (self.ah, self.esp) if op is not None)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Found:
    """Where the outermost IPsec header of one datagram is (offsets relative to the datagram's first byte)."""

    packet: Any
    ipv6: bool
    dst: ipaddress.IPv4Address | ipaddress.IPv6Address
    protocol: Operation
    offset: int
    spi: int
    udp: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class _Portion:
    """The result of processing one portion (tunnel or transport) of a packet."""

    status: CryptoStatus
    tunnel: bool = False
    inner_offset: int | None = None
    """Absolute frame offset of the inner datagram, when this was a successful tunnel portion we can look into."""
    header_info: HeaderInfo | None = None


@dataclass(slots=True)
class ScapyNic:
    """The software NIC. One instance is one IUT in power-on state after construction (see ``reset``)."""

    gmac: bool = False
    capacity: int = DEFAULT_CAPACITY
    setting: IpsecV2Setting = IpsecV2Setting.AH_AND_ESP
    _bundles: dict[int, _Bundle] = field(default_factory=dict)
    _next_handle: int = 1

    # ---------------------------------------------------------------------------------------------------------------
    # Configuration

    def hello(self) -> Hello:
        return Hello(name=ADAPTER_NAME, version=str(scapy.__version__), capabilities=self.capabilities())

    def capabilities(self) -> Capabilities:
        """What scapy can do, narrowed to the current IPsecV2 setting (CAP-04: caps of the current configuration)."""
        ah = self.setting.ah_enabled
        esp = self.setting.esp_enabled
        auth = AUTH_HMAC | (AUTH_GMAC if self.gmac else AuthenticationAlgorithm(0))
        return Capabilities(
            encapsulation=Encapsulation.IEEE_802_3,
            ipv6_supported=True,
            ipv4_options=True,
            ipv6_non_ipsec_extension_headers=True,
            ah=ah,
            esp=esp,
            ah_esp_combined=ah and esp,
            transport=True,
            tunnel=True,
            transport_tunnel_combined=True,
            lso_supported=False,
            extended_sequence_numbers=True,
            udp_esp=ALL_UDP_ESP if esp else UdpEspEncapsulation.NONE,
            authentication_algorithms=auth if ah or esp else AuthenticationAlgorithm(0),
            encryption_algorithms=ALL_ENCRYPTION if esp else EncryptionAlgorithm(0),
            sa_offload_capacity=self.capacity,
        )

    def reset(self) -> None:
        """Power-on state: no SAs, AH and ESP enabled. Handles keep counting up so none is ever reused."""
        self._bundles.clear()
        self.setting = IpsecV2Setting.AH_AND_ESP

    def set_offload(self, setting: IpsecV2Setting) -> NdisStatus:
        """Change the setting; SAs stay (AMB-22), packets for a disabled protocol are simply not processed."""
        self.setting = setting
        return NdisStatus.SUCCESS

    def close(self) -> None:
        self._bundles.clear()

    # ---------------------------------------------------------------------------------------------------------------
    # SA management

    def add_sa(self, entries: Sequence[AddSaEntry]) -> Sequence[AddSaResult]:
        """ADD_SA list semantics (SA-ADD-LIST-SEMANTICS): each entry succeeds or fails on its own."""
        results: list[AddSaResult] = []
        for entry in entries:
            try:
                bundle = self._build_bundle(entry)
            except _Refused as refused:
                results.append(AddSaResult(sa_id=entry.sa_id, status=refused.status))
                continue
            self._bundles[entry.sa_id] = bundle
            results.append(AddSaResult(sa_id=entry.sa_id, status=NdisStatus.SUCCESS, handle=bundle.handle))
        return results

    def delete_sa(self, sa_id: int) -> NdisStatus:
        if self._bundles.pop(sa_id, None) is None:
            return NdisStatus.INVALID_PARAMETER
        return NdisStatus.SUCCESS

    def update_sa(self, update: UpdateSa) -> NdisStatus:
        """SA-UPDATE-ESN / AMB-15: bundle, then entry by operation and SPI; anything unknown is INVALID_PARAMETER."""
        bundle = self._bundles.get(update.sa_id)
        if bundle is None:
            return NdisStatus.INVALID_PARAMETER
        op = bundle.ah if update.operation is Operation.AH else bundle.esp
        if op is None or op.spi != update.spi:
            return NdisStatus.INVALID_PARAMETER
        op.seq_hi = update.seq_hi
        return NdisStatus.SUCCESS

    def _build_bundle(self, entry: AddSaEntry) -> _Bundle:
        if entry.sa_id in self._bundles:
            raise _Refused(NdisStatus.INVALID_PARAMETER, "sa_id already in use")
        if len(self._bundles) >= self.capacity:
            raise _Refused(NdisStatus.RESOURCES, "SaOffloadCapacity reached")
        if entry.ipv6 != (entry.dst.version == 6) or entry.ipv6 != (entry.src.version == 6):
            raise _Refused(NdisStatus.INVALID_PARAMETER, "address family does not match the IPv6 flag")
        if entry.udp_esp_encapsulation not in (UdpEspEncapsulation.NONE, *UdpEspEncapsulation):
            raise _Refused(NdisStatus.INVALID_PARAMETER, "UdpEspEncapsulation is not one subtype")
        caps = self.capabilities()
        if entry.udp_esp_encapsulation and not entry.udp_esp_encapsulation & caps.udp_esp:
            raise _Refused(NdisStatus.NOT_SUPPORTED, "UDP-ESP subtype not in the current capabilities")
        ops = [sa.operation for sa in entry.sec_assoc]
        if not 1 <= len(ops) <= 2 or len(set(ops)) != len(ops):
            raise _Refused(NdisStatus.INVALID_PARAMETER, "SecAssoc must be one ESP and/or one AH entry")
        esp = ah = None
        for sa in entry.sec_assoc:
            if sa.operation is Operation.ESP:
                if not caps.esp:
                    raise _Refused(NdisStatus.NOT_SUPPORTED, "ESP offload is disabled")
                esp = _Operation(
                    sec_assoc=sa, kwargs=self._esp_kwargs(sa), seq_hi=sa.seq_hi, udp_hint=entry.udp_esp_encapsulation
                )
            else:
                if not caps.ah:
                    raise _Refused(NdisStatus.NOT_SUPPORTED, "AH offload is disabled")
                ah = _Operation(sec_assoc=sa, kwargs=self._ah_kwargs(sa), seq_hi=sa.seq_hi)
        for op in (esp, ah):
            if op is not None:
                try:  # scapy's own argument checks (unknown algorithm names, nat_t on AH...)
                    op.scapy_sa()
                except (TypeError, ValueError) as exc:
                    raise _Refused(NdisStatus.INVALID_PARAMETER, f"scapy refused the SA: {exc}") from exc
        handle = self._next_handle
        self._next_handle += 1
        return _Bundle(entry=entry, handle=handle, esp=esp, ah=ah)

    def _auth_kwargs(self, sa: SecAssoc) -> dict[str, Any]:
        auth = sa.authentication
        if auth is None:
            return {}
        if auth.algorithm not in _SCAPY_AUTH:
            raise _Refused(NdisStatus.NOT_SUPPORTED, f"authentication {auth.algorithm.name} not supported")
        if len(auth.key) != AUTHENTICATION[auth.algorithm].key_length:
            raise _Refused(NdisStatus.INVALID_PARAMETER, "authentication key length")
        return {"auth_algo": _SCAPY_AUTH[auth.algorithm], "auth_key": auth.key}

    def _ah_kwargs(self, sa: SecAssoc) -> dict[str, Any]:
        if sa.encryption is not None:
            raise _Refused(NdisStatus.INVALID_PARAMETER, "AH entry with an encryption algorithm")
        if sa.authentication is None:
            raise _Refused(NdisStatus.INVALID_PARAMETER, "AH entry without an authentication algorithm")
        if sa.authentication.algorithm & AUTH_GMAC:
            raise _Refused(NdisStatus.NOT_SUPPORTED, "scapy has no AH-GMAC")
        return {"proto": AH, **self._auth_kwargs(sa)}

    def _esp_kwargs(self, sa: SecAssoc) -> dict[str, Any]:
        enc, auth = sa.encryption, sa.authentication
        if enc is None or (enc.algorithm is EncryptionAlgorithm.NONE and auth is None):
            raise _Refused(NdisStatus.INVALID_PARAMETER, "ESP entry without confidentiality or integrity")
        if enc.algorithm & ENC_GCM:
            if auth is not None:
                raise _Refused(NdisStatus.INVALID_PARAMETER, "combined-mode ESP with an authentication algorithm")
            self._check_gcm_material(enc.key, enc.salt, enc.effective_icv_length, ENCRYPTION[enc.algorithm].key_length)
            # RFC 4106 keying material: scapy splits key||salt itself (salt_size 4). The ICV length goes to
            # crypt_icv_size, scapy's knob for it -- whatever scapy then does with 8 or 12 is what the suite sees.
            return {
                "proto": ESP,
                "crypt_algo": "AES-GCM",
                "crypt_key": enc.key + enc.salt,
                "crypt_icv_size": enc.effective_icv_length,
            }
        if auth is not None and auth.algorithm & AUTH_GMAC:
            if not self.gmac:
                raise _Refused(NdisStatus.NOT_SUPPORTED, "AES-GMAC authentication not claimed")
            if enc.algorithm is not EncryptionAlgorithm.NONE:
                raise _Refused(NdisStatus.NOT_SUPPORTED, "scapy has GMAC only as ESP-NULL-GMAC")
            self._check_gcm_material(
                auth.key, auth.salt, auth.effective_icv_length, AUTHENTICATION[auth.algorithm].key_length
            )
            return {
                "proto": ESP,
                "crypt_algo": _SCAPY_GMAC,
                "crypt_key": auth.key + auth.salt,
                "crypt_icv_size": auth.effective_icv_length,
            }
        if enc.algorithm not in _SCAPY_CRYPT:
            raise _Refused(NdisStatus.NOT_SUPPORTED, f"encryption {enc.algorithm.name} not supported")
        if len(enc.key) != ENCRYPTION[enc.algorithm].key_length:
            raise _Refused(NdisStatus.INVALID_PARAMETER, "encryption key length")
        kwargs: dict[str, Any] = {"proto": ESP, "crypt_algo": _SCAPY_CRYPT[enc.algorithm]}
        if enc.algorithm is not EncryptionAlgorithm.NONE:
            kwargs["crypt_key"] = enc.key
        return kwargs | self._auth_kwargs(sa)

    @staticmethod
    def _check_gcm_material(key: bytes, salt: bytes, icv_length: int, key_length: int) -> None:
        if len(key) != key_length or len(salt) != GCM_SALT_LENGTH:
            raise _Refused(NdisStatus.INVALID_PARAMETER, "GCM/GMAC key or salt length")
        if icv_length not in GCM_ICV_LENGTHS:
            raise _Refused(NdisStatus.INVALID_PARAMETER, "GCM/GMAC ICV length")

    # ---------------------------------------------------------------------------------------------------------------
    # Receive path (spec 3.1)

    def receive(self, frame: bytes) -> Sequence[Indication]:
        """Exactly one indication per frame (RX-INDICATE-ALL); nothing scapy raises escapes from here."""
        try:
            return [self._receive(frame)]
        except Exception:  # an adapter bug must not look like a crashed IUT; the frame is still indicated
            return [Indication(frame=frame, info=0)]

    def _receive(self, frame: bytes) -> Indication:
        untouched = Indication(frame=frame, info=0)  # RX-NO-SA-NO-OOB, RX-FLAGS-CLEAR-NOT-DECRYPTED, AMB-02
        if self.setting is IpsecV2Setting.DISABLED:  # step 1, RX-HW-CONFIGURED
            return untouched
        if len(frame) < ETHERNET_HEADER_LENGTH:
            return untouched
        ethertype = struct.unpack_from("!H", frame, 12)[0]
        if ethertype not in (EtherType.IPV4, EtherType.IPV6):  # RX-CAPS-ENCAP: only plain Ethernet II is claimed
            return untouched
        found = _find_ipsec(frame[ETHERNET_HEADER_LENGTH:])
        if found is None:
            return untouched
        bundle = self._match(found)  # step 2, RX-SA-MATCH-SPI-DST
        if bundle is None or not self._enabled_for(bundle):  # step 3, RX-CAPS-CHECK / AMB-22
            return untouched
        buffer = bytearray(frame)
        outer = self._process(buffer, ETHERNET_HEADER_LENGTH, found, bundle, inner=False)
        result, next_done = outer, False
        if outer.status is CryptoStatus.SUCCESS and outer.tunnel and outer.inner_offset is not None:
            inner = self._inner_portion(buffer, outer.inner_offset)  # transport over tunnel
            if inner is not None:
                result, next_done = inner, True  # RX-NEXTCRYPTODONE-BOTH-ONLY
        info = ReceiveInfo(crypto_done=True, next_crypto_done=next_done, crypto_status=result.status)
        header_info = result.header_info if result.status is CryptoStatus.SUCCESS else None
        return Indication(frame=bytes(buffer), info=info.pack(), header_info=header_info)

    def _inner_portion(self, buffer: bytearray, offset: int) -> _Portion | None:
        found = _find_ipsec(bytes(buffer[offset:]))
        if found is None:
            return None
        bundle = self._match(found)  # AMB-04: the inner destination decides for the transport SA
        if bundle is None or not self._enabled_for(bundle):  # AMB-05: not offloaded -> left for software
            return None
        return self._process(buffer, offset, found, bundle, inner=True)

    def _match(self, found: _Found) -> _Bundle | None:
        """RX-SA-MATCH-SPI-DST with RX-SA-INBOUND-ONLY, RX-SA-AF-MATCH and zero-address wildcards (AMB-03)."""
        for bundle in self._bundles.values():
            entry = bundle.entry
            if not entry.inbound or entry.ipv6 != found.ipv6:
                continue
            if not any(op.spi == found.spi for op in bundle.operations):
                continue
            if entry.dst.packed == bytes(len(entry.dst.packed)) or entry.dst == found.dst:
                return bundle
        return None

    def _enabled_for(self, bundle: _Bundle) -> bool:
        """AMB-06: the bundle is the unit; a protocol switched off by set_offload means nothing is processed."""
        if bundle.ah is not None and not self.setting.ah_enabled:
            return False
        return not (bundle.esp is not None and not self.setting.esp_enabled)

    def _process(self, buffer: bytearray, base: int, found: _Found, bundle: _Bundle, *, inner: bool) -> _Portion:
        """One portion: AH first (it is outside ESP on the wire, AMB-06), then ESP, each by scapy."""
        packet_protocols = _protocols(found)
        bundle_protocols = {op.sec_assoc.operation for op in bundle.operations}
        if packet_protocols != bundle_protocols:  # RX-CRYPTOSTATUS-RESULT, INVALID_PROTOCOL row
            return _Portion(status=CryptoStatus.INVALID_PROTOCOL)
        if bundle.ah is not None:
            return self._process_ah(buffer, base, found, bundle, inner=inner)
        assert bundle.esp is not None
        return self._process_esp(buffer, base, found, bundle.esp, inner=inner, packet=found.packet)

    def _process_ah(self, buffer: bytearray, base: int, found: _Found, bundle: _Bundle, *, inner: bool) -> _Portion:
        assert bundle.ah is not None
        ah_layer = found.packet[AH]
        tunnel = int(ah_layer.nh) in TUNNEL_NEXT_HEADERS
        if ah_layer.spi != bundle.ah.spi:
            return _Portion(status=CryptoStatus.INVALID_PROTOCOL)
        ah_length = (int(ah_layer.payloadlen) + 2) * 4
        after_ah = base + found.offset + ah_length
        protected = after_ah
        if found.ipv6:  # AMB-05 on IPv6: destination options etc. may sit between AH and the inner datagram
            next_header, protected = _skip_extension_headers(bytes(buffer), after_ah, int(ah_layer.nh))
            tunnel = next_header in TUNNEL_NEXT_HEADERS
        try:
            stripped = bundle.ah.scapy_sa().decrypt(found.packet)
        except IPSecIntegrityError:
            failed = CryptoStatus.TUNNEL_AH_AUTH_FAILED if tunnel else CryptoStatus.TRANSPORT_AH_AUTH_FAILED
            return _Portion(status=failed)
        except Exception as exc:  # every scapy failure becomes a CryptoStatus
            return _Portion(status=_status_for(exc))
        if bundle.esp is None:
            return _Portion(status=CryptoStatus.SUCCESS, tunnel=tunnel, inner_offset=protected if tunnel else None)
        # AH+ESP: scapy's AH result (AH removed, lengths fixed up) goes on to ESP decryption, re-dissected so that
        # scapy sees the ESP layer (it has no AH->ESP binding, the AH payload comes back as Raw).
        try:
            packet = type(found.packet)(bytes(stripped))
            esp_found = _find_ipsec(bytes(stripped))
        except Exception as exc:
            return _Portion(status=_status_for(exc))
        if esp_found is None or esp_found.protocol is not Operation.ESP or esp_found.spi != bundle.esp.spi:
            return _Portion(status=CryptoStatus.INVALID_PROTOCOL)
        esp_at = after_ah - base  # where that ESP header sits in the received datagram
        moved = replace(esp_found, offset=esp_at, packet=packet)
        return self._process_esp(buffer, base, moved, bundle.esp, inner=inner, packet=packet)

    def _process_esp(
        self, buffer: bytearray, base: int, found: _Found, op: _Operation, *, inner: bool, packet: Any
    ) -> _Portion:
        esp_start = base + found.offset
        esp_layer = packet[ESP]
        esp_end = esp_start + ESP_HEADER_LENGTH + len(bytes(esp_layer.data))
        esp_bytes = bytes(buffer[esp_start:esp_end])
        sa = op.scapy_sa(udp=found.udp)
        try:
            sa.decrypt(packet)  # the verdict: scapy verifies the ICV and decrypts, or raises
        except IPSecIntegrityError:
            return _Portion(status=self._esp_auth_failed(sa, esp_bytes, op, inner=inner))
        except Exception as exc:  # every scapy failure becomes a CryptoStatus
            return _Portion(status=_status_for(exc))
        # AMB-09: decrypt in place. scapy's decrypt() returns the decapsulated packet without the ESP padding, so the
        # exact plaintext of the ciphertext region is asked from scapy's own algorithm object (the same call
        # SecurityAssociation.decrypt makes internally), and written over the ciphertext, same length.
        try:
            plain = _scapy_plaintext(sa, esp_bytes)
        except Exception as exc:  # cannot happen after a successful decrypt; mapped all the same
            return _Portion(status=_status_for(exc))
        region_start = esp_start + ESP_HEADER_LENGTH + int(sa.crypt_algo.iv_size)
        region_end = esp_end - _icv_size(sa)
        text = plain.data_for_encryption()
        next_header, inner_at = int(plain.nh), 0
        if found.ipv6:  # AMB-05 on IPv6: extension headers inside the encryption before the inner datagram
            next_header, inner_at = _skip_extension_headers(bytes(plain.data), 0, next_header)
        tunnel = next_header in TUNNEL_NEXT_HEADERS
        in_place = len(text) == region_end - region_start and region_start <= region_end
        if in_place:
            buffer[region_start:region_end] = text
        return _Portion(
            status=CryptoStatus.SUCCESS,
            tunnel=tunnel,
            inner_offset=region_start + inner_at if tunnel and in_place else None,
            header_info=HeaderInfo(next_header=int(plain.nh), pad_length=int(plain.padlen)),
        )

    @staticmethod
    def _esp_auth_failed(sa: Any, esp_bytes: bytes, op: _Operation, *, inner: bool) -> CryptoStatus:
        """AMB-07: the failing header's mode picks TUNNEL_* or TRANSPORT_*.

        The mode is the decrypted next header. With an HMAC the ciphertext can still be decrypted by scapy (its
        ``crypt_algo.decrypt`` does not look at the ICV); with AES-GCM/GMAC a bad tag yields no plaintext, so the mode
        falls back to the SA's UDP-ESP subtype (a UDP-ESP tunnel subtype on an outer portion) and else to transport.
        """
        tunnel = False
        try:
            tunnel = int(_scapy_plaintext(sa, esp_bytes).nh) in TUNNEL_NEXT_HEADERS
        except Exception:  # AEAD: no plaintext without a valid tag
            tunnel = not inner and bool(op.udp_hint & _UDP_ESP_TUNNEL_HINTS)
        return CryptoStatus.TUNNEL_ESP_AUTH_FAILED if tunnel else CryptoStatus.TRANSPORT_ESP_AUTH_FAILED


def _icv_size(sa: Any) -> int:
    """The ICV length scapy's ``_decrypt_esp`` uses: crypt_icv_size, else the algorithm's, else the HMAC's."""
    return int(sa.crypt_icv_size or sa.crypt_algo.icv_size or sa.auth_algo.icv_size)


def _scapy_plaintext(sa: Any, esp_bytes: bytes) -> Any:
    """scapy's ``CryptAlgo.decrypt`` on the ESP bytes: an ``_ESPPlain`` with data, padding, padlen, nh (no ICV check
    for HMAC SAs; the tag check for AEAD)."""
    return sa.crypt_algo.decrypt(sa, ESP(esp_bytes), sa.crypt_key, _icv_size(sa), esn_en=sa.esn_en, esn=sa.esn)


_EXTENSION_HEADERS = (IpProtocol.HOPOPT, IpProtocol.IPV6_ROUTE, IpProtocol.IPV6_OPTS)
"""IPv6 extension headers that may follow AH (or open an ESP payload) before the tunnelled datagram."""


def _skip_extension_headers(data: bytes, offset: int, next_header: int) -> tuple[int, int]:
    """The protocol after the IPv6 extension headers at ``offset`` (announced by ``next_header``) and its offset.

    Adapter glue, not IPsec work: the mode of an AH or ESP portion is the protocol its payload finally carries
    (IETF-TUNNEL-NH, AMB-05), and a destination options header between AH and an inner IPv4 datagram does not make the
    portion transport mode. Stops at a header that does not fit in ``data``.
    """
    while next_header in _EXTENSION_HEADERS and offset + 2 <= len(data):
        length = (data[offset + 1] + 1) * 8
        if offset + length > len(data):
            break
        next_header, offset = data[offset], offset + length
    return next_header, offset


def _status_for(exc: BaseException) -> CryptoStatus:
    """What a scapy exception other than IPSecIntegrityError means.

    ValueError / IndexError / struct.error come from lengths scapy could not work with (nonce too short, ciphertext
    not a block multiple, empty plaintext, truncated header): INVALID_PACKET_SYNTAX. Anything else (TypeError from a
    layer scapy did not find, AttributeError...) is GENERIC_ERROR.
    """
    if isinstance(exc, ValueError | IndexError | struct.error):
        return CryptoStatus.INVALID_PACKET_SYNTAX
    return CryptoStatus.GENERIC_ERROR


def _protocols(found: _Found) -> set[Operation]:
    """Which IPsec protocols this portion carries: AH, ESP, or AH then ESP (AH outside ESP)."""
    if found.protocol is Operation.ESP:
        return {Operation.ESP}
    ah_layer = found.packet[AH]
    return {Operation.AH, Operation.ESP} if int(ah_layer.nh) == IpProtocol.ESP else {Operation.AH}


def _find_ipsec(datagram: bytes) -> _Found | None:
    """scapy dissects one IP datagram; we walk its layers to the first AH/ESP (or UDP-ESP) header.

    Returns None for anything the NIC does not process: not IP, fragments (RX-FRAGMENT-NOT-PROCESSED), no IPsec
    header, IKE / NAT-keepalive on port 4500 (scapy's NON_ESP / NAT_KEEPALIVE classes, RX-UDPESP-NON-ESP-UNTOUCHED).
    Never raises: a dissection problem means "not processed".
    """
    try:
        return _walk(datagram)
    except Exception:
        return None


def _datagram_only(data: bytes, version: int) -> bytes:
    """``data`` cut to the length its IP header gives (IPv4 Total Length, IPv6 40 + Payload Length).

    Adapter glue: what follows the datagram is not part of it -- Ethernet padding of a short frame, or, for the inner
    datagram of a tunnel, the outer ESP trailer and ICV. scapy keeps such bytes as a ``Padding`` layer and its AH ICV
    computation serialises them too, so the adapter must hand scapy the datagram alone, as a NIC's parser would.
    A length that does not fit the bytes (a truncated or corrupted header) is left for scapy to judge.
    """
    if version == 4 and len(data) >= 4:
        total = int.from_bytes(data[2:4], "big")
        if (data[0] & 0x0F) * 4 <= total <= len(data):
            return data[:total]
    elif version == 6 and len(data) >= 6:
        total = 40 + int.from_bytes(data[4:6], "big")
        if total <= len(data):
            return data[:total]
    return data


def _walk(datagram: bytes) -> _Found | None:
    if not datagram:
        return None
    version = datagram[0] >> 4
    datagram = _datagram_only(datagram, version)
    packet: Any
    if version == 4:
        packet = IP(datagram)
        if int(packet.flags) & 0x1 or int(packet.frag):
            return None
        offset = int(packet.ihl) * 4
        layer = packet.payload
    elif version == 6:
        packet = IPv6(datagram)
        offset = 40
        layer = packet.payload
        while isinstance(layer, IPv6ExtHdrHopByHop | IPv6ExtHdrDestOpt | IPv6ExtHdrRouting):
            offset += (int(layer.len) + 1) * 8
            layer = layer.payload
        if isinstance(layer, IPv6ExtHdrFragment):
            return None
    else:
        return None
    dst = ipaddress.ip_address(packet.dst)
    udp = False
    if isinstance(layer, UDP):
        if not isinstance(layer.payload, ESP):
            return None
        udp = True
        offset += UDP_HEADER_LENGTH
        layer = layer.payload
    if isinstance(layer, AH) and not udp:
        protocol = Operation.AH
    elif isinstance(layer, ESP):
        protocol = Operation.ESP
    else:
        return None
    return _Found(
        packet=packet, ipv6=version == 6, dst=dst, protocol=protocol, offset=offset, spi=int(layer.spi), udp=udp
    )


def create(argument: str | None = None) -> ScapyNic:
    """Entry point ``scapy``: ``--iut scapy`` or ``--iut scapy:gmac,capacity=16``."""
    nic = ScapyNic()
    for option in filter(None, (part.strip() for part in (argument or "").split(","))):
        if option == "gmac":
            nic.gmac = True
        elif option.startswith("capacity="):
            try:
                nic.capacity = int(option.removeprefix("capacity="))
            except ValueError as exc:
                raise AdapterLoadError(f"scapy adapter: bad capacity {option!r}") from exc
        else:
            raise AdapterLoadError(f"scapy adapter: unknown option {option!r} (known: gmac, capacity=N)")
    return nic
