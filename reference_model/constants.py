"""Every numeric constant of the spec (section 9.1, with the tables of sections 2, 4 and 5) as IntEnum/IntFlag.

Names follow the NDIS headers with the common prefix dropped, so ``CryptoStatus.TRANSPORT_ESP_AUTH_FAILED`` is
``CRYPTO_TRANSPORT_ESP_AUTH_FAILED``. Values are the ones the spec confirms; the clause or table that carries each one
is named in the class docstring so a reader can check it against ``shared/spec/ipsec-offload-v2.md``.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag


class CryptoStatus(IntEnum):
    """OOB-03: the ``CryptoStatus`` values of the receive OOB data (bits 16..31)."""

    SUCCESS = 0
    GENERIC_ERROR = 1
    TRANSPORT_AH_AUTH_FAILED = 2
    TRANSPORT_ESP_AUTH_FAILED = 3
    TUNNEL_AH_AUTH_FAILED = 4
    TUNNEL_ESP_AUTH_FAILED = 5
    INVALID_PACKET_SYNTAX = 6
    INVALID_PROTOCOL = 7


MAX_HASHES = 4
"""Section 9.1 (H-NDIS-LEGACY), defined next to the CRYPTO_* block."""
TRUNCATED_HASH_LEN = 12
"""Section 9.1 (H-NDIS-LEGACY)."""


class Oid(IntEnum):
    """Section 5.1 and CAP-04: OIDs and status indications."""

    TCP_TASK_IPSEC_OFFLOAD_V2_ADD_SA = 0xFC030202
    TCP_TASK_IPSEC_OFFLOAD_V2_DELETE_SA = 0xFC030203
    TCP_TASK_IPSEC_OFFLOAD_V2_UPDATE_SA = 0xFC030204
    TCP_TASK_IPSEC_OFFLOAD_V2_ADD_SA_EX = 0xFC030205
    TCP_OFFLOAD_CURRENT_CONFIG = 0xFC01020B
    TCP_OFFLOAD_PARAMETERS = 0xFC01020C
    TCP_OFFLOAD_HARDWARE_CAPABILITIES = 0xFC01020D
    OFFLOAD_ENCAPSULATION = 0x0101010A
    # Legacy V1 OIDs, for reference (section 5.1).
    TCP_TASK_IPSEC_ADD_SA = 0xFC010202
    TCP_TASK_IPSEC_DELETE_SA = 0xFC010203
    TCP_TASK_IPSEC_ADD_UDPESP_SA = 0xFC010205
    TCP_TASK_IPSEC_DELETE_UDPESP_SA = 0xFC010206


class StatusIndication(IntEnum):
    """CAP-04: NDIS status indications about offload configuration."""

    TASK_OFFLOAD_CURRENT_CONFIG = 0x40020006
    TASK_OFFLOAD_HARDWARE_CAPABILITIES = 0x40020007


class NdisStatus(IntEnum):
    """Section 5.5: NDIS status codes (the wire form uses the name without ``NDIS_STATUS_``)."""

    SUCCESS = 0x00000000
    PENDING = 0x00000103
    NOT_ACCEPTED = 0x00010003
    REQUEST_ABORTED = 0xC001000C
    INVALID_PARAMETER = 0xC000000D
    FAILURE = 0xC0000001
    RESOURCES = 0xC000009A
    NOT_SUPPORTED = 0xC00000BB
    INVALID_DATA = 0xC0010015

    @property
    def is_success(self) -> bool:
        return self is NdisStatus.SUCCESS


class AuthenticationAlgorithm(IntFlag):
    """CAP-02: ``IPSEC_OFFLOAD_V2_AUTHENTICATION_*`` bits (also single-bit algorithm identifiers, MS-ALG)."""

    MD5 = 0x01
    SHA_1 = 0x02
    SHA_256 = 0x04
    AES_GCM_128 = 0x08
    AES_GCM_192 = 0x10
    AES_GCM_256 = 0x20


class EncryptionAlgorithm(IntFlag):
    """CAP-02: ``IPSEC_OFFLOAD_V2_ENCRYPTION_*`` bits (also single-bit algorithm identifiers, MS-ALG)."""

    NONE = 0x001
    DES_CBC = 0x002
    TRIPLE_DES_CBC = 0x004  # IPSEC_OFFLOAD_V2_ENCRYPTION_3_DES_CBC; wire name "3_DES_CBC"
    AES_GCM_128 = 0x008
    AES_GCM_192 = 0x010
    AES_GCM_256 = 0x020
    AES_CBC_128 = 0x040
    AES_CBC_192 = 0x080
    AES_CBC_256 = 0x100


AUTH_GMAC = (
    AuthenticationAlgorithm.AES_GCM_128 | AuthenticationAlgorithm.AES_GCM_192 | AuthenticationAlgorithm.AES_GCM_256
)
AUTH_HMAC = AuthenticationAlgorithm.MD5 | AuthenticationAlgorithm.SHA_1 | AuthenticationAlgorithm.SHA_256
ENC_GCM = EncryptionAlgorithm.AES_GCM_128 | EncryptionAlgorithm.AES_GCM_192 | EncryptionAlgorithm.AES_GCM_256
ENC_CBC = (
    EncryptionAlgorithm.DES_CBC
    | EncryptionAlgorithm.TRIPLE_DES_CBC
    | EncryptionAlgorithm.AES_CBC_128
    | EncryptionAlgorithm.AES_CBC_192
    | EncryptionAlgorithm.AES_CBC_256
)
ALL_AUTHENTICATION = AUTH_HMAC | AUTH_GMAC
ALL_ENCRYPTION = EncryptionAlgorithm.NONE | ENC_GCM | ENC_CBC


class UdpEspEncapsulation(IntFlag):
    """CAP-02: ``UdpEsp`` capability bits and ``UdpEspEncapsulation`` values of the add-SA structures."""

    NONE = 0x0
    TRANSPORT = 0x1
    TUNNEL = 0x2
    TRANSPORT_OVER_UDP_ESP_TUNNEL = 0x4  # IPSEC_OFFLOAD_V2_TRANSPORT_OVER_UDP_ESP_ENCAPSULATION_TUNNEL
    TRANSPORT_OVER_TUNNEL = 0x8  # IPSEC_OFFLOAD_V2_UDP_ESP_ENCAPSULATION_TRANSPORT_OVER_TUNNEL


ALL_UDP_ESP = (
    UdpEspEncapsulation.TRANSPORT
    | UdpEspEncapsulation.TUNNEL
    | UdpEspEncapsulation.TRANSPORT_OVER_UDP_ESP_TUNNEL
    | UdpEspEncapsulation.TRANSPORT_OVER_TUNNEL
)


class Encapsulation(IntFlag):
    """CAP-03: ``NDIS_ENCAPSULATION_*`` MAC encapsulation bits."""

    NOT_SUPPORTED = 0x00
    NULL = 0x01
    IEEE_802_3 = 0x02
    IEEE_802_3_P_AND_Q = 0x04
    IEEE_802_3_P_AND_Q_IN_OOB = 0x08
    IEEE_LLC_SNAP_ROUTED = 0x10


class OffloadParameter(IntEnum):
    """CAP-04: ``NDIS_OFFLOAD_PARAMETERS_*`` values of the ``IPsecV2``/``IPsecV2IPv4`` members (OID scale 0..4)."""

    NO_CHANGE = 0
    IPSECV2_DISABLED = 1
    IPSECV2_AH_ENABLED = 2
    IPSECV2_ESP_ENABLED = 3
    IPSECV2_AH_AND_ESP_ENABLED = 4


class IpsecV2Setting(IntEnum):
    """The ``set_offload`` request of the adapter protocol: an ``OffloadParameter`` other than NO_CHANGE.

    Values equal ``OffloadParameter``; the wire names are the lower-case strings of ``wire_name``.
    """

    DISABLED = 1
    AH = 2
    ESP = 3
    AH_AND_ESP = 4

    @property
    def wire_name(self) -> str:
        return self.name.lower()

    @property
    def ah_enabled(self) -> bool:
        return self in (IpsecV2Setting.AH, IpsecV2Setting.AH_AND_ESP)

    @property
    def esp_enabled(self) -> bool:
        return self in (IpsecV2Setting.ESP, IpsecV2Setting.AH_AND_ESP)


class KeywordValue(IntEnum):
    """CAP-04 / CAP-KEYWORD-MAPPING: INF keyword scale of ``*IPsecOffloadV2`` (0..3, default 3)."""

    DISABLED = 0
    AUTH_HEADER_ENABLED = 1
    ESP_ENABLED = 2
    AUTH_HEADER_AND_ESP_ENABLED = 3


KEYWORD_DEFAULT = KeywordValue.AUTH_HEADER_AND_ESP_ENABLED


class Operation(IntEnum):
    """Section 5.3: ``IPSEC_OFFLOAD_V2_OPERATION``."""

    AH = 1
    ESP = 2
    MAX = 3  # reserved for NDIS


class AddSaFlags(IntFlag):
    """Section 5.3: ``IPSEC_OFFLOAD_V2_ADD_SA(_EX).Flags``."""

    OUTBOUND = 0x00
    INBOUND = 0x01
    IPV6 = 0x10


class SecurityAssociationFlags(IntFlag):
    """Section 5.3: ``IPSEC_OFFLOAD_V2_SECURITY_ASSOCIATION.Flags``."""

    NONE = 0x0
    ESN_SA = 0x1


IPSEC_OFFLOAD_V2_MAX_EXTENSION_HEADERS = 2


class Revision(IntEnum):
    """Section 5.2 and 9.1: structure revisions."""

    ADD_SA_REVISION_1 = 1
    ADD_SA_EX_REVISION_1 = 1
    DELETE_SA_REVISION_1 = 1
    UPDATE_SA_REVISION_1 = 1
    OFFLOAD_REVISION_2 = 2
    OFFLOAD_PARAMETERS_REVISION_2 = 2


class NdisObjectType(IntEnum):
    """Section 5.2 and 4.3: ``NDIS_OBJECT_TYPE_*``."""

    DEFAULT = 0x80
    OFFLOAD = 0xA7


class NetBufferListInfo(IntEnum):
    """OOB-01: ``NetBufferListInfo`` slot indices (V1 and V2 share slot 1)."""

    TCP_IP_CHECKSUM = 0
    IPSEC_OFFLOAD_V1 = 1
    IPSEC_OFFLOAD_V2 = 1
    TCP_LARGE_SEND = 2
    CLASSIFICATION_HANDLE = 3
    IEEE_8021Q = 4
    NET_BUFFER_LIST_CANCEL_ID = 5
    MEDIA_SPECIFIC_INFORMATION = 6
    NET_BUFFER_LIST_FRAME_TYPE = 7
    NET_BUFFER_LIST_HASH_VALUE = 8
    NET_BUFFER_LIST_HASH_INFO = 9
    WFP_NET_BUFFER_LIST_INFO = 10
    IPSEC_OFFLOAD_V2_TUNNEL = 11
    IPSEC_OFFLOAD_V2_HEADER = 12


class OffloadFlags(IntFlag):
    """CAP-03: ``NDIS_OFFLOAD.Flags`` bits relevant to IPsecOV2."""

    GROUP_CHECKSUM_CAPABILITIES = 0x1
    IPSEC_OFFLOAD_V2_AND_TCP_CHECKSUM_COEXISTENCE = 0x2
    IPSEC_OFFLOAD_V2_AND_UDP_CHECKSUM_COEXISTENCE = 0x4


class ReceiveInfoMask(IntEnum):
    """OOB-02: masks of the 32-bit receive half of ``NDIS_IPSEC_OFFLOAD_V2_NET_BUFFER_LIST_INFO``."""

    SA_DELETE_REQ = 0x00000001
    CRYPTO_DONE = 0x00000002
    NEXT_CRYPTO_DONE = 0x00000004
    RESERVED = 0x0000FFF8
    CRYPTO_STATUS = 0xFFFF0000


CRYPTO_STATUS_SHIFT = 16
RESERVED_SHIFT = 3


class HeaderInfoMask(IntEnum):
    """OOB-04: masks of the receive half of ``NDIS_IPSEC_OFFLOAD_V2_HEADER_NET_BUFFER_LIST_INFO`` (slot 12)."""

    NEXT_HEADER = 0x000000FF
    PAD_LENGTH = 0x0000FF00
    HEADER_INFO_SET = 0x00010000


class IpProtocol(IntEnum):
    """IETF-TUNNEL-NH and IPv6 extension headers: the protocol numbers the codecs and the model use."""

    HOPOPT = 0
    ICMP = 1
    IPV4 = 4
    TCP = 6
    UDP = 17
    IPV6 = 41
    IPV6_ROUTE = 43
    IPV6_FRAG = 44
    ESP = 50
    AH = 51
    ICMPV6 = 58
    IPV6_NONXT = 59
    IPV6_OPTS = 60


class EtherType(IntEnum):
    """Ethernet II types the codecs know."""

    IPV4 = 0x0800
    IPV6 = 0x86DD
    VLAN = 0x8100


UDP_ENCAP_PORT = 4500
"""IETF-UDPENCAP / AMB-23: the UDP port of UDP-encapsulated ESP."""
NON_ESP_MARKER = b"\x00\x00\x00\x00"
"""IETF-UDPENCAP: the four zero bytes that prefix an IKE message on port 4500."""
NAT_KEEPALIVE = b"\xff"
"""IETF-UDPENCAP: the single-byte NAT-keepalive payload."""
ETHERNET_MIN_FRAME = 60
"""Minimum Ethernet frame length without the FCS; shorter frames are padded with zeros."""

# Structure sizes and offsets (x64, H-SYM), section 9.1.
SIZEOF_NDIS_IPSEC_OFFLOAD_V2 = 0x20
SIZEOF_IPSEC_OFFLOAD_V2_ADD_SA = 0xB0
SIZEOF_IPSEC_OFFLOAD_V2_SECURITY_ASSOCIATION = 0x30
SIZEOF_IPSEC_OFFLOAD_V2_ALGORITHM_INFO = 0x10
SIZEOF_IPSEC_OFFLOAD_V2_DELETE_SA = 0x18
SIZEOF_IPSEC_OFFLOAD_V2_UPDATE_SA = 0x20
OFFSETOF_NDIS_OFFLOAD_IPSECV2 = 0x70
