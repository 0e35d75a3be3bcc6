"""``corruptions()``: one labelled corruption of a generated frame, with the outcome class the spec predicts.

Two ways to corrupt, chosen per kind:

- on the bytes (bit flips, truncation, trailing garbage, a wrong IPv4 checksum), located with the keyless
  ``dissect_frame`` view of the encoded frame; lengths and the IPv4 header checksum are fixed up afterwards unless the
  corruption is about them, so exactly one thing is wrong;
- on the value, then re-encoded (bad pad bytes, pad length too large, wrong next header, wrong key, wrong ESN high
  bits, AH dropped from an AH+ESP bundle): these must sit inside the encryption or under a valid ICV, and they work
  for the inner (transport) portion of a nested frame too, because the encoder seals the outer portion over them.

The prediction (``CorruptionLabel.predicts``) follows section 3.2 (RX-CRYPTOSTATUS-RESULT) and the AMB-05/06/07/08
readings; it depends only on the frame's structure and on which portions the generator expects processed
(``GeneratedFrame.sa_ids``), never on a model run. The self-test compares it with the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from hypothesis import event
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from reference_model.constants import (
    ALL_UDP_ESP,
    CRYPTO_STATUS_SHIFT,
    ETHERNET_MIN_FRAME,
    AuthenticationAlgorithm,
    EncryptionAlgorithm,
    IpProtocol,
    Operation,
)
from reference_model.ndis import AuthenticationSpec, Capabilities, EncryptionSpec, SecAssoc
from reference_model.packets import AhLayer, Datagram, EspLayer, Frame, Upper
from reference_model.wire.checksum import internet_checksum
from reference_model.wire.dissect import DatagramView, dissect_datagram, dissect_frame
from reference_model.wire.esp import esp_layout, open_esp
from reference_model.wire.frame import encode_datagram, encode_frame
from strategies._check import check_type
from strategies._draw import integers, pick
from strategies.frames import IMMUTABLE_V4_OPTIONS, MUTABLE_V4_OPTIONS
from strategies.labels import CorruptionKind, CorruptionLabel, OutcomeClass, auth_failed
from strategies.security_associations import SaTable
from strategies.values import CorruptedFrame, GeneratedFrame

_ = CRYPTO_STATUS_SHIFT  # (kept for readers: CryptoStatus lives in bits 16..31 of the receive OOB value)

U32 = 0xFFFFFFFF
NP = OutcomeClass.NOT_PROCESSED


@dataclass(frozen=True, slots=True, kw_only=True)
class _Ctx:
    """What every corruption needs to know about the frame."""

    gf: GeneratedFrame
    dv: DatagramView
    ip_off: int
    outer: Datagram
    outer_processed: bool
    inner_processed: bool
    tunnel: bool
    spis: frozenset[int]
    caps: Capabilities | None
    both_modes: bool
    """The capabilities claim transport and tunnel (and every UDP-ESP subtype when the frame uses UDP-ESP), so a
    garbled next header, which hides the mode and the subtype, cannot push the frame out of them."""

    @property
    def has_ah(self) -> bool:
        return self.outer.ah is not None

    @property
    def esp(self) -> EspLayer | None:
        return self.outer.esp


Option = tuple[CorruptionKind, str, Callable[[st.DrawFn, "_Ctx"], CorruptedFrame]]


# --------------------------------------------------------------------------------------------------------------------
# Byte helpers


def _fix_ip(buf: bytearray, dv: DatagramView, ip_off: int, new_end: int) -> None:
    """Set IP (and UDP-encapsulation) lengths for a datagram now ending at ``new_end``; recompute the IPv4 checksum."""
    if dv.version == 4:
        buf[ip_off + 2 : ip_off + 4] = (new_end - ip_off).to_bytes(2, "big")
    else:
        buf[ip_off + 4 : ip_off + 6] = (new_end - ip_off - 40).to_bytes(2, "big")
    if dv.udp is not None and dv.udp.offset + 8 <= new_end:
        buf[dv.udp.offset + 4 : dv.udp.offset + 6] = (new_end - dv.udp.offset).to_bytes(2, "big")
        buf[dv.udp.offset + 6 : dv.udp.offset + 8] = b"\x00\x00"  # RFC 3948: zero checksum
    _fix_checksum(buf, dv, ip_off)


def _fix_checksum(buf: bytearray, dv: DatagramView, ip_off: int) -> None:
    if dv.version == 4:
        hl = dv.ip_header_length
        buf[ip_off + 10 : ip_off + 12] = b"\x00\x00"
        buf[ip_off + 10 : ip_off + 12] = internet_checksum(bytes(buf[ip_off : ip_off + hl])).to_bytes(2, "big")


def _pad_frame(buf: bytes | bytearray) -> bytes:
    data = bytes(buf)
    return data + bytes(ETHERNET_MIN_FRAME - len(data)) if len(data) < ETHERNET_MIN_FRAME else data


def _flip(draw: st.DrawFn, c: _Ctx, lo: int, hi: int, *, fix_checksum: bool = True) -> bytearray:
    """Flip one drawn bit in ``[lo, hi)`` of the frame; keep the IPv4 header checksum right unless told not to."""
    buf = bytearray(c.gf.data)
    pos = draw(integers(lo, hi - 1))
    buf[pos] ^= 1 << draw(integers(0, 7))
    if fix_checksum:
        _fix_checksum(buf, c.dv, c.ip_off)
    return buf


def _made(  # noqa: PLR0917 (arguments in the order of the label they fill)
    c: _Ctx, data: bytes | bytearray, kind: CorruptionKind, where: str, predicts: OutcomeClass, why: str,
    frame: Frame | None = None,
) -> CorruptedFrame:
    if not c.outer_processed and predicts is not NP:
        predicts, why = _unprocessed(c, predicts, why)
    return CorruptedFrame(
        original=c.gf,
        data=_pad_frame(data),
        label=CorruptionLabel(kind=kind, where=where, predicts=predicts, why=why,
                              or_not_processed=_subtype_blind(c, predicts)),
        frame=c.gf.frame if frame is None else frame,
    )


def _subtype_blind(c: _Ctx, predicts: OutcomeClass) -> bool:
    """A failing check on a UDP-ESP frame, on a NIC that does not claim every subtype (see the label field)."""
    return not c.both_modes and _has_udp(c.outer) and predicts not in (NP, *_SUCCESSES)


_MODE_CLAUSES = ("RX-CAPS-TRANSPORT", "RX-CAPS-TPT-TUN", "RX-CAPS-UDPESP")
"""Clauses whose capability check needs the mode, i.e. the decrypted next header (the UDP-ESP subtype names a mode)."""
_SUCCESSES = (OutcomeClass.SUCCESS, OutcomeClass.SUCCESS_OR_NOT_PROCESSED)


def _unprocessed(c: _Ctx, predicts: OutcomeClass, why: str) -> tuple[OutcomeClass, str]:
    """The prediction for a corruption of a frame the NIC leaves alone.

    Normally "not processed" whatever the corruption. But when the frame is left alone only because of its mode
    (a transport portion on a NIC without ``Transport``), the mode is read from the decrypted next header (AMB-05); a
    corruption that hides it lets a NIC check the frame and fail it, so a failure is as right as "not processed".
    """
    if c.gf.note in _MODE_CLAUSES and predicts not in _SUCCESSES:
        widened = OutcomeClass.ANY if predicts in (OutcomeClass.PROCESSED, OutcomeClass.ANY) else (
            OutcomeClass.FAILURE_OR_NOT_PROCESSED)
        return widened, f"{why}; the frame is outside the claimed modes ({c.gf.note}) only if its mode can be read"
    return NP, f"the original frame is not processed ({c.gf.note}), so neither is this one"


def _as_is(c: _Ctx) -> OutcomeClass:
    return OutcomeClass.SUCCESS if c.outer_processed else NP


# --------------------------------------------------------------------------------------------------------------------
# Byte-level kinds


def _esp_regions(c: _Ctx) -> tuple[int, int, int, int, int] | None:
    """(esp offset, iv start, ciphertext start, icv start, end) of the outer ESP, or None."""
    if c.esp is None or c.dv.esp is None:
        return None
    layout = esp_layout(c.esp.sec_assoc)
    e = c.dv.esp.offset
    end = c.dv.end
    return e, e + 8, e + 8 + layout.iv_length, end - layout.icv_length, end


def _esp_failure(c: _Ctx, what: str) -> tuple[OutcomeClass, str]:
    if c.has_ah:
        return OutcomeClass.ANY_FAILURE, f"{what} under AH: the AH ICV and the ESP ICV both fail (AMB-06)"
    p = auth_failed(ah=False, tunnel=c.tunnel)
    if _has_udp(c.outer):
        # The UDP-ESP subtype depends on what the failed ESP protects, so it is unknown too (CAP-02, RX-CAPS-UDPESP).
        p = _mode_blind(c, p)
    return p, f"{what} is covered by the ESP ICV (RX-CRYPTOSTATUS-RESULT)"


def _mode_blind(c: _Ctx, p: OutcomeClass) -> OutcomeClass:
    """Widen ``p`` when the NIC cannot read the mode (garbled trailer) and claims only one mode (AMB-05)."""
    if c.both_modes:
        return p
    if p is OutcomeClass.ANY_FAILURE:
        return OutcomeClass.FAILURE_OR_NOT_PROCESSED
    if p is OutcomeClass.PROCESSED:
        return OutcomeClass.ANY
    if p in (OutcomeClass.TRANSPORT_ESP_AUTH_FAILED, OutcomeClass.TUNNEL_ESP_AUTH_FAILED,
             OutcomeClass.ESP_AUTH_FAILED_EITHER_MODE):
        return OutcomeClass.ESP_AUTH_FAILED_OR_NOT_PROCESSED
    return p


def _garbling_failure(c: _Ctx, what: str) -> tuple[OutcomeClass, str]:
    """A flip that may garble the decrypted trailer: the ICV fails, and the next header that tells the mode
    (AMB-05/07) may be garbage, so either ESP code is right; on a NIC claiming one mode, so is "not processed"."""
    if c.has_ah:
        return _esp_failure(c, what)
    why = f"{what} is covered by the ESP ICV; the decrypted next header may be garbage, so the mode is unknown"
    if c.both_modes:
        return OutcomeClass.ESP_AUTH_FAILED_EITHER_MODE, why
    return OutcomeClass.ESP_AUTH_FAILED_OR_NOT_PROCESSED, why + " and may be one the NIC does not claim"


def _byte_options(c: _Ctx) -> list[Option]:
    out: list[Option] = []
    dv = c.dv
    r = _esp_regions(c)
    esp_icv = c.esp is not None and c.esp.sec_assoc.icv_length > 0
    if r is not None and esp_icv:
        e, iv, ct, icv, end = r

        def icv_flip(draw: st.DrawFn, c: _Ctx) -> CorruptedFrame:
            p, why = _esp_failure(c, "the ICV")
            return _made(c, _flip(draw, c, icv, end), CorruptionKind.ESP_ICV_FLIP, "outer esp.icv", p, why)

        out.append((CorruptionKind.ESP_ICV_FLIP, "outer", icv_flip))
        if icv > ct:

            def ct_flip(draw: st.DrawFn, c: _Ctx) -> CorruptedFrame:
                p, why = _garbling_failure(c, "the ciphertext")
                return _made(c, _flip(draw, c, ct, icv), CorruptionKind.CIPHERTEXT_FLIP, "outer esp.ciphertext", p,
                             why)

            out.append((CorruptionKind.CIPHERTEXT_FLIP, "outer", ct_flip))
        if ct > iv:

            def iv_flip(draw: st.DrawFn, c: _Ctx) -> CorruptedFrame:
                p, why = _garbling_failure(c, "the IV")
                return _made(c, _flip(draw, c, iv, ct), CorruptionKind.IV_FLIP, "outer esp.iv", p, why)

            out.append((CorruptionKind.IV_FLIP, "outer", iv_flip))

        def seq_flip(draw: st.DrawFn, c: _Ctx) -> CorruptedFrame:
            p, why = _esp_failure(c, "the sequence number")
            return _made(c, _flip(draw, c, e + 4, e + 8), CorruptionKind.ESP_SEQ_FLIP, "outer esp.seq", p, why)

        out.append((CorruptionKind.ESP_SEQ_FLIP, "outer", seq_flip))
    if r is not None and not c.has_ah:

        def spi_flip(draw: st.DrawFn, c: _Ctx) -> CorruptedFrame:
            e = r[0]
            buf = bytearray(c.gf.data)
            spi = int.from_bytes(buf[e : e + 4], "big")
            new = _flipped_spi(draw, spi, c.spis)
            buf[e : e + 4] = new.to_bytes(4, "big")
            return _made(c, buf, CorruptionKind.ESP_SPI_FLIP, "outer esp.spi", NP,
                         f"SPI 0x{new:08x} matches no SA (RX-NO-SA-NO-OOB)")

        out.append((CorruptionKind.ESP_SPI_FLIP, "outer", spi_flip))
    if dv.ah is not None and c.has_ah:
        ah = dv.ah

        def ah_icv(draw: st.DrawFn, c: _Ctx) -> CorruptedFrame:
            return _made(c, _flip(draw, c, ah.icv_offset, ah.icv_offset + ah.icv_length), CorruptionKind.AH_ICV_FLIP,
                         "outer ah.icv", auth_failed(ah=True, tunnel=c.tunnel), "the AH ICV no longer verifies")

        def ah_header(draw: st.DrawFn, c: _Ctx) -> CorruptedFrame:
            lo = pick(draw, (ah.offset + 8, ah.offset + 2))  # sequence number or reserved: both under the ICV
            return _made(c, _flip(draw, c, lo, lo + (4 if lo == ah.offset + 8 else 2)), CorruptionKind.AH_HEADER_FLIP,
                         "outer ah.seq" if lo == ah.offset + 8 else "outer ah.reserved",
                         auth_failed(ah=True, tunnel=c.tunnel), "AH header fields are covered by the AH ICV")

        out.append((CorruptionKind.AH_ICV_FLIP, "outer", ah_icv))
        out.append((CorruptionKind.AH_HEADER_FLIP, "outer", ah_header))
        if c.esp is None:

            def ah_spi(draw: st.DrawFn, c: _Ctx) -> CorruptedFrame:
                buf = bytearray(c.gf.data)
                spi = int.from_bytes(buf[ah.offset + 4 : ah.offset + 8], "big")
                new = _flipped_spi(draw, spi, c.spis)
                buf[ah.offset + 4 : ah.offset + 8] = new.to_bytes(4, "big")
                return _made(c, buf, CorruptionKind.AH_SPI_FLIP, "outer ah.spi", NP,
                             f"SPI 0x{new:08x} matches no SA (RX-NO-SA-NO-OOB)")

            out.append((CorruptionKind.AH_SPI_FLIP, "outer", ah_spi))
    out += _ip_options(c)
    out += _truncations(c)
    if r is not None and esp_layout(c.esp.sec_assoc).block_size > 1 and r[3] - r[2] > 0:  # type: ignore[union-attr]
        out.append((CorruptionKind.CIPHERTEXT_NOT_BLOCK_MULTIPLE, "outer", _not_block_multiple))

    def garbage(draw: st.DrawFn, c: _Ctx) -> CorruptedFrame:
        n = draw(integers(1, 32))
        buf = bytearray(c.gf.data[: c.dv.end]) + bytes((0xA5 ^ i) & 0xFF or 1 for i in range(n))
        return _made(c, buf, CorruptionKind.TRAILING_GARBAGE, f"{n} bytes after the datagram", _as_is(c),
                     "bytes beyond the IP length are not part of the datagram (like Ethernet padding)")

    out.append((CorruptionKind.TRAILING_GARBAGE, "frame", garbage))
    return out


def _flipped_spi(draw: st.DrawFn, spi: int, used: frozenset[int]) -> int:
    """``spi`` with one bit flipped, the result >= 256 and not an SPI of the table (so it matches nothing)."""
    start = draw(integers(0, 31))
    for k in range(32):
        new = spi ^ (1 << ((start + k) % 32))
        if new >= 256 and new not in used:
            return new
    return 0xDEADBEEF if spi != 0xDEADBEEF else 0xDEADBEEE


def _ip_options(c: _Ctx) -> list[Option]:
    dv = c.dv
    out: list[Option] = []
    ah_fails = auth_failed(ah=True, tunnel=c.tunnel) if c.has_ah else _as_is(c)
    ah_why = "AH covers it (IETF-AH-MUTABLE-V4/V6)" if c.has_ah else "only AH would cover the outer IP header"
    if dv.version == 4:
        mutable = [(c.ip_off + 1, c.ip_off + 2, "tos"), (c.ip_off + 8, c.ip_off + 9, "ttl")]
        immutable = [(c.ip_off + 4, c.ip_off + 6, "identification"), (c.ip_off + 12, c.ip_off + 16, "src")]
    else:
        mutable = [(c.ip_off + 7, c.ip_off + 8, "hop limit"), (c.ip_off + 1, c.ip_off + 4, "flow label")]
        immutable = [(c.ip_off + 8, c.ip_off + 24, "src")]

    def mut(draw: st.DrawFn, c: _Ctx) -> CorruptedFrame:
        lo, hi, name = pick(draw, mutable)
        if name == "flow label":
            buf = bytearray(c.gf.data)
            buf[c.ip_off + 3] ^= 1 << draw(integers(0, 7))  # low byte of the flow label only
        else:
            buf = _flip(draw, c, lo, hi)
        return _made(c, buf, CorruptionKind.IP_MUTABLE_FLIP, f"outer ip.{name}", _as_is(c),
                     "mutable fields are zeroed for the AH ICV and not covered by ESP")

    def immut(draw: st.DrawFn, c: _Ctx) -> CorruptedFrame:
        lo, hi, name = pick(draw, immutable)
        return _made(c, _flip(draw, c, lo, hi), CorruptionKind.IP_IMMUTABLE_FLIP, f"outer ip.{name}", ah_fails,
                     f"{name} is immutable: {ah_why}; the source address is not matched (AMB-03)")

    out.append((CorruptionKind.IP_MUTABLE_FLIP, "outer", mut))
    out.append((CorruptionKind.IP_IMMUTABLE_FLIP, "outer", immut))
    if dv.version == 4:

        def checksum(draw: st.DrawFn, c: _Ctx) -> CorruptedFrame:
            buf = _flip(draw, c, c.ip_off + 10, c.ip_off + 12, fix_checksum=False)
            p = OutcomeClass.SUCCESS_OR_NOT_PROCESSED if c.outer_processed else NP
            return _made(c, buf, CorruptionKind.BAD_IPV4_CHECKSUM, "outer ip.checksum", p,
                         "the spec does not say whether a NIC may process a datagram with a bad header checksum")

        out.append((CorruptionKind.BAD_IPV4_CHECKSUM, "outer", checksum))
        with_data = [o for o in dv.ipv4_options if o.length > 2]
        muts = [o for o in with_data if o.option_type in MUTABLE_V4_OPTIONS]
        imms = [o for o in with_data if o.option_type in IMMUTABLE_V4_OPTIONS]
        if muts:

            def opt_mut(draw: st.DrawFn, c: _Ctx) -> CorruptedFrame:
                o = pick(draw, muts)
                lo = o.offset + 3 if o.length > 3 else o.offset + 2  # skip type, length and the pointer byte
                return _made(c, _flip(draw, c, lo, o.offset + o.length), CorruptionKind.IPV4_OPTION_MUTABLE_FLIP,
                             f"outer ip.option {o.option_type}", _as_is(c),
                             "a mutable option is zeroed for the AH ICV (IETF-AH-OPTIONS-V4)")

            out.append((CorruptionKind.IPV4_OPTION_MUTABLE_FLIP, "outer", opt_mut))
        if imms:

            def opt_imm(draw: st.DrawFn, c: _Ctx) -> CorruptedFrame:
                o = pick(draw, imms)
                return _made(c, _flip(draw, c, o.offset + 2, o.offset + o.length),
                             CorruptionKind.IPV4_OPTION_IMMUTABLE_FLIP, f"outer ip.option {o.option_type}", ah_fails,
                             f"an immutable option: {ah_why} (IETF-AH-OPTIONS-V4)")

            out.append((CorruptionKind.IPV4_OPTION_IMMUTABLE_FLIP, "outer", opt_imm))
    return out


def _truncations(c: _Ctx) -> list[Option]:
    """Cuts at every structural boundary of the outer datagram, with the IP (and UDP) lengths made consistent."""
    dv = c.dv
    if dv.ipsec_offset is None:
        return []
    cuts: list[tuple[str, int]] = [("after the IP header chain", dv.protocol_offset or dv.ipsec_offset)]
    if dv.udp is not None:
        cuts.append(("after the UDP header", dv.udp.offset + 8))
    spi_end = dv.ipsec_offset + (8 if dv.ipsec_kind == "ah" else 4)
    if dv.ah is not None:
        a = dv.ah
        cuts += [("inside ah.spi", a.offset + 6), ("after ah.seq", a.offset + 12),
                 ("inside ah.icv", a.icv_offset + max(1, a.icv_length // 2))]
    r = _esp_regions(c)
    if r is not None:
        e, iv, ct, icv, end = r
        cuts += [("inside esp.spi", e + 2), ("after esp.spi", e + 4), ("after esp.seq", iv)]
        if ct > iv:
            cuts.append(("after esp.iv", ct))
        if icv - ct > 1:
            cuts.append(("inside esp.ciphertext", ct + (icv - ct) // 2))
        if end > icv:
            cuts += [("before esp.icv", icv), ("inside esp.icv", icv + (end - icv) // 2)]
        cuts.append(("last byte", end - 1))
    cuts = [(n, k) for n, k in cuts if dv.header_offset < k < dv.end]
    if not cuts:
        return []

    def trunc(draw: st.DrawFn, c: _Ctx) -> CorruptedFrame:
        name, cut = pick(draw, cuts)
        buf = bytearray(c.gf.data[:cut])
        _fix_ip(buf, c.dv, c.ip_off, cut)
        if cut < spi_end:
            p, why = NP, "the SPI is incomplete, so no SA can match (RX-NO-SA-NO-OOB)"
        elif c.has_ah:
            p, why = OutcomeClass.ANY_FAILURE, "AH covers the total length; the payload is short too (AMB-06)"
        elif r is not None:
            layout = esp_layout(c.esp.sec_assoc)  # type: ignore[union-attr]
            minimum = 8 + layout.iv_length + 2 + layout.icv_length
            if cut - r[0] < minimum:
                p, why = OutcomeClass.INVALID_PACKET_SYNTAX, "too short for the ESP fields (RX-CRYPTOSTATUS-RESULT)"
            elif layout.icv_length:
                p, why = OutcomeClass.ANY_FAILURE, "the ICV and the length checks fail together (AMB-06)"
            else:
                p, why = OutcomeClass.PROCESSED, "no ICV: what decryption of the shortened ciphertext finds is open"
        else:
            p, why = OutcomeClass.ANY_FAILURE, "truncated IPsec payload"
        if cut >= spi_end and p is not OutcomeClass.INVALID_PACKET_SYNTAX:
            p = _mode_blind(c, p)
        return _made(c, buf, CorruptionKind.TRUNCATION, f"truncate {name}", p, why)

    return [(CorruptionKind.TRUNCATION, "outer", trunc)]


def _not_block_multiple(draw: st.DrawFn, c: _Ctx) -> CorruptedFrame:
    r = _esp_regions(c)
    assert r is not None
    assert c.esp is not None
    layout = esp_layout(c.esp.sec_assoc)
    k = draw(integers(1, layout.block_size - 1))
    _e, _iv, ct, icv, _end = r
    k = min(k, icv - ct)
    data = c.gf.data
    buf = bytearray(data[: icv - k] + data[icv : c.dv.end])
    _fix_ip(buf, c.dv, c.ip_off, c.dv.end - k)
    if c.has_ah or layout.icv_length:
        p, why = OutcomeClass.ANY_FAILURE, "the ICV fails as well as the block-length check (AMB-06)"
    else:
        p, why = OutcomeClass.INVALID_PACKET_SYNTAX, "ciphertext not a block multiple (RX-CRYPTOSTATUS-RESULT, AMB-08)"
    return _made(c, buf, CorruptionKind.CIPHERTEXT_NOT_BLOCK_MULTIPLE, f"outer esp.ciphertext minus {k} bytes",
                 _mode_blind(c, p), why)


# --------------------------------------------------------------------------------------------------------------------
# Value-level kinds (re-encoded)


def _portions(c: _Ctx) -> list[tuple[str, Datagram, bool, bool]]:
    """(name, datagram, processed, tunnel) for the outer portion and, in a nested frame, the inner one."""
    out = [("outer", c.outer, c.outer_processed, c.tunnel)]
    inner = c.outer.payload
    if isinstance(inner, Datagram) and inner.protected:
        out.append(("inner", inner, c.inner_processed, False))
    return out


def _replace_portion(frame: Frame, which: str, new: Datagram) -> Frame:
    if which == "outer":
        return replace(frame, datagram=new)
    return replace(frame, datagram=replace(frame.datagram, payload=new))


def _value_made(  # noqa: PLR0917 (arguments in the order of the label they fill)
    c: _Ctx, which: str, new: Datagram, kind: CorruptionKind, where: str, p: OutcomeClass, why: str, processed: bool
) -> CorruptedFrame:
    frame = _replace_portion(c.gf.frame, which, new)
    if not processed:
        if which == "inner" and c.outer_processed:
            p, why = OutcomeClass.SUCCESS, "the NIC does not process this portion (AMB-05); the outer one verifies"
        else:
            p, why = _unprocessed(c, p, why)
    return CorruptedFrame(original=c.gf, data=encode_frame(frame),
                          label=CorruptionLabel(kind=kind, where=f"{which} {where}", predicts=p, why=why,
                                                or_not_processed=_subtype_blind(c, p)),
                          frame=frame)


def _wrong_key_spec(sa: SecAssoc) -> SecAssoc:
    """The same SA with its integrity key changed (first byte inverted): packets sealed with it fail the ICV."""
    if sa.encryption is not None and sa.encryption.icv_length is not None and sa.encryption.salt:
        enc: EncryptionSpec = sa.encryption
        return replace(sa, encryption=replace(enc, key=bytes([enc.key[0] ^ 0xFF]) + enc.key[1:]))
    auth: AuthenticationSpec | None = sa.authentication
    assert auth is not None
    return replace(sa, authentication=replace(auth, key=bytes([auth.key[0] ^ 0xFF]) + auth.key[1:]))


def _esp_plaintext_facts(dg: Datagram) -> tuple[int, int] | None:
    """(pad total, bytes before the trailer) of ``dg``'s ESP, read back by opening the encoded datagram."""
    assert dg.esp is not None
    data = encode_datagram(dg)
    view = dissect_datagram(data)
    if view.esp is None:
        return None
    sa = dg.esp.sec_assoc
    opened = open_esp(sa, data[view.esp.offset : view.end], seq_hi=dg.esp.seq >> 32 if sa.esn else 0)
    if not opened.ok:
        return None
    return opened.pad_length, len(opened.payload) + opened.pad_length


def _value_options(c: _Ctx) -> list[Option]:
    out: list[Option] = []
    for which, dg, processed, tunnel in _portions(c):
        esp, ah = dg.esp, dg.ah
        if which == "inner" and not c.outer_processed:
            continue
        layers: list[tuple[str, EspLayer | AhLayer]] = []
        if esp is not None and esp.sec_assoc.icv_length:
            layers.append(("esp", esp))
        if ah is not None:
            layers.append(("ah", ah))
        for name, layer in layers:
            is_ah = name == "ah"

            def wrong_key(draw: st.DrawFn, c: _Ctx, *, which: str = which, dg: Datagram = dg, name: str = name,
                          layer: EspLayer | AhLayer = layer, processed: bool = processed, tunnel: bool = tunnel,
                          is_ah: bool = is_ah) -> CorruptedFrame:
                bad = replace(layer, sec_assoc=_wrong_key_spec(layer.sec_assoc))
                new = replace(dg, ah=bad) if is_ah else replace(dg, esp=bad)  # type: ignore[arg-type]
                p, why = auth_failed(ah=is_ah, tunnel=tunnel), "sealed with another integrity key"
                enc = layer.sec_assoc.encryption
                if not is_ah and enc is not None and enc.salt and not (c.has_ah and which == "outer"):
                    # AES-GCM: the integrity key is the cipher key, so the decrypted trailer is garbage too.
                    p = _mode_blind(c, OutcomeClass.ESP_AUTH_FAILED_EITHER_MODE)
                    why = "sealed with another AES-GCM key: the tag fails and the decrypted next header is garbage"
                if _has_udp(c.outer):
                    p = _mode_blind(c, p)
                return _value_made(c, which, new, CorruptionKind.WRONG_KEY, f"{name}.key", p, why, processed)

            out.append((CorruptionKind.WRONG_KEY, which, wrong_key))
            if layer.sec_assoc.esn:

                def wrong_esn(draw: st.DrawFn, c: _Ctx, *, which: str = which, dg: Datagram = dg, name: str = name,
                              layer: EspLayer | AhLayer = layer, processed: bool = processed, tunnel: bool = tunnel,
                              is_ah: bool = is_ah) -> CorruptedFrame:
                    hi = (layer.sec_assoc.seq_hi + pick(draw, (1, 0xFFFFFFFF, 0x80000000))) & U32
                    bad = replace(layer, seq=hi << 32 | (layer.seq & U32))
                    new = replace(dg, ah=bad) if is_ah else replace(dg, esp=bad)  # type: ignore[arg-type]
                    p = auth_failed(ah=is_ah, tunnel=tunnel)
                    return _value_made(c, which, new, CorruptionKind.WRONG_ESN_HIGH_BITS, f"{name}.seq_hi",
                                       _mode_blind(c, p) if _has_udp(c.outer) else p,
                                       f"ICV computed with high bits 0x{hi:08x}, the SA has "
                                       f"0x{layer.sec_assoc.seq_hi:08x} (IETF-ESP-ESN, AMB-16)", processed)

                out.append((CorruptionKind.WRONG_ESN_HIGH_BITS, which, wrong_esn))
        if esp is not None and esp.sec_assoc.icv_length:
            out += _trailer_options(c, which=which, dg=dg, esp=esp, processed=processed, tunnel=tunnel)
        if which == "outer" and esp is not None and ah is not None:

            def drop_ah(draw: st.DrawFn, c: _Ctx, *, dg: Datagram = dg, processed: bool = processed) -> CorruptedFrame:
                return _value_made(c, "outer", replace(dg, ah=None), CorruptionKind.PROTOCOL_MISMATCH,
                                   "ah removed from an AH+ESP bundle", OutcomeClass.INVALID_PROTOCOL,
                                   "ESP-only packet on an ESP+AH bundle (RX-CRYPTOSTATUS-RESULT)", processed)

            out.append((CorruptionKind.PROTOCOL_MISMATCH, "outer", drop_ah))
        if which == "outer" and (esp is None) != (ah is None) and dg.udp is None:

            def swap(draw: st.DrawFn, c: _Ctx, *, dg: Datagram = dg, processed: bool = processed) -> CorruptedFrame:
                to_ah = dg.esp is not None
                claimed = c.caps is None or (c.caps.ah if to_ah else c.caps.esp)
                p = OutcomeClass.INVALID_PROTOCOL
                why = "the packet's protocol differs from the SA's (RX-CRYPTOSTATUS-RESULT)"
                if not claimed:
                    p, why = NP, f"the NIC does not claim {'AH' if to_ah else 'ESP'} (RX-CAPS-AH/ESP)"
                return _value_made(c, "outer", _swapped_protocol(dg), CorruptionKind.PROTOCOL_MISMATCH,
                                   f"{'esp->ah' if to_ah else 'ah->esp'} under the same SPI", p, why, processed)

            out.append((CorruptionKind.PROTOCOL_MISMATCH, "outer", swap))
    return out


_SWAP_KEY = bytes(range(1, 21))


def _swapped_protocol(dg: Datagram) -> Datagram:
    """``dg`` protected by the other protocol under the same SPI (HMAC-SHA-1 AH for ESP, NULL+HMAC-SHA-1 ESP for AH)."""
    auth = AuthenticationSpec(algorithm=AuthenticationAlgorithm.SHA_1, key=_SWAP_KEY)
    if dg.esp is not None:
        sa = SecAssoc(operation=Operation.AH, spi=dg.esp.sec_assoc.spi, authentication=auth)
        return replace(dg, esp=None, ah=AhLayer(sec_assoc=sa, seq=dg.esp.seq & U32))
    assert dg.ah is not None
    sa = SecAssoc(operation=Operation.ESP, spi=dg.ah.sec_assoc.spi, authentication=auth,
                  encryption=EncryptionSpec(algorithm=EncryptionAlgorithm.NONE))
    return replace(dg, ah=None, esp=EspLayer(sec_assoc=sa, seq=dg.ah.seq & U32))


def _trailer_options(
    c: _Ctx, *, which: str, dg: Datagram, esp: EspLayer, processed: bool, tunnel: bool
) -> list[Option]:
    out: list[Option] = []
    alignment = esp_layout(esp.sec_assoc).alignment

    def bad_pad(draw: st.DrawFn, c: _Ctx) -> CorruptedFrame:
        facts = _esp_plaintext_facts(dg)
        assert facts is not None
        total = facts[0] + alignment
        content = bytes((i * 7 + 3) & 0xFF for i in range(total))  # never 1, 2, 3, ...
        bad = replace(esp, extra_padding=esp.extra_padding + alignment, pad_content=content)
        return _value_made(c, which, replace(dg, esp=bad), CorruptionKind.BAD_PAD_BYTES, "esp.pad",
                           OutcomeClass.BAD_PADDING, "pad bytes under a valid ICV; checking them is a SHOULD (AMB-08)",
                           processed)

    out.append((CorruptionKind.BAD_PAD_BYTES, which, bad_pad))
    facts = _esp_plaintext_facts(dg)
    if facts is not None and facts[1] < 255:

        def pad_len(draw: st.DrawFn, c: _Ctx) -> CorruptedFrame:
            value = draw(integers(facts[1] + 1, 255))
            bad = replace(esp, pad_length_field=value)
            return _value_made(c, which, replace(dg, esp=bad), CorruptionKind.PAD_LENGTH_TOO_LARGE,
                               f"esp.pad_length={value}", OutcomeClass.INVALID_PACKET_SYNTAX,
                               f"pad length {value} > {facts[1]} bytes before the trailer (AMB-08)", processed)

        out.append((CorruptionKind.PAD_LENGTH_TOO_LARGE, which, pad_len))

    def next_header(draw: st.DrawFn, c: _Ctx) -> CorruptedFrame:
        wrong = IpProtocol.TCP if isinstance(dg.payload, Datagram) else IpProtocol.IPV4
        bad = replace(esp, next_header_field=int(wrong))
        if c.both_modes and processed:
            p, why = OutcomeClass.PROCESSED, "the ICV verifies; no code is specified for a mode contradiction (AMB-05)"
        else:
            p, why = OutcomeClass.ANY, "the next header decides the mode (AMB-05), which may be one the NIC lacks"
        frame = _replace_portion(c.gf.frame, which, replace(dg, esp=bad))
        return CorruptedFrame(original=c.gf, data=encode_frame(frame), frame=frame, label=CorruptionLabel(
            kind=CorruptionKind.WRONG_NEXT_HEADER, where=f"{which} esp.next_header={int(wrong)}", predicts=p, why=why,
            or_not_processed=_subtype_blind(c, p)))

    out.append((CorruptionKind.WRONG_NEXT_HEADER, which, next_header))
    _ = tunnel
    return out


# --------------------------------------------------------------------------------------------------------------------
# The strategy


_DRAW_ORDER = (
    # Kinds that only some frames offer come first: the first choice is drawn most often (and is where shrinking
    # goes), so a frame that has IPv4 options, an ESN SA or an AH+ESP bundle gets the corruption made for it.
    CorruptionKind.IPV4_OPTION_MUTABLE_FLIP,
    CorruptionKind.IPV4_OPTION_IMMUTABLE_FLIP,
    CorruptionKind.PROTOCOL_MISMATCH,
    CorruptionKind.WRONG_ESN_HIGH_BITS,
    CorruptionKind.CIPHERTEXT_NOT_BLOCK_MULTIPLE,
    CorruptionKind.PAD_LENGTH_TOO_LARGE,
    CorruptionKind.AH_SPI_FLIP,
    CorruptionKind.AH_HEADER_FLIP,
    CorruptionKind.AH_ICV_FLIP,
    CorruptionKind.ESP_ICV_FLIP,
    CorruptionKind.CIPHERTEXT_FLIP,
    CorruptionKind.IV_FLIP,
    CorruptionKind.ESP_SEQ_FLIP,
    CorruptionKind.ESP_SPI_FLIP,
    CorruptionKind.BAD_PAD_BYTES,
    CorruptionKind.WRONG_NEXT_HEADER,
    CorruptionKind.WRONG_KEY,
    CorruptionKind.TRUNCATION,
    CorruptionKind.BAD_IPV4_CHECKSUM,
    CorruptionKind.IP_IMMUTABLE_FLIP,
    CorruptionKind.IP_MUTABLE_FLIP,
    CorruptionKind.TRAILING_GARBAGE,
)


def _context(frame: GeneratedFrame, sa_table: SaTable | None, caps: Capabilities | None) -> _Ctx | None:
    view = dissect_frame(frame.data)
    dv = view.datagram
    if dv is None or view.ip_offset is None or dv.version is None:
        return None
    outer = frame.frame.datagram
    own = {sa.spi for sa in _sas(outer)}
    return _Ctx(
        gf=frame,
        dv=dv,
        ip_off=view.ip_offset,
        outer=outer,
        outer_processed=frame.processed,
        inner_processed=frame.processed and len(frame.sa_ids) >= 2,
        tunnel=isinstance(outer.payload, Datagram),
        spis=frozenset(own) | (frozenset() if sa_table is None else sa_table.spis),
        caps=caps,
        both_modes=caps is None
        or (caps.transport and caps.tunnel and (not _has_udp(outer) or caps.udp_esp == ALL_UDP_ESP)),
    )


def _has_udp(dg: Datagram) -> bool:
    return dg.udp is not None or (isinstance(dg.payload, Datagram) and _has_udp(dg.payload))


def _sas(dg: Datagram) -> list[SecAssoc]:
    out = [x.sec_assoc for x in (dg.ah, dg.esp) if x is not None]
    if isinstance(dg.payload, Datagram):
        out += _sas(dg.payload)
    return out


def corruption_options(
    frame: GeneratedFrame, sa_table: SaTable | None = None, caps: Capabilities | None = None
) -> list[tuple[CorruptionKind, str]]:
    """Every (kind, portion) of corruption that applies to ``frame``."""
    c = _context(frame, sa_table, caps)
    return [] if c is None else [(k, w) for k, w, _f in _all_options(c)]


def _all_options(c: _Ctx) -> list[Option]:
    return _byte_options(c) + (_value_options(c) if c.outer.protected else [])


@st.composite
def _corruptions(
    draw: st.DrawFn, frame: GeneratedFrame, sa_table: SaTable | None, caps: Capabilities | None
) -> CorruptedFrame:
    c = _context(frame, sa_table, caps)
    assert c is not None
    options = _all_options(c)
    kinds = sorted({k for k, _w, _f in options}, key=_DRAW_ORDER.index)
    kind = pick(draw, kinds)
    _k, _which, build = pick(draw, [o for o in options if o[0] is kind])
    result = build(draw, c)
    event(f"corruption: {kind}")
    event(f"corruption predicts: {result.label.predicts.value}")
    return result


def corruptions(
    *, frame: GeneratedFrame, sa_table: SaTable | None = None, caps: Capabilities | None = None
) -> st.SearchStrategy[CorruptedFrame]:
    """One labelled corruption of ``frame`` (see the module docstring).

    ``sa_table`` lets SPI flips avoid every SPI in it (without it they avoid only the frame's own). ``caps`` (the
    capabilities the frame was generated for) sharpens predictions that depend on which modes the NIC claims;
    without it both are assumed.
    """
    check_type("frame", frame, GeneratedFrame)
    if sa_table is not None:
        check_type("sa_table", sa_table, SaTable)
    if caps is not None:
        check_type("caps", caps, Capabilities)
    if _context(frame, sa_table, caps) is None:
        raise InvalidArgument(f"no corruption applies to this frame ({frame.describe()}): pass an Ethernet/IP frame")
    return _corruptions(frame, sa_table, caps)


def upper_of(frame: Frame) -> Upper:
    payload: Upper | Datagram = frame.datagram
    while isinstance(payload, Datagram):
        payload = payload.payload
    return payload
