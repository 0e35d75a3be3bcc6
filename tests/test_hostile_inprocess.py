"""Hostile in-process adapters behind ``conformance.adapters.guard``: each fault is one ERROR naming what happened, a
blocked call is abandoned and the adapter re-created, and nothing the adapter does reaches the suite's own objects.

The adapters are ``tests/iut_programs/misbehaving/inprocess/hostile_adapters.py`` (the reference NIC, broken on every
Nth receive). The last test runs the real CLI with them registered as an entry point (a throw-away ``.dist-info`` on
``PYTHONPATH``), so the plugin's wiring is what is tested, not a hand-made session.
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from iut_programs.misbehaving.harness import IN_PROCESS, write_dist_info

from conformance.adapters.base import Adapter, Restartable
from conformance.adapters.errors import AdapterCrashed, AdapterError, AdapterProtocolError, AdapterTimeout
from conformance.adapters.guard import GuardedAdapter, guard_adapter
from conformance.adapters.reference import create as create_reference
from reference_model.constants import EncryptionAlgorithm, Operation
from reference_model.ndis import AddSaEntry, EncryptionSpec, Indication, SecAssoc
from reports.records import ErrorRecord, Finding, RunEnd, read_results

FAST = 0.3
FRAME = bytes(range(60))
ENTRY = AddSaEntry(
    sa_id=7,
    inbound=True,
    ipv6=False,
    src=ipaddress.IPv4Address("198.51.100.1"),
    dst=ipaddress.IPv4Address("198.51.100.2"),
    sec_assoc=(
        SecAssoc(
            operation=Operation.ESP,
            spi=0x1234,
            encryption=EncryptionSpec(
                algorithm=EncryptionAlgorithm.AES_GCM_128, key=b"\x00" * 16, salt=b"\x01\x02\x03\x04", icv_length=16
            ),
        ),
    ),
)


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.syspath_prepend(str(IN_PROCESS))
    import hostile_adapters

    hostile_adapters.FAULTS_DONE.clear()
    yield hostile_adapters
    hostile_adapters.FAULTS_DONE.clear()


def guarded(module: ModuleType, modes: str, *, factory: bool = True) -> GuardedAdapter:
    make: Callable[[], Adapter] = lambda: module.create(f"{modes}@1")  # noqa: E731
    adapter = GuardedAdapter(make(), factory=make if factory else None, timeout=FAST, name="hostile")
    adapter.reset()
    return adapter


RECEIVE_FAULTS: dict[str, tuple[type[AdapterError], str]] = {
    "raise": (AdapterCrashed, "hostile.receive raised ValueError: hostile adapter: cannot parse this frame"),
    "sys-exit": (AdapterCrashed, "hostile.receive raised SystemExit: 7"),
    "interrupt": (AdapterCrashed, "hostile.receive raised KeyboardInterrupt"),
    "wrong-type": (AdapterProtocolError, "receive returned dict, expected a sequence of Indication"),
    "bytearray": (AdapterProtocolError, "malformed Indication at 0 (frame bytes"),
    "bool-info": (AdapterProtocolError, "info: expected an integer, got True"),
    "block": (AdapterTimeout, f"did not return within {FAST:g} s; its thread cannot be stopped and is abandoned"),
}


@pytest.mark.parametrize("mode", list(RECEIVE_FAULTS))
def test_guard_turns_each_fault_into_one_adapter_error_and_recovers(hostile: ModuleType, mode: str) -> None:
    adapter = guarded(hostile, mode)
    error, text = RECEIVE_FAULTS[mode]
    with pytest.raises(error) as info:
        adapter.receive(FRAME)
    assert text in str(info.value)
    assert info.value.op == "receive"
    # The next request works: the same adapter, or (after a block) a fresh one from the factory.
    assert adapter.receive(FRAME) == (Indication(frame=FRAME, info=0),)
    assert adapter.restarts == (1 if mode == "block" else 0)
    assert adapter.needs_reset == (mode == "block")
    adapter.reset()
    assert not adapter.needs_reset
    adapter.close()


def test_guard_without_factory_fails_fast_after_abandoning_a_blocked_adapter(hostile: ModuleType) -> None:
    adapter = guarded(hostile, "block", factory=False)
    with pytest.raises(AdapterTimeout, match="no factory"):
        adapter.receive(FRAME)
    with pytest.raises(AdapterError, match="abandoned after a timeout and has no factory"):
        adapter.reset()
    assert adapter.abandoned == 1


def test_guard_hands_the_adapter_copies_of_sa_entries(hostile: ModuleType) -> None:
    adapter = guarded(hostile, "mutate-entry")
    before = (ENTRY.sa_id, ENTRY.dst, ENTRY.src)
    results = adapter.add_sa([ENTRY])
    assert hostile.FAULTS_DONE == ["mutate-entry"]  # it did try
    assert (ENTRY.sa_id, ENTRY.dst, ENTRY.src) == before
    assert [r.sa_id for r in results] == [7]


def test_guard_answer_is_a_tuple_the_adapter_cannot_change_later(hostile: ModuleType) -> None:
    adapter = guarded(hostile, "keep-list")
    answer = adapter.receive(FRAME)
    threading.Event().wait(0.2)  # the adapter appends to the list it returned
    assert hostile.FAULTS_DONE == ["keep-list"]
    assert isinstance(answer, tuple)
    assert answer == (Indication(frame=FRAME, info=0),)


def test_guard_rebuilds_values_with_exact_types() -> None:
    class BytesLike(bytes):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = bytes.__hash__

    class Sly:
        def __getattr__(self, name: str) -> object:
            return getattr(inner, name)

        def receive(self, frame: bytes) -> list[Indication]:
            return [Indication(frame=BytesLike(frame), info=0)]

    inner = create_reference(None)
    adapter = GuardedAdapter(Sly(), timeout=FAST)  # type: ignore[arg-type]
    frame = adapter.receive(FRAME)[0].frame
    assert type(frame) is bytes
    assert frame != b"other"


def test_guard_leaves_exec_and_builtin_adapters_alone_and_is_restartable() -> None:
    from conformance.adapters.exec_adapter import ExecAdapter

    program = ExecAdapter(["true"])
    assert guard_adapter(program, factory=None, timeout=1, name="x") is program
    # The model NICs this package ships are not guarded (the thread handoff would halve their throughput)...
    builtin = create_reference(None)
    assert guard_adapter(builtin, factory=None, timeout=1, name="reference") is builtin
    from conformance.adapters.mutants import create as create_mutant

    mutant = create_mutant("drop-failed")
    assert guard_adapter(mutant, factory=None, timeout=1, name="mutant") is mutant
    # ... but anything else is, even a subclass of them (third-party code built on the reference NIC).
    third_party = type("ThirdPartyNic", (type(builtin),), {})()
    wrapped = guard_adapter(third_party, factory=None, timeout=1, name="third-party")
    assert isinstance(wrapped, GuardedAdapter)
    assert isinstance(wrapped, Restartable)
    assert guard_adapter(wrapped, factory=None, timeout=1, name="again") is wrapped


def run_with_hostile_adapters(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = write_dist_info(tmp / "site")
    return subprocess.run(
        [sys.executable, "-m", "conformance.cli", *args, "--out", str(tmp / "out"), "--no-progress"],
        capture_output=True,
        check=False,
        text=True,
        timeout=300,
        cwd=tmp,
        env=env,
    )


def test_hostile_in_process_adapter_through_the_cli_gives_one_error_per_fault(tmp_path: Path) -> None:
    modes = ["mutate-entry", *RECEIVE_FAULTS, "keep-list"]
    iut = f"hostile:{','.join(modes)}@5"
    proc = run_with_hostile_adapters(
        tmp_path, "run", "--iut", iut, "--profile", "quick", "--seed", "1", "-k", "test_sa_matching", "--timeout", "1"
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    records = read_results(tmp_path / "out" / "results.jsonl").records
    errors = [r.message for r in records if isinstance(r, ErrorRecord)]
    assert len(errors) == len(RECEIVE_FAULTS), errors
    for message, (mode, (error, text)) in zip(errors, RECEIVE_FAULTS.items(), strict=True):
        assert text.replace(f"within {FAST:g} s", "within 1 s") in message, (mode, message)
        assert error.__name__ in message
    assert "re-created through its factory" in errors[-1]
    # The mutated entry and the list changed after the answer did not corrupt any judgement: no FAIL anywhere.
    assert not [r for r in records if isinstance(r, Finding)]
    ends = [r for r in records if isinstance(r, RunEnd)]
    assert ends[-1].status == "complete"
    assert ends[-1].stats["scenarios"] == 25
    assert (tmp_path / "out" / "index.html").is_file()
