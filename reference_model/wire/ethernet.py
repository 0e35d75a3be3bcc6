"""Ethernet II with an optional 802.1Q tag (RX-CAPS-ENCAP), as bytes."""

from __future__ import annotations

import struct

from reference_model.constants import EtherType
from reference_model.packets import EthernetHeader

ETHERNET = struct.Struct("!6s6sH")
ETHERNET_VLAN = struct.Struct("!6s6sHHH")
ETHERNET_LENGTH = ETHERNET.size
ETHERNET_VLAN_LENGTH = ETHERNET_VLAN.size


def encode_ethernet_header(header: EthernetHeader, ethertype: int) -> bytes:
    """Destination, source, [TPID 0x8100 + TCI with PCP 0 and the VLAN ID], EtherType."""
    if header.vlan is None:
        return ETHERNET.pack(header.dst, header.src, ethertype)
    return ETHERNET_VLAN.pack(header.dst, header.src, EtherType.VLAN, header.vlan & 0x0FFF, ethertype)
