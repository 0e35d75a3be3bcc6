"""Whole scenarios: a Hypothesis state machine over SA operations, offload toggles and frames (every RX-/SA- clause).

The machine's rules are the transport's requests (add, delete, update ESN, set_offload) and received frames; after
every step the invariant asks the judge whether the IUT's answers so far were conforming. Hypothesis shrinks a failing
run to the shortest sequence of operations that still shows the fault, so the counterexample reads as a recipe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from conformance import families
from conformance.driver import LiveScenario
from conformance.families import receive
from conformance.session import IutSession
from conformance.steps import AddSaStep, DeleteSaStep, SetOffloadStep, UpdateSaStep
from conformance.suite._build import require_sa_support
from reference_model.constants import IpsecV2Setting
from reference_model.ndis import Capabilities, SecAssoc, UpdateSa
from strategies.frames import frames
from strategies.security_associations import SaTable, security_associations

MAX_LIVE = 8
"""Bundles the machine keeps at once (within SaOffloadCapacity); capacity itself has its own test."""


def _fresh_spi(sa: SecAssoc, used: frozenset[int]) -> SecAssoc:
    """The SA under an SPI no live or deleted bundle uses (the strategy draws each SA without knowing the table)."""
    spi = sa.spi
    while spi in used:
        spi = 256 + (spi * 2654435761 + 1) % (2**32 - 256)
    return replace(sa, spi=spi)


class NicStateMachine(RuleBasedStateMachine):
    """One IUT session's scenario, one step per rule."""

    session: IutSession
    test_id: str

    def __init__(self) -> None:
        super().__init__()
        self.caps: Capabilities = self.session.hello.capabilities
        self.live: LiveScenario = self.session.driver.begin()
        self.table = SaTable(entries=())
        self.next_id = 1
        self.reported = 0

    def _check(self) -> None:
        """Raise as soon as the judge has something to say (the invariant after every step)."""
        outcome = self.live.outcome
        if outcome.findings[self.reported :] or outcome.error is not None:
            self.reported = len(outcome.findings)
            self.live.closed = True
            self.session.record(outcome, test_id=self.test_id)

    @initialize(data=st.data())
    def first_sa(self, data: st.DataObject) -> None:
        self.add_sa(data)

    @precondition(lambda self: len(self.table.entries) < min(MAX_LIVE, self.caps.sa_offload_capacity))
    @rule(data=st.data())
    def add_sa(self, data: st.DataObject) -> None:
        entry = data.draw(security_associations(caps=self.caps, sa_id=self.next_id), label="add_sa")
        entry = replace(entry, sec_assoc=tuple(_fresh_spi(sa, self.table.spis) for sa in entry.sec_assoc))
        self.next_id += 1
        self.live.step(AddSaStep(entries=(entry,)))
        self.table = SaTable(entries=(*self.table.entries, entry), deleted=self.table.deleted)

    @precondition(lambda self: bool(self.table.entries))
    @rule(data=st.data())
    def delete_sa(self, data: st.DataObject) -> None:
        entry = data.draw(st.sampled_from(self.table.entries), label="delete_sa")
        self.live.step(DeleteSaStep(sa_id=entry.sa_id))
        self.table = self.table.delete(entry.sa_id)

    @precondition(lambda self: any(sa.esn for e in self.table.entries for sa in e.sec_assoc))
    @rule(data=st.data())
    def update_sa(self, data: st.DataObject) -> None:
        entry = data.draw(st.sampled_from([e for e in self.table.entries if any(sa.esn for sa in e.sec_assoc)]))
        seq_hi = data.draw(st.integers(0, 2**32 - 1), label="seq_hi")
        for sa in entry.sec_assoc:
            update = UpdateSa(sa_id=entry.sa_id, operation=sa.operation, spi=sa.spi, seq_hi=seq_hi)
            self.live.step(UpdateSaStep(update=update))
        updated = replace(entry, sec_assoc=tuple(replace(sa, seq_hi=seq_hi) for sa in entry.sec_assoc))
        self.table = SaTable(
            entries=tuple(updated if e.sa_id == entry.sa_id else e for e in self.table.entries),
            deleted=self.table.deleted,
        )

    @rule(setting=st.sampled_from(list(IpsecV2Setting)))
    def set_offload(self, setting: IpsecV2Setting) -> None:
        self.live.step(SetOffloadStep(setting=setting))

    @rule(data=st.data())
    def receive_frame(self, data: st.DataObject) -> None:
        frame = data.draw(frames(sa_table=self.table, caps=self.caps, unmatched=True), label="frame")
        self.live.step(receive(frame))

    @invariant()
    def judged_conforming_so_far(self) -> None:
        self._check()

    def teardown(self) -> None:
        if not self.live.closed:
            self.session.record(self.live.end(), test_id=self.test_id)


@pytest.mark.clause("SA-NO-SELF-DELETE")
@pytest.mark.clause("SA-AFTER-DELETE-NO-MATCH")
@pytest.mark.clause("RX-HW-CONFIGURED")
def test_state_machine_over_sa_operations_and_frames(iut_session: IutSession, test_id: str) -> None:
    require_sa_support(iut_session, test_id, ["SA-NO-SELF-DELETE"])
    machine = type("BoundNicStateMachine", (NicStateMachine,), {"session": iut_session, "test_id": test_id})
    run_machine: Callable[..., None] = run_state_machine_as_test  # untyped in Hypothesis
    run_machine(machine, settings=settings(stateful_step_count=15))


@pytest.mark.clause("RX-INDICATE-ALL")
@given(data=st.data())
def test_whole_scenarios(iut_session: IutSession, test_id: str, data: st.DataObject) -> None:
    """The strategies' scenarios: operations and bursts interleaved, as a transport would issue them."""
    caps = require_sa_support(iut_session, test_id, ["RX-INDICATE-ALL"])
    iut_session.check(families.whole_scenarios(data, caps), test_id=test_id)
