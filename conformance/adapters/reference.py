"""The ``reference`` adapter: the reference model as a NIC (the suite's own sanity check).

It answers every request the way the model says a conforming NIC does (``NicModel.reference_*``) and indicates, for
every frame, the concrete values of the primary outcome (``Expectation.reference``). The suite must find it fully
conformant; the mutant catalogue (``conformance.adapters.mutants``) derives faulty NICs from it by overriding hooks.

``--iut reference`` claims every capability; ``--iut reference:CAPS.json`` reports the capabilities in that file
(the ``capabilities`` object of the adapter protocol's hello), so a vendor can see what a conforming NIC with *their*
capabilities would do.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from conformance.adapters.errors import AdapterLoadError
from reference_model.constants import IpsecV2Setting, NdisStatus
from reference_model.ndis import (
    AddSaEntry,
    AddSaResult,
    Capabilities,
    Hello,
    Indication,
    UpdateSa,
    WireFormatError,
)
from reference_model.nic import NicModel

VERSION = "1.0"


class ReferenceNic:
    """A conforming NIC built on the model. Subclasses (mutants) override the ``_hook_*`` methods."""

    name = "reference"

    def __init__(self, capabilities: Capabilities | None = None) -> None:
        self.capabilities = capabilities if capabilities is not None else Capabilities()
        self.model = NicModel(self._model_capabilities())

    # -- hooks for mutants ------------------------------------------------------------------------------------------

    def _model_capabilities(self) -> Capabilities:
        """The capabilities the NIC actually behaves by (a mutant may differ from what it reports)."""
        return self.capabilities

    def _hook_indications(self, frame: bytes, indications: list[Indication]) -> list[Indication]:
        return indications

    # -- the adapter protocol ---------------------------------------------------------------------------------------

    def hello(self) -> Hello:
        return Hello(name=self.name, version=VERSION, capabilities=self.capabilities)

    def reset(self) -> None:
        self.model = NicModel(self._model_capabilities())

    def set_offload(self, setting: IpsecV2Setting) -> NdisStatus:
        self.model.apply_set_offload(setting, NdisStatus.SUCCESS)
        return NdisStatus.SUCCESS

    def add_sa(self, entries: Sequence[AddSaEntry]) -> Sequence[AddSaResult]:
        results = self.model.reference_add_sa(entries)
        self.model.apply_add_sa(entries, results)
        return results

    def delete_sa(self, sa_id: int) -> NdisStatus:
        status = self.model.reference_delete_sa(sa_id)
        self.model.apply_delete_sa(sa_id, status)
        return status

    def update_sa(self, update: UpdateSa) -> NdisStatus:
        status = self.model.reference_update_sa(update)
        self.model.apply_update_sa(update, status)
        return status

    def receive(self, frame: bytes) -> Sequence[Indication]:
        expectation = self.model.receive(frame)
        indications = [expectation.reference] if expectation.reference is not None else []
        return self._hook_indications(frame, indications)

    def close(self) -> None:
        return None


def load_capabilities(path: str) -> Capabilities:
    """Capabilities from a JSON file (the hello ``capabilities`` object); one clear error naming the file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise AdapterLoadError(f"capabilities file {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise AdapterLoadError(f"capabilities file {path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(data, dict) and "capabilities" in data:
        data = data["capabilities"]
    try:
        return Capabilities.from_json(data)
    except WireFormatError as exc:
        raise AdapterLoadError(f"capabilities file {path}: {exc}") from None


def create(argument: str | None = None) -> ReferenceNic:
    """Entry point ``reference``: ``--iut reference`` or ``--iut reference:CAPS.json``."""
    return ReferenceNic(load_capabilities(argument) if argument else None)
