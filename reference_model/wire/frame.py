"""Whole-frame encoding and decoding: ``packets.Frame`` values to Ethernet bytes and back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reference_model.constants import Operation
from reference_model.ndis import IPAddress, SecAssoc
from reference_model.packets import Datagram, Frame

SaLookup = Callable[[int, IPAddress, Operation], SecAssoc | None]
"""(spi, destination, operation) -> the SA to open that header with, or None."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodedFrame:
    """``frame`` when the bytes decode to a value that ``encode_frame`` maps back to them; else ``error`` + offset."""

    frame: Frame | None
    error: str | None = None
    error_offset: int | None = None


def encode_frame(frame: Frame) -> bytes:
    """Ethernet II (+ optional 802.1Q tag) around the encoded datagram, zero-padded to 60 bytes."""
    raise NotImplementedError


def encode_datagram(datagram: Datagram) -> bytes:
    """The IP datagram with every length, checksum, next header, pad and ICV computed."""
    raise NotImplementedError


def decode_frame(data: bytes, *, lookup: SaLookup) -> DecodedFrame:
    """Inverse of ``encode_frame``; SAs for AH/ESP come from ``lookup``. Never raises."""
    raise NotImplementedError
