"""The adapter contract in its Python form (``shared/design/adapter-protocol.md``, "Python form").

An adapter is one IUT: a NIC plus its miniport, seen from the TCP/IP transport. The methods mirror the JSON-lines wire
form one to one, so an in-process adapter and a program behind ``exec`` are driven by the same engine. Types are the
frozen values of ``reference_model.ndis`` that the wire form serialises.

Any method may raise an ``AdapterError`` (see ``conformance.adapters.errors``); conformance failures are never raised,
they are what the methods return.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from reference_model.constants import IpsecV2Setting, NdisStatus
from reference_model.ndis import AddSaEntry, AddSaResult, Hello, Indication, UpdateSa

__all__ = ["Adapter", "AdapterFactory", "Restartable"]


@runtime_checkable
class Adapter(Protocol):
    """One IUT, driven request by request. Not thread-safe: one engine drives one adapter."""

    def hello(self) -> Hello:
        """Name, version and the ``NDIS_IPSEC_OFFLOAD_V2`` capabilities of the current configuration."""
        ...

    def reset(self) -> None:
        """Back to power-on: no SAs, IPsecOV2 enabled for AH and ESP, receive offload active."""
        ...

    def set_offload(self, setting: IpsecV2Setting) -> NdisStatus:
        """``OID_TCP_OFFLOAD_PARAMETERS`` with the IPsecV2 field set to ``setting``."""
        ...

    def add_sa(self, entries: Sequence[AddSaEntry]) -> Sequence[AddSaResult]:
        """One ``OID_TCP_TASK_IPSEC_OFFLOAD_V2_ADD_SA`` list; one result per entry, in the entries' order."""
        ...

    def delete_sa(self, sa_id: int) -> NdisStatus:
        """``OID_TCP_TASK_IPSEC_OFFLOAD_V2_DELETE_SA`` of the bundle the suite named ``sa_id``."""
        ...

    def update_sa(self, update: UpdateSa) -> NdisStatus:
        """``OID_TCP_TASK_IPSEC_OFFLOAD_V2_UPDATE_SA``: new ESN high-order bits of one SecAssoc entry."""
        ...

    def receive(self, frame: bytes) -> Sequence[Indication]:
        """Everything the miniport indicated up the stack because of this Ethernet II frame."""
        ...

    def close(self) -> None:
        """Release the IUT (``bye`` for a program); idempotent."""
        ...


AdapterFactory = Callable[[str | None], Adapter]
"""What an entry point of ``ipsecov2_conformance.adapters`` names: takes the ``ARGUMENT`` of ``--iut NAME:ARGUMENT``."""


@runtime_checkable
class Restartable(Protocol):
    """An adapter whose IUT can die and be restarted behind the engine's back (``exec``).

    After an ``AdapterError`` the IUT may have been killed; the next call starts a fresh one in power-on state. The
    engine reads ``needs_reset`` to know that the SA table it built is gone and the scenario setup must be re-run;
    a successful ``reset()`` clears it. ``restarts`` counts the fresh starts (for the report).
    """

    @property
    def restarts(self) -> int: ...

    @property
    def needs_reset(self) -> bool: ...
