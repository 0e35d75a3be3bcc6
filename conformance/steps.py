"""The steps of a scenario as values: what the driver does to an IUT, in order.

Strategies produce richer objects (the frame's structure, its corruption label); the driver needs only these, and a
report needs only ``describe()``: one line a person can follow to replay the scenario by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from reference_model.constants import IpsecV2Setting
from reference_model.ndis import AddSaEntry, UpdateSa


@dataclass(frozen=True, slots=True, kw_only=True)
class SetOffloadStep:
    setting: IpsecV2Setting

    def describe(self) -> str:
        return f"set_offload {self.setting.wire_name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AddSaStep:
    entries: tuple[AddSaEntry, ...]

    def describe(self) -> str:
        parts = []
        for e in self.entries:
            ops = "+".join(
                f"{'ESP' if sa.operation.name == 'ESP' else 'AH'}(spi=0x{sa.spi:x}"
                + (f", esn hi={sa.seq_hi}" if sa.esn else "")
                + ")"
                for sa in e.sec_assoc
            )
            direction = "in" if e.inbound else "out"
            udp = f" udp-esp={int(e.udp_esp_encapsulation)}" if e.udp_esp_encapsulation else ""
            parts.append(f"sa_id={e.sa_id} {direction} {e.src}->{e.dst} {ops}{udp}")
        return "add_sa " + "; ".join(parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteSaStep:
    sa_id: int

    def describe(self) -> str:
        return f"delete_sa sa_id={self.sa_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateSaStep:
    update: UpdateSa

    def describe(self) -> str:
        u = self.update
        return f"update_sa sa_id={u.sa_id} {u.operation.name.lower()} spi=0x{u.spi:x} seq_hi={u.seq_hi}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiveStep:
    frame: bytes
    note: str = ""
    """What the frame is (shape, SA, corruption label and the outcome it predicts), for people."""

    def describe(self) -> str:
        note = f" ({self.note})" if self.note else ""
        return f"receive {len(self.frame)}-byte frame{note}"


Step = SetOffloadStep | AddSaStep | DeleteSaStep | UpdateSaStep | ReceiveStep
