"""UDP headers: RFC 3948 encapsulation in front of ESP, and the NAT-keepalive / IKE packets that share port 4500."""

from __future__ import annotations

import struct

from reference_model.constants import NAT_KEEPALIVE, NON_ESP_MARKER, UDP_ENCAP_PORT, IpProtocol
from reference_model.packets import Upper

UDP_HEADER = struct.Struct("!HHHH")


def encode_udp_header(src_port: int, dst_port: int, payload_length: int, checksum: int = 0) -> bytes:
    """An 8-byte UDP header; the checksum is zero unless given (IETF-UDPENCAP: ESP-in-UDP sends zero)."""
    return UDP_HEADER.pack(src_port, dst_port, 8 + payload_length, checksum)


def nat_keepalive(*, src_port: int = UDP_ENCAP_PORT, dst_port: int = UDP_ENCAP_PORT) -> Upper:
    """A NAT-keepalive UDP datagram: payload one 0xFF byte (RX-UDPESP-NON-ESP-UNTOUCHED)."""
    return Upper(protocol=IpProtocol.UDP, data=encode_udp_header(src_port, dst_port, 1) + NAT_KEEPALIVE)


def ike_packet(ike_message: bytes = b"", *, src_port: int = UDP_ENCAP_PORT, dst_port: int = UDP_ENCAP_PORT) -> Upper:
    """An IKE message on port 4500 behind the four-zero-byte non-ESP marker (RX-UDPESP-NON-ESP-UNTOUCHED)."""
    payload = NON_ESP_MARKER + ike_message
    return Upper(protocol=IpProtocol.UDP, data=encode_udp_header(src_port, dst_port, len(payload)) + payload)
