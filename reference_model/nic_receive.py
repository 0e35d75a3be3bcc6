"""The receive decision procedure of spec section 3.1, step by step, with the readings of section 8.

Input: the frame bytes, the capabilities, the offload setting and the SA table. Output: an ``Expectation``. Nothing
here changes model state: receiving is pure (the NIC keeps no per-frame state; replay checking is the transport's,
RX-TRANSPORT-DOES-REPLAY, so a replayed frame is processed exactly like the first copy).

Procedure (each step adds one sentence to the trace, naming its clause):

0. Dissect the frame without keys. Not IP, or IP without AH/ESP (including UDP to ports other than 4500, AMB-23) →
   not processed, no OOB (RX-NO-SA-NO-OOB). IKE (non-ESP marker) or NAT-keepalive on UDP 4500 → not processed
   (RX-UDPESP-NON-ESP-UNTOUCHED).
1. Offload disabled by set_offload → not processed (RX-HW-CONFIGURED, AMB-22).
2. SA lookup by the SPI of the outermost IPsec header among inbound, live, in-capability bundles of the packet's
   address family whose destination equals the packet's (RX-SA-MATCH-SPI-DST; zero destination is a wildcard, AMB-03;
   the outer destination for the outer portion and the inner destination for the inner portion, AMB-04). No match →
   not processed, receive ULONG 0, citing why: unknown SPI (RX-NO-SA-NO-OOB), outbound only (RX-SA-INBOUND-ONLY),
   other family (RX-SA-AF-MATCH), other destination (RX-SA-MATCH-SPI-DST), deleted (SA-AFTER-DELETE-NO-MATCH), add
   failed (SA-ADD-LIST-SEMANTICS), or accepted although outside the capabilities (the RX-CAPS-* row that excludes it:
   RX-CAPS-ALGO, RX-CAPS-ESN, RX-CAPS-IPV6, RX-CAPS-UDPESP, RX-CAPS-AH/ESP/AHESP; SA-ADD-REJECT-UNSUPPORTED).
3. Capabilities of the packet: fragment (RX-FRAGMENT-NOT-PROCESSED), 802.1Q tag without IEEE_802_3_P_AND_Q
   (RX-CAPS-ENCAP), IPv6 (RX-CAPS-IPV6), IPv4 options (RX-CAPS-IPV4-OPTIONS), IPv6 non-IPsec extension headers, before
   or after AH (RX-CAPS-IPV6-EXTHDR), AH / ESP / both (RX-CAPS-AH, RX-CAPS-ESP, RX-CAPS-AHESP), a protocol disabled by
   set_offload (RX-HW-CONFIGURED, AMB-22). Mode-dependent rows (RX-CAPS-TRANSPORT, RX-CAPS-TUNNEL, RX-CAPS-UDPESP)
   are checked once the mode is known (the oracle decrypts to learn it; a header is tunnel-mode when its protected
   next header is 4 or 41, AMB-05).
4. Process the matched bundle as a unit (AMB-06): the packet's protocols must equal the bundle's, else
   CRYPTO_INVALID_PROTOCOL; AH is verified, then ESP opened (AH sits outside ESP on the wire). Every failing check is
   collected: one failure requires its code, several allow any of theirs (AMB-06).
5. A tunnel-mode outer portion that succeeded may carry an inner IPsec portion: it is processed too when
   TransportTunnelCombined is set, the inner SPI matches an inbound SA for the inner destination, and the inner
   portion is within the capabilities; then NextCryptoDone = 1 and CryptoStatus describes the inner (transport)
   portion. Otherwise only the tunnel portion is processed: CryptoDone = 1, NextCryptoDone = 0 (AMB-05).

Corner cases decided here (the spec is silent):

- ESP Next Header 59 (dummy packet, IETF-ESP-NEXTHDR): the NIC does not discard (RX-INDICATE-ALL); it is processed
  like any transport-mode payload and succeeds; discarding is the transport's business.
- Trailer alignment: a GCM/NULL payload whose trailer is not 4-byte aligned but whose ICV verifies is a success (the
  alignment rule binds the sender; the receiver has no length it cannot parse). A CBC ciphertext that is not a whole
  number of blocks is CRYPTO_INVALID_PACKET_SYNTAX (mapping table).
- A truncated or length-inconsistent datagram (dissector error, IP length beyond the frame) whose SPI matched an SA is
  processed and fails with CRYPTO_INVALID_PACKET_SYNTAX.
- An AH+ESP packet whose ESP SPI differs from the bundle's ESP entry: CRYPTO_GENERIC_ERROR (INVALID_PROTOCOL also
  allowed). An AH+ESP packet on an AH-only or ESP-only bundle: INVALID_PROTOCOL.
- Code family of a failed ESP ICV (AMB-07): the mode is read from an unauthenticated decryption of the trailer (what
  a NIC that decrypts in place also sees); the MUST-level constraint accepts both families for single-portion frames
  and the family is an INTERPRETATION constraint. In a tunnel+transport frame the portion decides (MUST).
- ESN around a wrap (AMB-16): the configured Seqh is used. When an ICV fails under it but verifies under Seqh +/- 1,
  success under the inferred value is an alternative outcome (reading AMB-16; with esn_wrap = "allow-inferred" it
  is listed without a reading, i.e. equally conforming).
- Pad content (AMB-08): bad pad bytes under a valid ICV give GENERIC_ERROR or INVALID_PACKET_SYNTAX at INTERPRETATION
  level, and success is an alternative unless the profile sets require_pad_check.
- Nested tunnels: the inner portion is processed whatever its mode; its code family follows the portion (transport).
- UDP-ESP subtypes (RX-CAPS-UDPESP): outer UDP-ESP transport needs TRANSPORT; outer UDP-ESP tunnel with a plain or
  AH inner needs TUNNEL, with an ESP inner needs TRANSPORT_OVER_UDP_ESP_TUNNEL (with TUNNEL alone only the outer
  portion is processed); a UDP-ESP inner behind a plain tunnel needs TRANSPORT_OVER_TUNNEL (else only the outer
  portion is processed); UDP-ESP inside UDP-ESP is no supported subtype (inner never processed). A failed outer
  portion whose mode is unknown is processed when any candidate subtype bit is set.
- 802.1Q: a tagged frame needs NDIS_ENCAPSULATION_IEEE_802_3_P_AND_Q (the tag is in the frame, not in the OOB).
- The destination compared is the IP header's destination field as received (no source-route resolution).
- Several bundles share an SPI and destination: the first one added that is live wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from reference_model import crypto
from reference_model.constants import (
    CryptoStatus,
    Encapsulation,
    IpProtocol,
    IpsecV2Setting,
    Operation,
    ReceiveInfoMask,
    UdpEspEncapsulation,
)
from reference_model.expectation import Expectation, Outcome
from reference_model.ndis import Capabilities, HeaderInfo, Indication, IPAddress, ReceiveInfo, SecAssoc
from reference_model.nic_outcomes import (
    FAILURE_CODES,
    NO_HEADER_INFO,
    SUCCESS_SPEC,
    StatusSpec,
    level_of,
    processed,
    unprocessed,
)
from reference_model.profile import InterpretationProfile
from reference_model.sa_table import Bundle, BundleState, SaTable, destination_matches
from reference_model.wire.ah import verify_ah
from reference_model.wire.dissect import DatagramView, dissect_datagram, dissect_frame
from reference_model.wire.esp import (
    ESP_HEADER_LENGTH,
    SYNTAX_NOT_BLOCK_MULTIPLE,
    SYNTAX_TOO_SHORT,
    esp_layout,
    open_esp,
)

_TUNNEL_NH = frozenset({IpProtocol.IPV4, IpProtocol.IPV6})
_U32 = 0xFFFFFFFF


class _NotProcessed(Exception):  # noqa: N818 -- control flow inside one module, never escapes
    """Raised inside the procedure to end it with a "not processed" outcome."""

    def __init__(self, clause: str, why: str, *, sa_matched: bool, no_sa: bool = False) -> None:
        super().__init__(why)
        self.clause = clause
        self.why = why
        self.sa_matched = sa_matched
        self.no_sa = no_sa


@dataclass(slots=True, kw_only=True)
class _Failure:
    kind: str  # "protocol", "syntax", "ah-icv", "esp-icv", "esp-spi", "pad"
    detail: str


@dataclass(slots=True, kw_only=True)
class _Portion:
    """What processing one bundle on one datagram found."""

    bundle: Bundle
    failures: list[_Failure] = field(default_factory=list)
    mode: str | None = None  # "tunnel" / "transport"; None when unknown (failed before the trailer could be read)
    trailer: tuple[int, int] | None = None  # (next_header, pad_length) of a decrypted ESP trailer
    inner_offset: int | None = None
    inner_end: int | None = None
    esn_alternative: tuple[int, Operation, int, int] | None = None  # (sa_id, operation, spi, seq_hi that verifies)

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(slots=True, kw_only=True)
class _Run:
    frame: bytes
    buf: bytearray
    seq_hi_override: dict[tuple[int, Operation, int], int]
    ignore_pad: bool
    trace: list[str] = field(default_factory=list)
    shape: list[str] = field(default_factory=list)
    matched: list[int] = field(default_factory=list)
    esn_alternative: tuple[int, Operation, int, int] | None = None
    pad_alternative: bool = False

    def tag(self, *tags: str) -> None:
        for t in tags:
            if t not in self.shape:
                self.shape.append(t)


class ReceivePath:
    """Computes the expectation for one frame against a fixed model state (see the module docstring)."""

    __slots__ = ("caps", "profile", "setting", "table")

    def __init__(
        self, caps: Capabilities, profile: InterpretationProfile, table: SaTable, setting: IpsecV2Setting
    ) -> None:
        self.caps = caps
        self.profile = profile
        self.table = table
        self.setting = setting

    # ---------------------------------------------------------------------------------------------------------------
    # Entry point

    def expect(self, frame: bytes) -> Expectation:
        run = _Run(frame=frame, buf=bytearray(frame), seq_hi_override={}, ignore_pad=False)
        primary, reference = self._outcome(run)
        outcomes = [primary]
        if run.esn_alternative is not None:
            sa_id, op, spi, seq_hi = run.esn_alternative
            alt_run = _Run(
                frame=frame, buf=bytearray(frame), seq_hi_override={(sa_id, op, spi): seq_hi}, ignore_pad=False
            )
            alt, _ = self._outcome(alt_run)
            reading = None if self.profile.esn_wrap == "allow-inferred" else "AMB-16"
            outcomes.append(
                Outcome(constraints=alt.constraints, label=f"{alt.label} under inferred Seqh {seq_hi}", reading=reading)
            )
            run.trace.append(
                f"AMB-16: the ICV verifies only under the inferred ESN high bits 0x{seq_hi:08x}; success under them "
                f"is {'equally conforming' if reading is None else 'an alternative reading'} (esn_wrap = "
                f"{self.profile.esn_wrap})"
            )
        if run.pad_alternative and not self.profile.require_pad_check:
            alt_run = _Run(frame=frame, buf=bytearray(frame), seq_hi_override={}, ignore_pad=True)
            alt, _ = self._outcome(alt_run)
            outcomes.append(
                Outcome(constraints=alt.constraints, label=f"{alt.label} (pad content not checked)", reading="AMB-08")
            )
            run.trace.append("AMB-08: a NIC that does not check pad content may report success instead")
        is_processed = bool(reference.info & ReceiveInfoMask.CRYPTO_DONE)
        return Expectation(
            outcomes=tuple(outcomes),
            trace=tuple(run.trace),
            shape=tuple(run.shape),
            processed=is_processed,
            matched_sa_ids=tuple(run.matched),
            reference=reference,
        )

    def _outcome(self, run: _Run) -> tuple[Outcome, Indication]:
        try:
            return self._procedure(run)
        except _NotProcessed as stop:
            run.trace.append(f"not processed: {stop.why} ({stop.clause})")
            outcome = unprocessed(
                run.frame, deciding=stop.clause, why=stop.why, sa_matched=stop.sa_matched, no_sa=stop.no_sa
            )
            return outcome, Indication(frame=run.frame, info=0)

    # ---------------------------------------------------------------------------------------------------------------
    # The procedure

    def _procedure(self, run: _Run) -> tuple[Outcome, Indication]:
        fv = dissect_frame(run.frame)
        if fv.vlan is not None:
            run.tag("vlan")
        dg = fv.datagram
        if dg is None or dg.version not in (4, 6):
            run.tag("non-ipsec")
            raise _NotProcessed("RX-NO-SA-NO-OOB", "step 0: not an IP datagram", sa_matched=False, no_sa=True)
        run.tag(f"ipv{dg.version}")
        self._tag_datagram(run, dg)
        if dg.udp is not None and dg.udp.encap in ("ike", "keepalive"):
            run.tag(dg.udp.encap)
            raise _NotProcessed(
                "RX-UDPESP-NON-ESP-UNTOUCHED",
                f"step 0: {'IKE (non-ESP marker)' if dg.udp.encap == 'ike' else 'NAT-keepalive'} on UDP port 4500",
                sa_matched=False,
                no_sa=True,
            )
        if dg.ipsec_kind is None or dg.spi is None:
            run.tag("non-ipsec")
            raise _NotProcessed(
                "RX-NO-SA-NO-OOB", "step 0: no AH or ESP header (not IPsec traffic)", sa_matched=False, no_sa=True
            )
        assert dg.dst is not None
        run.trace.append(
            f"step 0: {dg.ipsec_kind.upper()} SPI 0x{dg.spi:08x} to {dg.dst}"
            + (" in UDP port 4500 (RFC 3948)" if dg.udp is not None else "")
        )

        # Step 2 first as a pure lookup, so step 1 knows whether an SA matched (AMB-10: SaDeleteReq).
        bundle, clause_id, why = self._lookup(dg.spi, dg.dst, dg.version == 6)
        if self.setting is IpsecV2Setting.DISABLED:
            raise _NotProcessed(
                "RX-HW-CONFIGURED",
                "step 1: IPsecV2 offload is disabled (set_offload disabled)",
                sa_matched=bundle is not None,
            )
        run.trace.append("step 1: IPsecV2 offload is enabled and receive offload is active (RX-HW-CONFIGURED)")
        if bundle is None:
            run.tag("no-sa")
            raise _NotProcessed(clause_id, f"step 2: {why}", sa_matched=False, no_sa=True)
        run.matched.append(bundle.sa_id)
        run.trace.append(
            f"step 2: SPI 0x{dg.spi:08x} and destination {dg.dst} matched inbound sa_id "
            f"{bundle.sa_id} (RX-SA-MATCH-SPI-DST)"
        )
        if any(sa.esn for sa in bundle.entry.sec_assoc):
            run.tag("esn")

        self._check_static_caps(run, dg, bundle, outer=True, vlan=fv.vlan is not None)
        outer = self._process(run, dg, bundle)
        if outer.mode is not None:
            run.tag(outer.mode)
        self._check_mode_caps(run, dg, outer, inner=None)
        if not outer.ok:
            return self._failed(run, outer, two_portion=False, both=False)

        inner_dg = self._inner_datagram(run, outer)
        if inner_dg is None or inner_dg.ipsec_kind is None:
            run.trace.append(
                f"step 4: sa_id {bundle.sa_id} verified; {outer.mode} mode, a single portion "
                "(RX-NEXTCRYPTODONE-BOTH-ONLY: NextCryptoDone = 0)"
            )
            return self._succeeded(run, [outer], both=False)

        # Step 5: transport over tunnel.
        run.tag("tunnel+transport")
        reason = self._inner_reason(run, dg, outer, inner_dg)
        if reason is not None:
            clause_id, why = reason
            run.trace.append(f"step 5: only the tunnel portion is processed: {why} ({clause_id}, AMB-05)")
            return self._succeeded(run, [outer], both=False, frame_clause=clause_id)
        inner_bundle = self.table.bundles[run.matched[-1]]
        before_inner = bytes(run.buf)
        inner = self._process(run, inner_dg, inner_bundle)
        mode_reason = self._inner_mode_reason(inner)
        if mode_reason is not None:
            run.buf[:] = before_inner
            clause_id, why = mode_reason
            run.trace.append(f"step 5: only the tunnel portion is processed: {why} ({clause_id}, AMB-05)")
            return self._succeeded(run, [outer], both=False, frame_clause=clause_id)
        if not inner.ok:
            return self._failed(run, inner, two_portion=True, both=True)
        run.trace.append(
            f"step 5: inner sa_id {inner_bundle.sa_id} verified too: both portions checked "
            "(RX-NEXTCRYPTODONE-BOTH-ONLY: NextCryptoDone = 1)"
        )
        return self._succeeded(run, [outer, inner], both=True)

    # ---------------------------------------------------------------------------------------------------------------
    # Steps

    def _tag_datagram(self, run: _Run, dg: DatagramView) -> None:
        if dg.ipv4_options_present:
            run.tag("ipv4-options")
        if dg.non_ipsec_extension_headers:
            run.tag("ipv6-ext")
        if dg.is_fragment:
            run.tag("fragment")
        if dg.ah is not None and dg.esp is not None:
            run.tag("ah+esp")
        elif dg.ah is not None:
            run.tag("ah")
        elif dg.esp is not None:
            run.tag("esp")
        if dg.udp is not None and dg.udp.encap == "esp":
            run.tag("udp-esp")

    def _lookup(self, spi: int, dst: IPAddress, ipv6: bool) -> tuple[Bundle | None, str, str]:
        """Step 2 (RX-SA-MATCH-SPI-DST): the matching live inbound bundle, else the clause that explains the miss."""
        best: tuple[int, str, str] = (-1, "RX-NO-SA-NO-OOB", f"no offloaded SA has SPI 0x{spi:08x}")
        for b in self.table.candidates(spi):
            e = b.entry
            if b.state is BundleState.FAILED:
                rank, c, w = 0, "SA-ADD-LIST-SEMANTICS", f"sa_id {b.sa_id} with SPI 0x{spi:08x} failed to add"
            elif b.state is BundleState.DELETED:
                rank, c, w = 1, "SA-AFTER-DELETE-NO-MATCH", f"sa_id {b.sa_id} with SPI 0x{spi:08x} was deleted"
            elif not e.inbound:
                rank, c, w = 2, "RX-SA-INBOUND-ONLY", f"sa_id {b.sa_id} with SPI 0x{spi:08x} is outbound"
            elif e.ipv6 != ipv6:
                rank, c, w = 3, "RX-SA-AF-MATCH", f"sa_id {b.sa_id} is IPv{6 if e.ipv6 else 4}, the packet is not"
            elif not destination_matches(e, dst):
                rank, c, w = (
                    4,
                    "RX-SA-MATCH-SPI-DST",
                    (f"SPI 0x{spi:08x} matches sa_id {b.sa_id} but destination {dst} is not its {e.dst} (AMB-04)"),
                )
            elif b.state is BundleState.INACTIVE:
                assert b.unsupported is not None
                rank, c, w = (
                    5,
                    b.unsupported.clause,
                    (
                        f"sa_id {b.sa_id} was accepted although {b.unsupported.why}: "
                        "a conforming NIC holds no usable SA (SA-ADD-REJECT-UNSUPPORTED)"
                    ),
                )
            else:
                return b, "", ""
            if rank > best[0]:
                best = (rank, c, w)
        return None, best[1], best[2]

    def _check_static_caps(self, run: _Run, dg: DatagramView, bundle: Bundle, *, outer: bool, vlan: bool) -> None:
        """Step 3, the rows that need no keys (RX-CAPS-CHECK) and the per-protocol setting (AMB-22)."""
        caps = self.caps
        where = "" if outer else "inner "

        def stop(clause_id: str, why: str) -> None:
            raise _NotProcessed(clause_id, f"step 3: {where}{why}", sa_matched=True)

        if dg.is_fragment:
            stop("RX-FRAGMENT-NOT-PROCESSED", "IP fragment (reassembly precedes IPsec)")
        if outer and vlan and not caps.encapsulation & Encapsulation.IEEE_802_3_P_AND_Q:
            stop("RX-CAPS-ENCAP", "802.1Q-tagged frame but Encapsulation lacks IEEE_802_3_P_AND_Q")
        if dg.version == 6 and not caps.ipv6_supported:
            stop("RX-CAPS-IPV6", "IPv6 packet but IPv6Supported is FALSE")
        if dg.version == 4 and dg.ipv4_options_present and not caps.ipv4_options:
            stop("RX-CAPS-IPV4-OPTIONS", "IPv4 options present but IPv4Options is FALSE")
        if dg.version == 6 and dg.non_ipsec_extension_headers and not caps.ipv6_non_ipsec_extension_headers:
            stop("RX-CAPS-IPV6-EXTHDR", "IPv6 non-IPsec extension headers but IPv6NonIPsecExtensionHeaders is FALSE")
        has_ah, has_esp = dg.ah is not None or dg.ipsec_kind == "ah", dg.esp is not None or dg.ipsec_kind == "esp"
        if has_ah and not caps.ah:
            stop("RX-CAPS-AH", "AH present but Ah is FALSE")
        if has_esp and not caps.esp:
            stop("RX-CAPS-ESP", "ESP present but Esp is FALSE")
        if has_ah and has_esp and not caps.ah_esp_combined:
            stop("RX-CAPS-AHESP", "AH and ESP both present but AhEspCombined is FALSE")
        ops = set(bundle.operations)
        if has_ah:
            ops.add(Operation.AH)
        if has_esp:
            ops.add(Operation.ESP)
        if Operation.AH in ops and not self.setting.ah_enabled:
            stop("RX-HW-CONFIGURED", f"AH is disabled by set_offload {self.setting.wire_name} (AMB-22)")
        if Operation.ESP in ops and not self.setting.esp_enabled:
            stop("RX-HW-CONFIGURED", f"ESP is disabled by set_offload {self.setting.wire_name} (AMB-22)")
        run.trace.append(f"step 3: {where}packet within the reported capabilities (RX-CAPS-CHECK)")

    def _udp_subtypes(
        self, outer_dg: DatagramView, mode: str | None, inner_dg: DatagramView | None
    ) -> tuple[UdpEspEncapsulation, ...]:
        """RX-CAPS-UDPESP: the subtype bits that let the NIC process the outer portion of a UDP-ESP packet."""
        if mode == "transport":
            return (UdpEspEncapsulation.TRANSPORT,)
        if mode == "tunnel":
            if inner_dg is not None and inner_dg.esp is not None and inner_dg.udp is None:
                return (UdpEspEncapsulation.TRANSPORT_OVER_UDP_ESP_TUNNEL, UdpEspEncapsulation.TUNNEL)
            return (UdpEspEncapsulation.TUNNEL,)
        return (
            UdpEspEncapsulation.TRANSPORT,
            UdpEspEncapsulation.TUNNEL,
            UdpEspEncapsulation.TRANSPORT_OVER_UDP_ESP_TUNNEL,
        )

    def _check_mode_caps(self, run: _Run, dg: DatagramView, portion: _Portion, *, inner: DatagramView | None) -> None:
        """Step 3, the rows that need the mode: RX-CAPS-TRANSPORT, RX-CAPS-TUNNEL, RX-CAPS-UDPESP (outer portion)."""
        caps = self.caps
        if portion.mode == "tunnel" and not caps.tunnel:
            raise _NotProcessed("RX-CAPS-TUNNEL", "step 3: tunnel-mode portion but Tunnel is FALSE", sa_matched=True)
        if portion.mode == "transport" and not caps.transport:
            raise _NotProcessed(
                "RX-CAPS-TRANSPORT", "step 3: transport-mode portion but Transport is FALSE", sa_matched=True
            )
        if dg.udp is not None and dg.udp.encap == "esp":
            if inner is None and portion.ok and portion.mode == "tunnel":
                inner = self._inner_datagram(run, portion)
            candidates = self._udp_subtypes(dg, portion.mode, inner)
            if not any(caps.udp_esp & c for c in candidates):
                names = " or ".join(c.name or "?" for c in candidates)
                raise _NotProcessed(
                    "RX-CAPS-UDPESP",
                    f"step 3: UDP-encapsulated ESP needs UdpEsp {names}, not reported",
                    sa_matched=True,
                )

    def _current_seq_hi(self, run: _Run, bundle: Bundle, sa: SecAssoc) -> int:
        key = (sa.operation, sa.spi)
        override = run.seq_hi_override.get((bundle.sa_id, *key))
        return override if override is not None else bundle.seq_hi.get(key, sa.seq_hi)

    def _inner_mode_reason(self, inner: _Portion) -> tuple[str, str] | None:
        """RX-CAPS-TRANSPORT / RX-CAPS-TUNNEL for the inner portion, once its mode is known."""
        if inner.mode == "transport" and not self.caps.transport:
            return "RX-CAPS-TRANSPORT", "the inner portion is transport mode but Transport is FALSE"
        if inner.mode == "tunnel" and not self.caps.tunnel:
            return "RX-CAPS-TUNNEL", "the inner portion is tunnel mode but Tunnel is FALSE"
        return None

    def _process(self, run: _Run, dg: DatagramView, bundle: Bundle) -> _Portion:
        """Step 4: verify the bundle on ``dg`` (AMB-06: the bundle is the unit; AH before ESP)."""
        portion = _Portion(bundle=bundle)
        entry = bundle.entry
        has_ah, has_esp = dg.ah is not None or dg.ipsec_kind == "ah", dg.esp is not None or dg.ipsec_kind == "esp"
        packet_ops = frozenset(op for op, present in ((Operation.AH, has_ah), (Operation.ESP, has_esp)) if present)
        if packet_ops != bundle.operations:
            names = "+".join(sorted(o.name for o in bundle.operations))
            found = "+".join(sorted(o.name for o in packet_ops))
            portion.failures.append(_Failure(kind="protocol", detail=f"bundle is {names}, packet carries {found}"))
            return portion
        if dg.error is not None or not dg.total_length_ok:
            portion.failures.append(
                _Failure(kind="syntax", detail=dg.error or "IP length runs past the end of the frame")
            )
            return portion
        ah_sa, esp_sa = entry.ah, entry.esp
        if ah_sa is not None and dg.ah is not None:
            self._verify_ah(run, dg, bundle, ah_sa, portion)
            portion.mode = "tunnel" if dg.after_ah_protocol in _TUNNEL_NH else "transport"
            if dg.esp is None and portion.mode == "tunnel":
                inner_at = dg.ah.protected_offset + sum(h.length for h in dg.after_ah_extension_headers)
                portion.inner_offset, portion.inner_end = inner_at, dg.end
        if esp_sa is not None and dg.esp is not None:
            portion.mode = None
            self._open_esp(run, dg, bundle, esp_sa, portion)
        return portion

    def _verify_ah(self, run: _Run, dg: DatagramView, bundle: Bundle, sa: SecAssoc, portion: _Portion) -> None:
        data = bytes(run.buf[dg.header_offset : dg.end])
        view = dissect_datagram(data, 0)
        seq_hi = self._current_seq_hi(run, bundle, sa)
        result = verify_ah(data, view, sa, seq_hi=seq_hi)
        for error in result.syntax_errors:
            portion.failures.append(_Failure(kind="syntax", detail=f"AH: {error}"))
        if not result.icv_ok and not result.syntax_errors:
            portion.failures.append(_Failure(kind="ah-icv", detail=f"AH ICV of sa_id {bundle.sa_id} does not verify"))
            if sa.esn and not run.seq_hi_override:
                for candidate in ((seq_hi + 1) & _U32, (seq_hi - 1) & _U32):
                    if verify_ah(data, view, sa, seq_hi=candidate).ok:
                        run.esn_alternative = (bundle.sa_id, sa.operation, sa.spi, candidate)
                        break
        run.trace.append(f"step 4: AH ICV of sa_id {bundle.sa_id} {'verified' if result.ok else 'failed'}")

    def _open_esp(self, run: _Run, dg: DatagramView, bundle: Bundle, sa: SecAssoc, portion: _Portion) -> None:
        assert dg.esp is not None
        if dg.esp.spi != sa.spi:
            portion.failures.append(
                _Failure(kind="esp-spi", detail=f"ESP SPI 0x{dg.esp.spi:08x} is not the bundle's 0x{sa.spi:08x}")
            )
            return
        start = dg.esp.offset
        data = bytes(run.buf[start : dg.end])
        seq_hi = self._current_seq_hi(run, bundle, sa)
        opened = open_esp(sa, data, seq_hi=seq_hi)
        early = [e for e in opened.syntax_errors if e in (SYNTAX_TOO_SHORT, SYNTAX_NOT_BLOCK_MULTIPLE)]
        for error in early:
            portion.failures.append(_Failure(kind="syntax", detail=f"ESP: {error}"))
        if opened.icv_ok is False and SYNTAX_TOO_SHORT not in early:
            portion.failures.append(_Failure(kind="esp-icv", detail=f"ESP ICV of sa_id {bundle.sa_id} does not verify"))
            if sa.esn and not run.seq_hi_override:
                for candidate in ((seq_hi + 1) & _U32, (seq_hi - 1) & _U32):
                    if open_esp(sa, data, seq_hi=candidate).icv_ok:
                        run.esn_alternative = (bundle.sa_id, sa.operation, sa.spi, candidate)
                        break
        for error in opened.syntax_errors:
            if error not in early:
                portion.failures.append(_Failure(kind="syntax", detail=f"ESP: {error}"))
        if opened.region:
            portion.mode = "tunnel" if opened.next_header in _TUNNEL_NH else "transport"
            portion.trailer = (opened.next_header, opened.pad_length)
            if not opened.syntax_errors:
                at = start + opened.region_offset
                run.buf[at : at + len(opened.region)] = opened.region
                if portion.mode == "tunnel":
                    portion.inner_offset, portion.inner_end = at, at + len(opened.payload)
                if not opened.pad_content_ok and not run.ignore_pad:
                    portion.failures.append(_Failure(kind="pad", detail="pad bytes do not follow 1, 2, 3, ..."))
                    run.pad_alternative = True
        else:
            nh = _peek_next_header(sa, data)
            if nh is not None:
                portion.mode = "tunnel" if nh in _TUNNEL_NH else "transport"
        state = "verified" if opened.ok else "failed"
        run.trace.append(
            f"step 4: ESP of sa_id {bundle.sa_id} {state}"
            + (f", next header {opened.next_header}" if opened.region else "")
        )

    def _inner_datagram(self, run: _Run, portion: _Portion) -> DatagramView | None:
        if portion.mode != "tunnel" or portion.inner_offset is None or portion.inner_end is None:
            return None
        return dissect_datagram(bytes(run.buf[: portion.inner_end]), portion.inner_offset)

    def _inner_reason(
        self, run: _Run, outer_dg: DatagramView, outer: _Portion, inner_dg: DatagramView
    ) -> tuple[str, str] | None:
        """Why the inner portion is not processed (AMB-05), or None when it is (matched bundle appended)."""
        caps = self.caps
        if not caps.transport_tunnel_combined:
            return "RX-CAPS-TPT-TUN", "TransportTunnelCombined is FALSE"
        assert inner_dg.spi is not None
        if inner_dg.dst is None:
            return "RX-NO-SA-NO-OOB", "the inner datagram has no destination"
        bundle, clause_id, why = self._lookup(inner_dg.spi, inner_dg.dst, inner_dg.version == 6)
        if bundle is None:
            return clause_id, f"inner {why}"
        inner_udp = inner_dg.udp is not None and inner_dg.udp.encap == "esp"
        outer_udp = outer_dg.udp is not None and outer_dg.udp.encap == "esp"
        if inner_udp and outer_udp:
            return "RX-CAPS-UDPESP", "UDP-ESP transport inside a UDP-ESP tunnel is no supported subtype"
        if inner_udp and not caps.udp_esp & UdpEspEncapsulation.TRANSPORT_OVER_TUNNEL:
            return "RX-CAPS-UDPESP", "inner UDP-ESP needs UdpEsp TRANSPORT_OVER_TUNNEL"
        if (
            outer_udp
            and inner_dg.esp is not None
            and not (caps.udp_esp & UdpEspEncapsulation.TRANSPORT_OVER_UDP_ESP_TUNNEL)
        ):
            return "RX-CAPS-UDPESP", "ESP inside a UDP-ESP tunnel needs UdpEsp TRANSPORT_OVER_UDP_ESP_TUNNEL"
        try:
            self._check_static_caps(run, inner_dg, bundle, outer=False, vlan=False)
        except _NotProcessed as stop:
            return stop.clause, stop.why
        if bundle.sa_id not in run.matched:
            run.matched.append(bundle.sa_id)
        return None

    # ---------------------------------------------------------------------------------------------------------------
    # Outcomes

    def _succeeded(
        self, run: _Run, portions: list[_Portion], *, both: bool, frame_clause: str = "AMB-09"
    ) -> tuple[Outcome, Indication]:
        trailers = [p.trailer for p in portions if p.trailer is not None]
        header_info: frozenset[object] = NO_HEADER_INFO | frozenset(trailers)
        frame_after = bytes(run.buf)
        run.trace.append(
            "step 7: indicated with CryptoDone = 1 and CRYPTO_SUCCESS; the sequence number is left to "
            "the transport (RX-TRANSPORT-DOES-REPLAY), so a replayed copy is processed the same way"
        )
        outcome = processed(
            status=SUCCESS_SPEC,
            both=both,
            sa_matched=True,
            frame_after=frame_after,
            frame_clause=frame_clause,
            header_info=header_info,
            label="processed: success" + (" (both portions)" if both else ""),
        )
        info = ReceiveInfo(crypto_done=True, next_crypto_done=both).pack()
        hi = None if not trailers else HeaderInfo(next_header=trailers[-1][0], pad_length=trailers[-1][1])
        return outcome, Indication(frame=frame_after, info=info, header_info=hi)

    def _failed(self, run: _Run, portion: _Portion, *, two_portion: bool, both: bool) -> tuple[Outcome, Indication]:
        role = ("transport" if both else "tunnel") if two_portion else None
        spec = _status_spec(portion, role)
        details = "; ".join(f.detail for f in portion.failures)
        run.trace.append(
            f"step 4: {details} -> CryptoStatus {_names(spec.allowed)} (RX-CRYPTOSTATUS-RESULT"
            + (", AMB-06: several checks failed" if len(portion.failures) > 1 else "")
            + ")"
        )
        header_info: frozenset[object] = NO_HEADER_INFO
        if portion.trailer is not None:
            header_info = header_info | {portion.trailer}
        outcome = processed(
            status=spec,
            both=both,
            sa_matched=True,
            frame_after=None,
            header_info=header_info,
            label=f"processed: {_names(frozenset({spec.reference}))}",
        )
        info = ReceiveInfo(crypto_done=True, next_crypto_done=both, crypto_status=spec.reference).pack()
        return outcome, Indication(frame=run.frame, info=info)


_AUTH_CODES = {
    ("ah-icv", "transport"): CryptoStatus.TRANSPORT_AH_AUTH_FAILED,
    ("ah-icv", "tunnel"): CryptoStatus.TUNNEL_AH_AUTH_FAILED,
    ("esp-icv", "transport"): CryptoStatus.TRANSPORT_ESP_AUTH_FAILED,
    ("esp-icv", "tunnel"): CryptoStatus.TUNNEL_ESP_AUTH_FAILED,
}
_FIXED_CODES: dict[str, frozenset[int]] = {
    "protocol": frozenset({CryptoStatus.INVALID_PROTOCOL}),
    "syntax": frozenset({CryptoStatus.INVALID_PACKET_SYNTAX}),
    "esp-spi": frozenset({CryptoStatus.GENERIC_ERROR, CryptoStatus.INVALID_PROTOCOL}),
    "pad": frozenset({CryptoStatus.GENERIC_ERROR, CryptoStatus.INVALID_PACKET_SYNTAX}),
}


def _status_spec(portion: _Portion, role: str | None) -> StatusSpec:
    """RX-CRYPTOSTATUS-RESULT for a failed portion; ``role`` is the portion of a tunnel+transport frame (or None)."""
    allowed: set[int] = set()
    narrow: set[int] = set()
    reference: int | None = None
    for failure in portion.failures:
        if failure.kind in _FIXED_CODES:
            codes = _FIXED_CODES[failure.kind]
            allowed |= codes
            narrow |= codes
            first = min(codes)
        else:
            both_families = {_AUTH_CODES[(failure.kind, "transport")], _AUTH_CODES[(failure.kind, "tunnel")]}
            mode = role or portion.mode
            exact = _AUTH_CODES[(failure.kind, mode)] if mode is not None else None
            if role is not None and exact is not None:
                allowed.add(exact)
            else:
                allowed |= both_families
            narrow |= {exact} if exact is not None else both_families
            first = exact if exact is not None else _AUTH_CODES[(failure.kind, "transport")]
        if reference is None:
            reference = first
    assert reference is not None
    only_pad = all(f.kind == "pad" for f in portion.failures)
    why = "; ".join(f.detail for f in portion.failures)
    if len(portion.failures) > 1:
        why += " (AMB-06: several checks failed, the code of any of them)"
    return StatusSpec(
        reference=reference,
        allowed=frozenset(allowed),
        why=why,
        level=level_of("AMB-08") if only_pad else level_of("RX-CRYPTOSTATUS-RESULT"),
        reading="AMB-08" if only_pad else None,
        narrow=frozenset(narrow) if role is None else None,
        narrow_reading="AMB-07" if role is None else None,
        failure=True,
        integrity_failure=not only_pad,
    )


def _names(codes: frozenset[int]) -> str:
    return "/".join("CRYPTO_" + CryptoStatus(c).name for c in sorted(codes) if c in FAILURE_CODES or c == 0)


def _peek_next_header(sa: SecAssoc, data: bytes) -> int | None:
    """The ESP Next Header byte decrypted without authentication (AMB-07 needs the mode of a failed header).

    A NIC that decrypts in place sees the same byte; it is used only to pick the code family, never to decide
    success. None when the packet is too short or the ciphertext is not whole blocks.
    """
    try:
        layout = esp_layout(sa)
    except ValueError:
        return None
    ct_start = ESP_HEADER_LENGTH + layout.iv_length
    icv_start = len(data) - layout.icv_length
    if icv_start - ct_start < 2:
        return None
    enc = sa.encryption
    if layout.cipher == "null" or enc is None:
        return data[icv_start - 1]
    if layout.cipher == "cbc":
        block = layout.block_size
        if (icv_start - ct_start) % block:
            return None
        last = data[icv_start - block : icv_start]
        prev = (
            data[icv_start - 2 * block : icv_start - block]
            if icv_start - 2 * block >= ct_start
            else (data[ESP_HEADER_LENGTH:ct_start])
        )
        return crypto.cbc_decrypt(enc.algorithm, enc.key, prev, last)[-1]
    # GCM (RFC 4106): CTR keystream block j = E(K, salt | IV | j), plaintext counter blocks start at 2.
    pos = icv_start - 1 - ct_start
    counter = enc.salt + data[ESP_HEADER_LENGTH:ct_start] + (2 + pos // 16).to_bytes(4, "big")
    keystream = Cipher(algorithms.AES(enc.key), modes.ECB()).encryptor().update(counter)
    return data[icv_start - 1] ^ keystream[pos % 16]
