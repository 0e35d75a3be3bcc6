"""The vocabulary the strategies speak: packet-shape tags, corruption kinds, and the outcome class a label predicts.

These are our own notions (plain ``Enum``/``StrEnum``, house style), not wire code points. A shape tag says what a
generated frame looks like (it is what ``hypothesis.event()`` counts and what the coverage test asserts on); an
``OutcomeClass`` is the family of receive indications the spec allows for a corrupted frame, so that the self-test
can compare it with the reference model's ``Expectation`` without the strategy ever computing a concrete answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum

from reference_model.constants import CryptoStatus


class Shape(StrEnum):
    """Shape tags of a generated frame. A frame carries every tag that applies to it."""

    IPV4 = "ipv4"
    IPV6 = "ipv6"
    ESP = "esp"
    AH = "ah"
    AH_ESP = "ah+esp"
    TRANSPORT = "transport"
    TUNNEL = "tunnel"
    NESTED = "tunnel-over-transport"
    """An outer tunnel-mode portion around a transport-mode protected datagram (RX-NEXTCRYPTODONE-BOTH-ONLY)."""
    UDP_ESP = "udp-esp"
    UDP_ESP_TRANSPORT = "udp-esp:transport"
    """CAP-02 subtype 0x1: transport-mode ESP in UDP."""
    UDP_ESP_TUNNEL = "udp-esp:tunnel"
    """CAP-02 subtype 0x2: tunnel-mode ESP in UDP around an unprotected datagram."""
    UDP_ESP_TRANSPORT_OVER_UDP_TUNNEL = "udp-esp:transport-over-udp-esp-tunnel"
    """CAP-02 subtype 0x4: UDP-ESP tunnel around an ESP transport portion without UDP."""
    UDP_ESP_UDP_TRANSPORT_OVER_TUNNEL = "udp-esp:udp-esp-transport-over-tunnel"
    """CAP-02 subtype 0x8: ESP tunnel without UDP around a UDP-ESP transport portion."""
    IPV4_OPTIONS_MUTABLE = "ipv4-options-mutable"
    IPV4_OPTIONS_IMMUTABLE = "ipv4-options-immutable"
    IPV6_EXT_BEFORE = "ipv6-ext-before-ipsec"
    IPV6_EXT_AFTER = "ipv6-ext-after-ipsec"
    TCP = "tcp"
    UDP = "udp"
    ICMP = "icmp"
    EMPTY_PAYLOAD = "empty-payload"
    LARGE_PAYLOAD = "large-payload"
    """Upper-layer payload of 1400 bytes or more (jumbo-ish; frames stay under 9000 bytes)."""
    SHORT_PADDED = "short-ethernet-padded"
    """The datagram is shorter than 46 bytes, so the encoder pads the frame to 60 bytes."""
    VLAN = "vlan"
    FRAGMENT = "fragment"
    ESN = "esn"
    ESN_WRAP_EDGE = "esn-wrap-edge"
    """Low 32 sequence bits at 0, 1, 0xFFFFFFFE or 0xFFFFFFFF on an ESN SA (IETF-ESN-SEQH, AMB-16)."""
    WILDCARD_DST = "wildcard-dst"
    NAT_KEEPALIVE = "nat-keepalive"
    IKE = "ike-non-esp-marker"
    NO_SA_UNKNOWN_SPI = "no-sa:unknown-spi"
    NO_SA_OTHER_DST = "no-sa:known-spi-other-dst"
    NO_SA_DELETED = "no-sa:deleted-sa"
    NO_SA_OUTBOUND_ONLY = "no-sa:outbound-sa-only"
    """SPI and destination of an outbound SA only (RX-SA-INBOUND-ONLY)."""
    UNSUPPORTED = "unsupported"
    """Outside the reported capabilities; the clause is in ``GeneratedFrame.note`` (RX-CAPS-*)."""


class OutcomeClass(Enum):
    """What the spec predicts for a frame: a family of (CryptoDone, CryptoStatus) pairs (section 3.2, AMB-06/08)."""

    NOT_PROCESSED = "not processed"
    """CryptoDone = 0 and CryptoStatus = 0 (RX-NO-SA-NO-OOB, RX-FLAGS-CLEAR-NOT-DECRYPTED, RX-CAPS-CHECK)."""
    SUCCESS = "CRYPTO_SUCCESS"
    GENERIC_ERROR = "CRYPTO_GENERIC_ERROR"
    TRANSPORT_AH_AUTH_FAILED = "CRYPTO_TRANSPORT_AH_AUTH_FAILED"
    TRANSPORT_ESP_AUTH_FAILED = "CRYPTO_TRANSPORT_ESP_AUTH_FAILED"
    TUNNEL_AH_AUTH_FAILED = "CRYPTO_TUNNEL_AH_AUTH_FAILED"
    TUNNEL_ESP_AUTH_FAILED = "CRYPTO_TUNNEL_ESP_AUTH_FAILED"
    INVALID_PACKET_SYNTAX = "CRYPTO_INVALID_PACKET_SYNTAX"
    INVALID_PROTOCOL = "CRYPTO_INVALID_PROTOCOL"
    ESP_AUTH_FAILED_EITHER_MODE = "CRYPTO_TRANSPORT_ESP_AUTH_FAILED or CRYPTO_TUNNEL_ESP_AUTH_FAILED"
    """The flip garbles the decrypted trailer, so the next header that tells the mode (AMB-05) is unknowable."""
    ESP_AUTH_FAILED_OR_NOT_PROCESSED = "an ESP AUTH_FAILED code, or not processed"
    """As above, on a NIC that claims only one mode: the mode it reads may be one it does not claim (RX-CAPS-*)."""
    ANY_FAILURE = "processed, any failure code"
    FAILURE_OR_NOT_PROCESSED = "processed with any failure code, or not processed"
    """Several checks fail and the mode is unknowable, on a NIC that claims only one mode (AMB-05/06)."""
    """Several checks fail at once; AMB-06 accepts the code of any failing check."""
    BAD_PADDING = "processed: SUCCESS, GENERIC_ERROR or INVALID_PACKET_SYNTAX"
    """Pad bytes not 1, 2, 3, ... under a valid ICV (AMB-08: checking pad content is only a SHOULD)."""
    PROCESSED = "processed, any code"
    """The spec says the frame is processed but not which result (e.g. a next header that contradicts the mode)."""
    ANY = "any indication"
    """The spec does not constrain the result (e.g. a changed next header on a NIC that claims only one mode)."""
    SUCCESS_OR_NOT_PROCESSED = "CRYPTO_SUCCESS or not processed"
    """The spec is silent on whether the NIC may look at the frame (e.g. a wrong IPv4 header checksum)."""

    def allows(self, *, crypto_done: bool, crypto_status: int) -> bool:
        """Whether an indication with these receive fields falls in this class."""
        if self is OutcomeClass.NOT_PROCESSED:
            return not crypto_done and crypto_status == 0
        if self is OutcomeClass.SUCCESS_OR_NOT_PROCESSED:
            return crypto_status == 0
        if self is OutcomeClass.ANY:
            return True
        if self is OutcomeClass.FAILURE_OR_NOT_PROCESSED:
            return crypto_status != CryptoStatus.SUCCESS if crypto_done else crypto_status == 0
        if self is OutcomeClass.ESP_AUTH_FAILED_OR_NOT_PROCESSED and not crypto_done:
            return crypto_status == 0
        if not crypto_done:
            return False
        if self is OutcomeClass.PROCESSED:
            return True
        if self is OutcomeClass.ANY_FAILURE:
            return crypto_status != CryptoStatus.SUCCESS
        if self in (OutcomeClass.ESP_AUTH_FAILED_EITHER_MODE, OutcomeClass.ESP_AUTH_FAILED_OR_NOT_PROCESSED):
            return crypto_status in _ESP_AUTH_CODES
        if self is OutcomeClass.BAD_PADDING:
            return crypto_status in _BAD_PADDING_CODES
        return crypto_status == CryptoStatus[self.name]


_ESP_AUTH_CODES = frozenset({CryptoStatus.TRANSPORT_ESP_AUTH_FAILED, CryptoStatus.TUNNEL_ESP_AUTH_FAILED})
_BAD_PADDING_CODES = frozenset({CryptoStatus.SUCCESS, CryptoStatus.GENERIC_ERROR, CryptoStatus.INVALID_PACKET_SYNTAX})


def auth_failed(*, ah: bool, tunnel: bool) -> OutcomeClass:
    """RX-CRYPTOSTATUS-RESULT / AMB-07: the AUTH_FAILED class of the failing header's protocol and mode."""
    if ah:
        return OutcomeClass.TUNNEL_AH_AUTH_FAILED if tunnel else OutcomeClass.TRANSPORT_AH_AUTH_FAILED
    return OutcomeClass.TUNNEL_ESP_AUTH_FAILED if tunnel else OutcomeClass.TRANSPORT_ESP_AUTH_FAILED


class CorruptionKind(StrEnum):
    """What a corruption changes. Byte-level kinds edit the encoded bytes; the others re-encode a changed value."""

    ESP_ICV_FLIP = "bit flip: ESP ICV"
    AH_ICV_FLIP = "bit flip: AH ICV"
    CIPHERTEXT_FLIP = "bit flip: ESP ciphertext"
    IV_FLIP = "bit flip: ESP IV"
    ESP_SPI_FLIP = "bit flip: ESP header SPI"
    ESP_SEQ_FLIP = "bit flip: ESP header sequence number"
    AH_HEADER_FLIP = "bit flip: AH header (sequence number or reserved)"
    AH_SPI_FLIP = "bit flip: AH header SPI"
    IP_MUTABLE_FLIP = "bit flip: mutable IP header field"
    IP_IMMUTABLE_FLIP = "bit flip: immutable IP header field"
    IPV4_OPTION_MUTABLE_FLIP = "bit flip: mutable IPv4 option"
    IPV4_OPTION_IMMUTABLE_FLIP = "bit flip: immutable IPv4 option"
    TRUNCATION = "truncation at a structural boundary"
    BAD_PAD_BYTES = "pad bytes not 1, 2, 3, ..."
    PAD_LENGTH_TOO_LARGE = "pad length larger than the payload"
    CIPHERTEXT_NOT_BLOCK_MULTIPLE = "ciphertext not a block multiple"
    WRONG_NEXT_HEADER = "next header wrong for the mode"
    WRONG_KEY = "protected with the wrong key"
    WRONG_ESN_HIGH_BITS = "protected with the wrong ESN high-order bits"
    BAD_IPV4_CHECKSUM = "wrong IPv4 header checksum"
    TRAILING_GARBAGE = "trailing bytes after the datagram"
    PROTOCOL_MISMATCH = "IPsec protocols differ from the SA bundle"


@dataclass(frozen=True, slots=True, kw_only=True)
class CorruptionLabel:
    """What was changed, where, what the spec then predicts, and why (with the clause)."""

    kind: CorruptionKind
    where: str
    """Which header or boundary, e.g. ``outer esp.icv`` or ``truncate before esp.iv``."""
    predicts: OutcomeClass
    why: str
    or_not_processed: bool = False
    """Also accept "not processed": a failed check hides what the NIC needs to tell the UDP-ESP subtype (CAP-02),
    and the subtype it then reads may be one it does not claim (RX-CAPS-UDPESP)."""

    def allows(self, *, crypto_done: bool, crypto_status: int) -> bool:
        """Whether an indication with these receive fields agrees with this label."""
        if self.or_not_processed and OutcomeClass.NOT_PROCESSED.allows(
            crypto_done=crypto_done, crypto_status=crypto_status
        ):
            return True
        return self.predicts.allows(crypto_done=crypto_done, crypto_status=crypto_status)

    def __str__(self) -> str:
        extra = " or not processed" if self.or_not_processed else ""
        return f"{self.kind} at {self.where} -> {self.predicts.value}{extra} ({self.why})"
