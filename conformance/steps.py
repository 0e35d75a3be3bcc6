"""The steps of a scenario as values: what the driver does to an IUT, in order.

Strategies produce richer objects (the frame's structure, its corruption label); the driver needs only these, and a
report needs only ``describe()``: one line a person can follow to replay the scenario by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from reference_model.algorithms import AUTHENTICATION, ENCRYPTION
from reference_model.constants import IpsecV2Setting
from reference_model.ndis import AddSaEntry, SecAssoc, UpdateSa


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
            ops = "+".join(_describe_sa(sa) for sa in e.sec_assoc)
            direction = "in" if e.inbound else "out"
            udp = f" udp-esp={int(e.udp_esp_encapsulation)}" if e.udp_esp_encapsulation else ""
            parts.append(f"sa_id={e.sa_id} {direction} {e.src}->{e.dst} {ops}{udp}")
        return "add_sa " + "; ".join(parts)


def _describe_sa(sa: SecAssoc) -> str:
    """``ESP(spi=0x100, AES_GCM_128/icv8)``: enough to rebuild the SA by hand from a report."""
    algorithms = []
    if sa.encryption is not None:
        icv = f"/icv{sa.encryption.icv_length}" if sa.encryption.icv_length else ""
        algorithms.append(ENCRYPTION[sa.encryption.algorithm].wire_name + icv)
    if sa.authentication is not None:
        algorithms.append(AUTHENTICATION[sa.authentication.algorithm].wire_name)
    esn = f", esn hi=0x{sa.seq_hi:x}" if sa.esn else ""
    return f"{sa.operation.name}(spi=0x{sa.spi:x}, {'+'.join(algorithms) or 'no algorithm'}{esn})"


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
