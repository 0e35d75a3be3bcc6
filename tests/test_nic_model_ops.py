"""Operation expectations of the NIC model (set_offload, add/delete/update SA) and its SA table state machine."""

from __future__ import annotations

import pytest
from _nic_frames import DST6, SRC6, ah_sha256, datagram, entry, frame, gcm, model_with

from reference_model.constants import IpsecV2Setting, NdisStatus, Operation, UdpEspEncapsulation
from reference_model.expectation import Level
from reference_model.ndis import AddSaResult, Capabilities, UpdateSa
from reference_model.nic import FAILURE_STATUSES, NicModel
from reference_model.sa_table import TRANSITIONS, BundleState, ModelInvariantError, SaEvent

ESP = gcm(0x1001)


def test_set_offload_expects_success_and_failure_keeps_setting() -> None:
    model = NicModel(Capabilities())
    exp = model.expect_set_offload(IpsecV2Setting.ESP)
    assert exp.allowed == frozenset({NdisStatus.SUCCESS})
    assert model.reference_set_offload(IpsecV2Setting.ESP) is NdisStatus.SUCCESS
    model.apply_set_offload(IpsecV2Setting.ESP, NdisStatus.FAILURE)
    assert model.setting is IpsecV2Setting.AH_AND_ESP
    model.apply_set_offload(IpsecV2Setting.ESP, NdisStatus.SUCCESS)
    assert model.setting.name == "ESP"


@pytest.mark.clause("CAP-SACAPACITY")
def test_add_within_capacity_expects_success_failure_is_interpretation() -> None:
    model = NicModel(Capabilities(sa_offload_capacity=2))
    exps = model.expect_add_sa([entry(1, ESP), entry(2, gcm(0x1002)), entry(3, gcm(0x1003))])
    assert exps[0].allowed == frozenset({NdisStatus.SUCCESS})
    assert exps[0].also_reading == "AMB-17"
    assert exps[0].accepts(NdisStatus.RESOURCES)
    assert exps[0].level is Level.INTERPRETATION
    assert exps[2].clause == "SA-CAPACITY"
    assert exps[2].allowed >= FAILURE_STATUSES | {NdisStatus.SUCCESS}


@pytest.mark.clause("SA-ADD-REJECT-UNSUPPORTED")
@pytest.mark.parametrize(
    ("caps", "sa_entry"),
    [
        (Capabilities(ipv6_supported=False), entry(1, ESP, src=SRC6, dst=DST6)),
        (Capabilities(extended_sequence_numbers=False), entry(1, gcm(0x1001, esn=True))),
        (Capabilities(ah=False, ah_esp_combined=False), entry(1, ah_sha256(0x2001))),
        (Capabilities(ah_esp_combined=False), entry(1, ESP, ah_sha256(0x2001))),
        (Capabilities(udp_esp=UdpEspEncapsulation.TUNNEL), entry(1, ESP, udp=UdpEspEncapsulation.TRANSPORT)),
    ],
    ids=["ipv6", "esn", "ah", "ahesp", "udpesp"],
)
def test_add_outside_capabilities_expects_failure(caps: Capabilities, sa_entry: object) -> None:
    model = NicModel(caps)
    (exp,) = model.expect_add_sa([sa_entry])  # type: ignore[list-item]
    assert exp.clause == "SA-ADD-REJECT-UNSUPPORTED"
    assert not exp.accepts(NdisStatus.SUCCESS)
    assert exp.accepts(NdisStatus.NOT_SUPPORTED)
    (result,) = model.reference_add_sa([sa_entry])  # type: ignore[list-item]
    assert result.status is not NdisStatus.SUCCESS
    assert result.handle is None


@pytest.mark.clause("SA-ADD-HANDLE")
def test_reference_handles_unique_and_fresh_after_apply() -> None:
    model = NicModel(Capabilities())
    entries = [entry(1, ESP), entry(2, gcm(0x1002))]
    results = model.reference_add_sa(entries)
    assert [r.status for r in results] == [NdisStatus.SUCCESS, NdisStatus.SUCCESS]
    handles = [r.handle for r in results]
    assert None not in handles
    assert len(set(handles)) == 2
    model.apply_add_sa(entries, results)
    (third,) = model.reference_add_sa([entry(3, gcm(0x1003))])
    assert third.handle not in handles


@pytest.mark.clause("SA-ADD-FAIL-ALLOWED")
def test_add_for_disabled_protocol_may_fail_or_succeed() -> None:
    model = NicModel(Capabilities())
    model.apply_set_offload(IpsecV2Setting.AH, NdisStatus.SUCCESS)
    (exp,) = model.expect_add_sa([entry(1, ESP)])
    assert exp.accepts(NdisStatus.SUCCESS)
    assert exp.accepts(NdisStatus.FAILURE)


@pytest.mark.clause("SA-ADD-LIST-SEMANTICS")
def test_failed_add_is_not_offloaded() -> None:
    model = NicModel(Capabilities())
    model.apply_add_sa([entry(1, ESP)], [AddSaResult(sa_id=1, status=NdisStatus.RESOURCES)])
    exp = model.receive(frame(datagram(esp=ESP)))
    assert not exp.processed
    assert exp.primary.constraints  # judged
    assert any("failed to add" in step for step in exp.trace)


@pytest.mark.clause("SA-DELETE-STATUS")
def test_delete_expects_success_lenient_for_unknown() -> None:
    model = model_with(entry(1, ESP))
    exp = model.expect_delete_sa(1)
    assert exp.allowed == frozenset({NdisStatus.SUCCESS})
    assert not exp.accepts(NdisStatus.PENDING)
    assert model.expect_delete_sa(99).accepts(NdisStatus.INVALID_PARAMETER)
    model.apply_delete_sa(1, NdisStatus.SUCCESS)
    assert model.sa_table()[0].deleted


@pytest.mark.clause("SA-UPDATE-INVALID")
def test_update_unknown_bundle_operation_or_spi_invalid_parameter() -> None:
    model = model_with(entry(1, gcm(0x1001, esn=True)))
    ok = model.expect_update_sa(UpdateSa(sa_id=1, operation=Operation.ESP, spi=0x1001, seq_hi=3))
    assert ok.allowed == frozenset({NdisStatus.SUCCESS})
    for bad in (
        UpdateSa(sa_id=9, operation=Operation.ESP, spi=0x1001, seq_hi=3),
        UpdateSa(sa_id=1, operation=Operation.AH, spi=0x1001, seq_hi=3),
        UpdateSa(sa_id=1, operation=Operation.ESP, spi=0x1002, seq_hi=3),
    ):
        exp = model.expect_update_sa(bad)
        assert exp.allowed == frozenset({NdisStatus.INVALID_PARAMETER})
        assert model.reference_update_sa(bad) is NdisStatus.INVALID_PARAMETER


@pytest.mark.clause("SA-UPDATE-INVALID")
def test_update_without_esn_capability_invalid_parameter() -> None:
    model = model_with(entry(1, ESP), caps=Capabilities(extended_sequence_numbers=False))
    exp = model.expect_update_sa(UpdateSa(sa_id=1, operation=Operation.ESP, spi=0x1001, seq_hi=1))
    assert exp.allowed == frozenset({NdisStatus.INVALID_PARAMETER})


@pytest.mark.clause("SA-UPDATE-ESN")
def test_update_success_changes_seq_hi_failure_does_not() -> None:
    model = model_with(entry(1, gcm(0x1001, esn=True, seq_hi=4)))
    update = UpdateSa(sa_id=1, operation=Operation.ESP, spi=0x1001, seq_hi=5)
    model.apply_update_sa(update, NdisStatus.INVALID_PARAMETER)
    assert model.seq_hi(1, Operation.ESP, 0x1001) == 4
    model.apply_update_sa(update, NdisStatus.SUCCESS)
    assert model.seq_hi(1, Operation.ESP, 0x1001) == 5


def test_reset_forgets_sas_and_setting() -> None:
    model = model_with(entry(1, ESP))
    model.apply_set_offload(IpsecV2Setting.DISABLED, NdisStatus.SUCCESS)
    model.reset()
    assert model.sa_table() == ()
    assert model.setting is IpsecV2Setting.AH_AND_ESP
    assert not model.receive(frame(datagram(esp=ESP))).processed


def test_re_adding_a_held_sa_id_is_a_model_invariant_error() -> None:
    model = model_with(entry(1, ESP))
    with pytest.raises(ModelInvariantError, match="sa_id 1"):
        model.apply_add_sa([entry(1, ESP)], [AddSaResult(sa_id=1, status=NdisStatus.SUCCESS, handle=7)])
    model.apply_delete_sa(1, NdisStatus.SUCCESS)
    model.apply_add_sa([entry(1, ESP)], [AddSaResult(sa_id=1, status=NdisStatus.SUCCESS, handle=7)])
    assert model.receive(frame(datagram(esp=ESP))).processed


def test_transition_table_has_no_exit_from_deleted_or_failed() -> None:
    for (state, event), nxt in TRANSITIONS.items():
        if state in (BundleState.DELETED, BundleState.FAILED):
            assert nxt is state
        if event is SaEvent.DELETE_FAILED and state is not None:
            assert nxt is state  # a failed delete leaves the bundle where it was
