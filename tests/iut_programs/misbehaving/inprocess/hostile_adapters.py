"""In-process adapters that misbehave on purpose: the reference NIC, broken on every Nth ``receive``.

Entry point factory: ``create("MODE[,MODE...][@N]")``. The k-th fault (on receive N, 2N, ...) is the k-th MODE;
after the last one the adapter behaves. Modes (each must become one ERROR through ``conformance.adapters.guard``):

  raise          raise ValueError
  sys-exit       call sys.exit(7) (would end the whole run without the guard)
  interrupt      raise KeyboardInterrupt from adapter code
  wrong-type     return a dict instead of a sequence of Indication
  bytearray      return an Indication whose frame is a bytearray copy of the input (a mutable frame object)
  bool-info      return an Indication whose info is True (an int subclass)
  block          block forever (the guard abandons the adapter and re-creates it through the factory)
  mutate-entry   (on add_sa, not receive) change the suite's frozen AddSaEntry with object.__setattr__, then behave
  keep-list      return a list of indications, and append to it after returning (from a thread, a moment later)
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import replace

from conformance.adapters.reference import create as create_reference
from reference_model.constants import IpsecV2Setting, NdisStatus
from reference_model.ndis import AddSaEntry, AddSaResult, Hello, Indication, UpdateSa

FAULTS_DONE: list[str] = []
"""Faults done so far in this process, shared by every instance (the guard re-creates abandoned ones)."""


class HostileAdapter:
    def __init__(self, modes: Sequence[str], every: int) -> None:
        self._inner = create_reference(None)
        self._modes = list(modes)
        self._every = every
        self._receives = 0

    def _next_fault(self) -> str | None:
        done = len(FAULTS_DONE)
        return self._modes[done] if done < len(self._modes) else None

    def hello(self) -> Hello:
        return self._inner.hello()

    def reset(self) -> None:
        self._inner.reset()

    def set_offload(self, setting: IpsecV2Setting) -> NdisStatus:
        return self._inner.set_offload(setting)

    def add_sa(self, entries: Sequence[AddSaEntry]) -> Sequence[AddSaResult]:
        if self._next_fault() == "mutate-entry":
            FAULTS_DONE.append("mutate-entry")
            for entry in entries:
                object.__setattr__(entry, "sa_id", entry.sa_id + 1000)
                object.__setattr__(entry, "sa_id", entry.sa_id - 1000)  # back, so the answer matches
                object.__setattr__(entry, "dst", entry.src)  # and this one stays changed
        return self._inner.add_sa(entries)

    def delete_sa(self, sa_id: int) -> NdisStatus:
        return self._inner.delete_sa(sa_id)

    def update_sa(self, update: UpdateSa) -> NdisStatus:
        return self._inner.update_sa(update)

    def receive(self, frame: bytes) -> Sequence[Indication]:
        answer = self._inner.receive(frame)
        self._receives += 1
        mode = self._next_fault()
        if mode is None or mode == "mutate-entry" or self._receives % self._every:
            return answer
        FAULTS_DONE.append(mode)
        if mode == "raise":
            raise ValueError("hostile adapter: cannot parse this frame")
        if mode == "sys-exit":
            sys.exit(7)
        if mode == "interrupt":
            raise KeyboardInterrupt
        if mode == "wrong-type":
            return {"frame": frame}  # type: ignore[return-value]
        if mode == "bytearray":
            return [replace(answer[0], frame=bytearray(frame))]
        if mode == "bool-info":
            return [replace(answer[0], info=True)]
        if mode == "block":
            threading.Event().wait()
        if mode == "keep-list":
            kept = list(answer)

            def grow() -> None:
                time.sleep(0.05)
                kept.append(Indication(frame=b"\x00" * 14, info=0))

            threading.Thread(target=grow, daemon=True).start()
            return kept
        return answer

    def close(self) -> None:
        self._inner.close()


def create(argument: str | None) -> HostileAdapter:
    text = argument or "raise"
    modes, _, every = text.partition("@")
    return HostileAdapter(modes.split(","), int(every or 5))
