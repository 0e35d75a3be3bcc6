"""The values the strategies yield: a generated frame with everything the generator knew, a corrupted frame, a
burst, and a scenario (the input of the stateful test).

The generator's knowledge (shape, SAs used, whether the spec expects processing) travels *next to* the bytes so the
self-test can compare it with what the reference model finds from the bytes alone; the model never reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from reference_model.constants import IpsecV2Setting
from reference_model.ndis import AddSaEntry, Capabilities, UpdateSa
from reference_model.packets import Datagram, EspLayer, Frame, Upper
from strategies.labels import CorruptionLabel, Shape


@dataclass(frozen=True, slots=True, kw_only=True)
class GeneratedFrame:
    """One frame as the generator built it.

    ``data`` (the encoded bytes; not called ``bytes`` so the builtin stays usable) equals ``encode_frame(frame)``
    unless ``derived`` names a byte-level step applied after encoding. ``sa_ids`` are the inbound bundles the
    frame was protected with, outermost first (empty when it matches none); ``processed`` is whether the spec expects
    the NIC to process it (CryptoDone = 1) given the capabilities it was generated for.
    """

    frame: Frame
    data: bytes
    shape: frozenset[Shape]
    sa_ids: tuple[int, ...]
    processed: bool
    note: str = ""
    derived: str | None = None

    @property
    def plaintext(self) -> bytes:
        """The innermost upper-layer bytes (what a successful decryption must reveal)."""
        payload: Upper | Datagram = self.frame.datagram
        while isinstance(payload, Datagram):
            payload = payload.payload
        return payload.data

    def describe(self) -> str:
        tags = ",".join(sorted(self.shape))
        return f"{len(self.data)} bytes [{tags}] sa_ids={list(self.sa_ids)} processed={self.processed} {self.note}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CorruptedFrame:
    """A generated frame with one labelled corruption applied; ``frame`` is the changed value when the corruption
    was made on the value (wrong key, bad padding...), else the original frame."""

    original: GeneratedFrame
    data: bytes
    label: CorruptionLabel
    frame: Frame


@dataclass(frozen=True, slots=True, kw_only=True)
class Burst:
    """Many frames on one SA from one Hypothesis example (architecture, "Where the time goes").

    The template frame is drawn; ``count`` further frames differ only in sequence number (consecutive from the
    template's) and in payload bytes derived deterministically from ``seed`` (same length as the template's).
    Expanding costs encoding only, no Hypothesis draws, and shrinking still acts on the template.
    """

    template: GeneratedFrame
    count: int
    seed: int

    def frames(self) -> Iterator[GeneratedFrame]:
        from strategies.frames import vary_frame

        yield self.template
        for i in range(1, self.count):
            yield vary_frame(self.template, index=i, seed=self.seed)


# --------------------------------------------------------------------------------------------------------------------
# Scenarios


@dataclass(frozen=True, slots=True, kw_only=True)
class SetOffload:
    setting: IpsecV2Setting


@dataclass(frozen=True, slots=True, kw_only=True)
class AddSa:
    """One add-SA request (a list of entries, ADD_SA semantics)."""

    entries: tuple[AddSaEntry, ...]
    fills_capacity: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteSa:
    sa_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateSaStep:
    update: UpdateSa


@dataclass(frozen=True, slots=True, kw_only=True)
class Receive:
    frame: GeneratedFrame | CorruptedFrame

    @property
    def data(self) -> bytes:
        return self.frame.data


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiveBurst:
    burst: Burst


Step = SetOffload | AddSa | DeleteSa | UpdateSaStep | Receive | ReceiveBurst


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """A whole run: the capabilities the IUT reported and the steps, in order."""

    caps: Capabilities
    steps: tuple[Step, ...]

    def describe(self) -> str:
        return "\n".join(f"{i:3d} {_describe_step(s)}" for i, s in enumerate(self.steps))


def _describe_step(step: Step) -> str:
    if isinstance(step, SetOffload):
        return f"set_offload {step.setting.wire_name}"
    if isinstance(step, AddSa):
        ids = [e.sa_id for e in step.entries]
        return f"add_sa {ids}" + (" (fills capacity)" if step.fills_capacity else "")
    if isinstance(step, DeleteSa):
        return f"delete_sa {step.sa_id}"
    if isinstance(step, UpdateSaStep):
        u = step.update
        return f"update_sa {u.sa_id} {u.operation.name} spi=0x{u.spi:x} seq_hi=0x{u.seq_hi:x}"
    if isinstance(step, Receive):
        f = step.frame
        if isinstance(f, CorruptedFrame):
            return f"receive corrupted: {f.label} of {f.original.describe()}"
        return f"receive {f.describe()}"
    return f"receive burst of {step.burst.count}: {step.burst.template.describe()}"


def with_esp(datagram: Datagram, esp: EspLayer | None) -> Datagram:
    """A copy of ``datagram`` with another ESP layer (value-level corruptions use it)."""
    return replace(datagram, esp=esp)
