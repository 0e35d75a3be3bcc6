"""Glue between ``strategies`` values and the driver's steps, shared by the suite's test modules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pytest

from conformance.session import IutSession
from conformance.steps import AddSaStep, DeleteSaStep, ReceiveStep, SetOffloadStep, Step, UpdateSaStep
from reference_model.ndis import Capabilities
from strategies import values
from strategies._check import ah_feasible, esp_feasible
from strategies.security_associations import SaTable
from strategies.values import CorruptedFrame, GeneratedFrame


def setup_steps(table: SaTable) -> list[Step]:
    """Add every bundle of the table (one ADD_SA list), then add-and-delete the ones marked deleted."""
    steps: list[Step] = []
    if table.entries:
        steps.append(AddSaStep(entries=tuple(table.entries)))
    for entry in table.deleted:
        steps.append(AddSaStep(entries=(entry,)))
        steps.append(DeleteSaStep(sa_id=entry.sa_id))
    return steps


def receive(frame: GeneratedFrame | CorruptedFrame) -> ReceiveStep:
    note = f"{frame.label} of {frame.original.describe()}" if isinstance(frame, CorruptedFrame) else frame.describe()
    return ReceiveStep(frame=frame.data, note=note)


def receive_all(frames: Iterable[GeneratedFrame | CorruptedFrame]) -> list[Step]:
    return [receive(f) for f in frames]


def scenario_steps(scenario: values.Scenario) -> list[Step]:
    """A strategies ``Scenario`` as driver steps (bursts expanded)."""
    steps: list[Step] = []
    for s in scenario.steps:
        if isinstance(s, values.SetOffload):
            steps.append(SetOffloadStep(setting=s.setting))
        elif isinstance(s, values.AddSa):
            steps.append(AddSaStep(entries=s.entries))
        elif isinstance(s, values.DeleteSa):
            steps.append(DeleteSaStep(sa_id=s.sa_id))
        elif isinstance(s, values.UpdateSaStep):
            steps.append(UpdateSaStep(update=s.update))
        elif isinstance(s, values.Receive):
            steps.append(receive(s.frame))
        else:
            steps.extend(receive(f) for f in s.burst.frames())
    return steps


def require_sa_support(session: IutSession, test_id: str, clauses: Sequence[str]) -> Capabilities:
    """The IUT's capabilities, or UNSUPPORTED + skip when it cannot hold any SA the suite could build."""
    caps = session.hello.capabilities
    if not (ah_feasible(caps) or esp_feasible(caps)) or caps.sa_offload_capacity < 1:
        session.unsupported(clauses, test_id, "the IUT reports no usable AH or ESP offload")
        pytest.skip("the IUT reports no usable AH/ESP offload: clauses UNSUPPORTED")
    return caps
