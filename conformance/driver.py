"""Plays a scenario against an IUT and the reference model side by side, and judges every answer.

The driver is the TCP/IP transport of the spec's model (section 1): it resets the IUT, configures it, adds, updates
and deletes SAs, injects frames one at a time (AMB-11) and reads what the miniport indicated. The model follows the
IUT's answers where the spec lets the IUT choose (an add may fail: SA-ADD-FAIL-ALLOWED), so later expectations rest on
the state the IUT actually has.

When an indication carries SaDeleteReq, the driver does what SA-DELETE-REQ-TWO-OIDS says the transport does: DELETE_SA
for the inbound bundle, then for its outbound twin. It does so at the end of the scenario, so that frames received in
between show whether the NIC kept its SAs until asked (SA-NO-SELF-DELETE).

Anything the adapter itself gets wrong (it raises, times out, answers nonsense) ends the scenario with one ERROR
finding: infrastructure, never blamed on conformance (architecture, Verdicts).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from conformance.adapters.base import Adapter
from conformance.judge import Judgement, error_finding, judge_receive, judge_status
from conformance.steps import AddSaStep, DeleteSaStep, ReceiveStep, SetOffloadStep, Step, UpdateSaStep
from conformance.verdicts import Finding, Verdict
from reference_model.constants import CryptoStatus, NdisStatus
from reference_model.expectation import Expectation, Level
from reference_model.ndis import AddSaEntry, AddSaResult, Capabilities, Indication
from reference_model.nic import NicModel
from reference_model.profile import InterpretationProfile


@dataclass(slots=True)
class ScenarioOutcome:
    """What one scenario showed: findings (not PASS), clauses checked with counts and shapes, and the step log."""

    findings: list[Finding] = field(default_factory=list)
    checked: Counter[str] = field(default_factory=Counter)
    shapes: dict[str, Counter[str]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    frames_judged: int = 0
    error: Finding | None = None

    def add(self, judgement: Judgement, shape: Sequence[str] = (), model: NicModel | None = None) -> None:
        for clause in judgement.checked:
            self.checked[clause] += 1
            if shape:
                self.shapes.setdefault(clause, Counter()).update(shape)
        if judgement.findings:
            table = tuple(row.to_json() for row in model.sa_table()) if model is not None else ()
            step = len(self.log) - 1
            self.findings.extend(replace(f, sa_table=table, step=step) for f in judgement.findings)


_AUTH_FAILED = frozenset(
    int(s)
    for s in (
        CryptoStatus.TRANSPORT_AH_AUTH_FAILED,
        CryptoStatus.TRANSPORT_ESP_AUTH_FAILED,
        CryptoStatus.TUNNEL_AH_AUTH_FAILED,
        CryptoStatus.TUNNEL_ESP_AUTH_FAILED,
    )
)


class InvalidAnswerError(Exception):
    """An in-process adapter returned something that is not what the protocol's Python form promises."""


def _check_indications(value: object) -> tuple[Indication, ...]:
    if not isinstance(value, (list, tuple)):
        raise InvalidAnswerError(f"receive returned {type(value).__name__}, expected a sequence of Indication")
    for i, ind in enumerate(value):
        if not isinstance(ind, Indication):
            raise InvalidAnswerError(f"receive returned item {i} of type {type(ind).__name__}, expected Indication")
        if not isinstance(ind.frame, bytes) or not isinstance(ind.info, int) or not 0 <= ind.info < 2**64:
            raise InvalidAnswerError(f"receive returned a malformed Indication at {i} (frame bytes, info 0..2^64-1)")
    return tuple(value)


def _check_status(value: object, request: str) -> NdisStatus:
    if not isinstance(value, NdisStatus):
        raise InvalidAnswerError(f"{request} returned {value!r:.60}, expected an NdisStatus")
    return value


def _check_results(value: object, entries: Sequence[AddSaEntry]) -> tuple[AddSaResult, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(r, AddSaResult) for r in value):
        raise InvalidAnswerError(f"add_sa returned {type(value).__name__}, expected a sequence of AddSaResult")
    ids = [r.sa_id for r in value]
    if sorted(ids) != sorted(e.sa_id for e in entries):
        raise InvalidAnswerError(f"add_sa answered for sa_ids {ids}, asked for {[e.sa_id for e in entries]}")
    by_id = {r.sa_id: r for r in value}
    return tuple(by_id[e.sa_id] for e in entries)


class ScenarioDriver:
    """Runs scenarios against one adapter; one instance per IUT session."""

    def __init__(self, adapter: Adapter, capabilities: Capabilities, profile: InterpretationProfile) -> None:
        self.adapter = adapter
        self.capabilities = capabilities
        self.profile = profile

    def run(self, steps: Sequence[Step]) -> ScenarioOutcome:
        live = self.begin()
        for step in steps:
            if not live.step(step):
                break
        return live.end()

    def begin(self) -> LiveScenario:
        """Start a scenario to be fed one step at a time (the stateful test does so)."""
        return LiveScenario(self)


class LiveScenario:
    """One scenario in progress: the model's state, the outcome so far, and the pending SaDeleteReq answers."""

    def __init__(self, driver: ScenarioDriver) -> None:
        self.adapter = driver.adapter
        self.model = NicModel(driver.capabilities, driver.profile)
        self.outcome = ScenarioOutcome()
        self.delete_requests: list[int] = []
        self.updated: set[int] = set()
        self.verified: set[int] = set()
        """Bundles on which the IUT verified a frame correctly: an update can only be blamed if it worked before."""
        self.first_seen: dict[bytes, tuple[bool, int | None]] = {}
        """Per frame: was it judged correct the first time, and what did the model expect then."""
        self.closed = False
        self._guard("reset", self.adapter.reset)

    def _guard(self, what: str, action: Callable[[], object]) -> bool:
        """Run one adapter interaction; anything it raises ends the scenario with an ERROR (never FAIL)."""
        if self.closed:
            return False
        self.outcome.log.append(what)
        try:
            action()
        except Exception as exc:
            self.outcome.error = error_finding(
                f"adapter error during '{what}': {type(exc).__name__}: {exc}", trace=tuple(self.outcome.log)
            )
            self.closed = True
            return False
        return True

    def step(self, step: Step) -> bool:
        """Play one step; False once the adapter broke (the scenario is over)."""
        return self._guard(step.describe(), lambda: self._step(step, self.model, self.outcome, self.delete_requests))

    def end(self) -> ScenarioOutcome:
        if self.delete_requests and not self.closed:
            self._guard(
                "answer SaDeleteReq (SA-DELETE-REQ-TWO-OIDS)",
                lambda: self._answer_delete_requests(self.model, self.outcome, self.delete_requests),
            )
        self.closed = True
        return self.outcome

    def _step(self, step: Step, model: NicModel, outcome: ScenarioOutcome, delete_requests: list[int]) -> None:
        if isinstance(step, ReceiveStep):
            indications = _check_indications(self.adapter.receive(step.frame))
            expectation = model.receive(step.frame)
            judgement = judge_receive(expectation, step.frame, indications)
            judgement = self._across_frames(step.frame, expectation, indications, judgement)
            if not judgement.findings and expectation.processed:
                self.verified.update(expectation.matched_sa_ids)
            outcome.add(judgement, expectation.shape, model)
            outcome.frames_judged += 1
            if indications and indications[0].receive_info.sa_delete_req and expectation.matched_sa_ids:
                sa_id = expectation.matched_sa_ids[0]
                if sa_id not in delete_requests:
                    delete_requests.append(sa_id)
        elif isinstance(step, AddSaStep):
            expectations = model.expect_add_sa(step.entries)
            results = _check_results(self.adapter.add_sa(step.entries), step.entries)
            for entry, exp, result in zip(step.entries, expectations, results, strict=True):
                outcome.add(judge_status(exp, result.status, request=f"add_sa sa_id={entry.sa_id}"), (), model)
            outcome.add(self._judge_handles(model, results), (), model)
            model.apply_add_sa(step.entries, results)
        elif isinstance(step, DeleteSaStep):
            exp = model.expect_delete_sa(step.sa_id)
            status = _check_status(self.adapter.delete_sa(step.sa_id), "delete_sa")
            outcome.add(judge_status(exp, status, request=f"delete_sa sa_id={step.sa_id}"), (), model)
            model.apply_delete_sa(step.sa_id, status)
        elif isinstance(step, UpdateSaStep):
            exp = model.expect_update_sa(step.update)
            status = _check_status(self.adapter.update_sa(step.update), "update_sa")
            outcome.add(judge_status(exp, status, request=f"update_sa sa_id={step.update.sa_id}"), (), model)
            model.apply_update_sa(step.update, status)
            if status is NdisStatus.SUCCESS and step.update.sa_id in self.verified:
                self.updated.add(step.update.sa_id)
        elif isinstance(step, SetOffloadStep):
            exp = model.expect_set_offload(step.setting)
            status = _check_status(self.adapter.set_offload(step.setting), "set_offload")
            outcome.add(judge_status(exp, status, request=f"set_offload {step.setting.wire_name}"), (), model)
            model.apply_set_offload(step.setting, status)

    def _across_frames(
        self, frame: bytes, expectation: Expectation, indications: Sequence[Indication], judgement: Judgement
    ) -> Judgement:
        """Name, at most once, the clause a frame's findings show that only the scenario can see (most specific first:
        an SA the NIC dropped after SaDeleteReq explains every later symptom on it, so nothing else is blamed then)."""
        expected_info = expectation.reference.info if expectation.reference is not None else None
        first_ok, first_expected = self.first_seen.setdefault(frame, (not judgement.findings, expected_info))
        if not judgement.findings or expectation.reference is None:
            return judgement
        expected = expectation.reference.receive_info
        observed = indications[0].receive_info if indications else None
        pending = [i for i in expectation.matched_sa_ids if i in self.delete_requests]
        if pending:
            if observed is not None and expected.crypto_done and not observed.crypto_done:
                return _self_delete(judgement, pending[0])
            return judgement
        updated = [i for i in expectation.matched_sa_ids if i in self.updated]
        auth_failed = observed is not None and observed.crypto_status in _AUTH_FAILED
        if updated and expected.crypto_done and expected.crypto_status == 0 and auth_failed:
            return _after_update(judgement, updated[0])
        if first_ok and first_expected == expected_info and expectation.matched_sa_ids:
            return _replayed(judgement)
        return judgement

    def _judge_handles(self, model: NicModel, results: Sequence[AddSaResult]) -> Judgement:
        """SA-ADD-HANDLE: every successful entry gets a non-NULL handle, unique among live bundles."""
        live = {row.result.handle for row in model.sa_table() if row.result is not None and not row.deleted}
        live.discard(None)
        problems = []
        for r in results:
            if r.status is NdisStatus.SUCCESS:
                if not r.handle:
                    problems.append(f"sa_id={r.sa_id} succeeded with a NULL handle")
                elif r.handle in live:
                    problems.append(f"sa_id={r.sa_id} got handle {r.handle}, already used by a live bundle")
                live.add(r.handle)
            elif r.handle:
                problems.append(f"sa_id={r.sa_id} failed ({r.status.name}) but kept handle {r.handle}")
        if not problems:
            return Judgement(frozenset({"SA-ADD-HANDLE"}), ())
        finding = Finding(
            clause="SA-ADD-HANDLE",
            level=Level.MUST.value,
            verdict=Verdict.FAIL,
            message="SA-ADD-HANDLE: " + "; ".join(problems),
            expected={"handle": "non-NULL and unique for each offloaded bundle, NULL for a failed entry"},
            observed={"results": [r.to_json() for r in results]},
        )
        return Judgement(frozenset({"SA-ADD-HANDLE"}), (finding,))

    def _answer_delete_requests(self, model: NicModel, outcome: ScenarioOutcome, sa_ids: list[int]) -> None:
        """SA-DELETE-REQ-TWO-OIDS: DELETE_SA for the inbound bundle, then for its outbound twin."""
        rows = {row.entry.sa_id: row for row in model.sa_table()}
        for sa_id in sa_ids:
            inbound = rows.get(sa_id)
            if inbound is None or inbound.deleted:
                continue
            targets = [sa_id]
            twin = _outbound_twin(inbound.entry, [r.entry for r in rows.values() if not r.deleted])
            if twin is not None:
                targets.append(twin)
            for target in targets:
                outcome.log.append(f"delete_sa sa_id={target} (answering SaDeleteReq, SA-DELETE-REQ-TWO-OIDS)")
                exp = model.expect_delete_sa(target)
                status = _check_status(self.adapter.delete_sa(target), "delete_sa")
                outcome.add(judge_status(exp, status, request=f"delete_sa sa_id={target}"), (), model)
                model.apply_delete_sa(target, status)


def _outbound_twin(inbound: AddSaEntry, entries: Sequence[AddSaEntry]) -> int | None:
    """The outbound bundle paired with an inbound one: same address family, endpoints swapped, added by the suite."""
    for e in entries:
        if not e.inbound and e.ipv6 == inbound.ipv6 and e.src == inbound.dst and e.dst == inbound.src:
            return e.sa_id
    return None


def _attribute(judgement: Judgement, clause: str, why: str) -> Judgement:
    """Add a finding under ``clause`` (MUST) to a judgement whose findings are this clause's symptom.

    The judge sees one frame; some clauses only show across frames (a replay, an SA kept after SaDeleteReq, an ESN
    update). The driver, which sees the scenario, names them on top of the per-frame findings (kept as evidence).
    """
    first = judgement.findings[0]
    finding = replace(
        first, clause=clause, level=Level.MUST.value, verdict=Verdict.FAIL, message=f"{clause}: {why}: {first.message}"
    )
    return Judgement(judgement.checked | {clause}, (*judgement.findings, finding))


def _self_delete(judgement: Judgement, sa_id: int) -> Judgement:
    """SA-NO-SELF-DELETE: a frame on an SA whose SaDeleteReq is still unanswered was not processed."""
    why = (
        f"sa_id {sa_id} asked for deletion (SaDeleteReq) and must stay in use until DELETE_SA arrives, "
        "but this frame on it was not processed"
    )
    return _attribute(judgement, "SA-NO-SELF-DELETE", why)


def _after_update(judgement: Judgement, sa_id: int) -> Judgement:
    """SA-UPDATE-ESN: an SA the IUT verified correctly before UPDATE_SA fails frames made under the new high bits."""
    why = f"sa_id {sa_id} verified frames before its ESN high bits were updated, and fails this one made under the new"
    return _attribute(judgement, "SA-UPDATE-ESN", why)


def _replayed(judgement: Judgement) -> Judgement:
    """RX-TRANSPORT-DOES-REPLAY: the same frame, expected to be handled the same way, was right once and then not."""
    why = (
        "this exact frame was handled correctly earlier in the scenario; a replay must be processed and indicated "
        "the same way (anti-replay is the transport's job)"
    )
    return _attribute(judgement, "RX-TRANSPORT-DOES-REPLAY", why)
