"""Helpers for the strategy self-tests: a NIC model loaded with a generated table, and an SA lookup for decoding."""

from __future__ import annotations

from reference_model.constants import NdisStatus, Operation
from reference_model.ndis import Capabilities, IPAddress, SecAssoc
from reference_model.nic import NicModel
from reference_model.packets import Datagram
from strategies import GeneratedFrame, SaTable


def loaded_model(caps: Capabilities, table: SaTable) -> NicModel:
    """A model that took every entry of ``table`` (with the reference NIC's answers), then deleted the deleted ones."""
    model = NicModel(caps)
    entries = (*table.entries, *table.deleted)
    model.apply_add_sa(entries, model.reference_add_sa(entries))
    for entry in table.deleted:
        model.apply_delete_sa(entry.sa_id, NdisStatus.SUCCESS)
    return model


def lookup_for(table: SaTable, frame: GeneratedFrame):  # type: ignore[no-untyped-def]
    """(spi, dst, operation) -> SecAssoc from the table and the frame's own layers (unknown-SPI frames too)."""
    sas: dict[tuple[int, Operation], SecAssoc] = {}
    for entry in (*table.entries, *table.deleted):
        for sa in entry.sec_assoc:
            sas[(sa.spi, sa.operation)] = sa

    def walk(d: Datagram) -> None:
        for layer in (d.ah, d.esp):
            if layer is not None:
                sas[(layer.sec_assoc.spi, layer.sec_assoc.operation)] = layer.sec_assoc
        if isinstance(d.payload, Datagram):
            walk(d.payload)

    walk(frame.frame.datagram)

    def lookup(spi: int, dst: IPAddress, operation: Operation) -> SecAssoc | None:
        return sas.get((spi, operation))

    return lookup
