"""The ``exec`` adapter against a small protocol-speaking program and its misbehaving variants.

After every fault the child must be gone: reaped (``os.waitpid`` says it is no child of ours any more) and nothing left
alive in its process group (checked through ``/proc`` where it exists, else with ``killpg(pgid, 0)``).
"""

from __future__ import annotations

import ipaddress
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.adapters.base import Adapter, Restartable
from conformance.adapters.errors import (
    AdapterCrashed,
    AdapterError,
    AdapterLoadError,
    AdapterProtocolError,
    AdapterRefused,
    AdapterTimeout,
)
from conformance.adapters.exec_adapter import MAX_LINE_ENV, TIMEOUT_ENV, ExecAdapter, create
from reference_model.constants import EncryptionAlgorithm, IpsecV2Setting, NdisStatus, Operation
from reference_model.ndis import AddSaEntry, EncryptionSpec, Indication, SecAssoc, UpdateSa

PROGRAM = Path(__file__).parent / "iut_programs" / "echo_reference.py"
FAST = 0.5
"""Per-request timeout for these tests (seconds): only the hang tests wait for it."""

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process-group checks are POSIX")

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


def command(misbehave: str = "") -> list[str]:
    argv = [sys.executable, str(PROGRAM)]
    return [*argv, "--misbehave", misbehave] if misbehave else argv


@pytest.fixture
def make_adapter() -> Iterator[type[ExecAdapter]]:
    """Adapters built through this are closed at the end of the test even if it fails."""
    made: list[ExecAdapter] = []

    class Tracked(ExecAdapter):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            made.append(self)

    yield Tracked
    for adapter in made:
        adapter.close()


def group_members_alive(pgid: int) -> list[int]:
    """Pids in process group ``pgid`` that are not zombies (Linux ``/proc``; else any signalable member)."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [pgid]
    alive = []
    for stat in proc.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        state, group = fields[0], int(fields[2])
        if group == pgid and state not in ("Z", "X"):
            alive.append(int(stat.parent.name))
    return alive


def assert_child_gone(pid: int) -> None:
    """The child was reaped by the adapter and its whole group is dead (SIGKILL delivery is asynchronous: poll)."""
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    for _ in range(200):
        if not group_members_alive(pid):
            return
        time.sleep(0.01)
    pytest.fail(f"processes still alive in group {pid}: {group_members_alive(pid)}")


def fails_and_cleans_up(adapter: ExecAdapter, error: type[AdapterError]) -> AdapterError:
    """hello succeeds, receive fails with ``error``; afterwards the child is reaped and its group is dead."""
    adapter.hello()
    pid = adapter.pid
    assert pid is not None
    with pytest.raises(error) as info:
        adapter.receive(b"\x00\x01")
    assert adapter.pid is None
    assert adapter.needs_reset
    assert_child_gone(pid)
    return info.value


# ---- a well-behaved program ----------------------------------------------------------------------------------------


def test_exec_adapter_normal_session_answers_every_request(make_adapter: type[ExecAdapter]) -> None:
    adapter = make_adapter(command(), timeout=FAST * 10)
    assert isinstance(adapter, Adapter)
    assert isinstance(adapter, Restartable)
    hello = adapter.hello()
    assert hello.name == "echo-reference"
    assert hello.capabilities.sa_offload_capacity == 64
    adapter.reset()
    assert adapter.set_offload(IpsecV2Setting.ESP) is NdisStatus.SUCCESS
    results = adapter.add_sa([ENTRY])
    assert [(r.sa_id, r.status, r.handle) for r in results] == [(7, NdisStatus.SUCCESS, 1)]
    assert adapter.update_sa(UpdateSa(sa_id=7, operation=Operation.ESP, spi=0x1234, seq_hi=1)) is NdisStatus.SUCCESS
    assert adapter.receive(b"\x00\x01\x02") == (Indication(frame=b"\x00\x01\x02", info=0),)
    assert adapter.delete_sa(7) is NdisStatus.SUCCESS
    assert adapter.delete_sa(7) is NdisStatus.INVALID_PARAMETER
    assert adapter.restarts == 0
    assert not adapter.needs_reset
    pid = adapter.pid
    assert pid is not None
    adapter.close()
    assert adapter.pid is None
    assert_child_gone(pid)


def test_exec_adapter_close_is_idempotent_and_refuses_later_requests(make_adapter: type[ExecAdapter]) -> None:
    adapter = make_adapter(command(), timeout=FAST * 10)
    adapter.hello()
    adapter.close()
    adapter.close()
    with pytest.raises(AdapterError, match="closed"):
        adapter.hello()


def test_exec_adapter_context_manager_reaps_the_child() -> None:
    with ExecAdapter(command(), timeout=FAST * 10) as adapter:
        adapter.hello()
        pid = adapter.pid
    assert pid is not None
    assert_child_gone(pid)


# ---- faults --------------------------------------------------------------------------------------------------------


def test_exec_adapter_child_exiting_at_start_is_crashed_with_stderr(make_adapter: type[ExecAdapter]) -> None:
    adapter = make_adapter(command("exit-at-start"), timeout=FAST)
    with pytest.raises(AdapterCrashed) as info:
        adapter.hello()
    assert info.value.returncode == 3
    assert "refusing to start" in info.value.iut_stderr
    assert "refusing to start" in str(info.value)
    assert adapter.pid is None
    assert adapter.needs_reset


def test_exec_adapter_child_exiting_mid_session_is_crashed(make_adapter: type[ExecAdapter]) -> None:
    error = fails_and_cleans_up(make_adapter(command("exit-on-receive"), timeout=FAST), AdapterCrashed)
    assert isinstance(error, AdapterCrashed)
    assert error.returncode == 4
    assert "dying on receive" in error.iut_stderr
    assert error.op == "receive"


def test_exec_adapter_hanging_child_times_out_and_is_killed(make_adapter: type[ExecAdapter]) -> None:
    error = fails_and_cleans_up(make_adapter(command("hang-on-receive"), timeout=FAST), AdapterTimeout)
    assert "no answer within 0.5 s" in str(error)


def test_exec_adapter_hang_kills_grandchildren_in_the_group(make_adapter: type[ExecAdapter]) -> None:
    fails_and_cleans_up(make_adapter(command("fork-hang-on-receive"), timeout=FAST), AdapterTimeout)


def test_exec_adapter_non_json_line_is_a_protocol_error(make_adapter: type[ExecAdapter]) -> None:
    error = fails_and_cleans_up(make_adapter(command("non-json-on-receive"), timeout=FAST), AdapterProtocolError)
    assert "not JSON" in str(error)
    assert "this is not json" in str(error)


def test_exec_adapter_wrong_shaped_answer_is_a_protocol_error(make_adapter: type[ExecAdapter]) -> None:
    error = fails_and_cleans_up(make_adapter(command("shape-on-receive"), timeout=FAST), AdapterProtocolError)
    assert "$.indications[0].info" in str(error)


def test_exec_adapter_two_answers_are_detected_at_the_next_request(make_adapter: type[ExecAdapter]) -> None:
    adapter = make_adapter(command("twice-on-receive"), timeout=FAST)
    adapter.hello()
    pid = adapter.pid
    assert pid is not None
    assert adapter.receive(b"\x05") == (Indication(frame=b"\x05", info=0),)
    with pytest.raises(AdapterProtocolError, match="unrequested output"):
        adapter.reset()
    assert_child_gone(pid)


def test_exec_adapter_line_over_the_limit_is_a_protocol_error(make_adapter: type[ExecAdapter]) -> None:
    adapter = make_adapter(command("huge-on-receive"), timeout=FAST * 10, max_line=64 * 1024)
    error = fails_and_cleans_up(adapter, AdapterProtocolError)
    assert "exceeds the limit of 65536 bytes" in str(error)


def test_exec_adapter_refusal_keeps_the_child(make_adapter: type[ExecAdapter]) -> None:
    adapter = make_adapter(command("refuse-on-receive"), timeout=FAST * 10)
    adapter.hello()
    pid = adapter.pid
    with pytest.raises(AdapterRefused) as info:
        adapter.receive(b"\x00")
    assert info.value.error == "not today"
    # stderr and stdout are separate pipes: what the child wrote to stderr just before answering may still be in
    # flight when the answer is read, so the exception's copy is best effort and the adapter's ring catches up.
    for _ in range(200):
        if "refusing" in adapter.stderr_text():
            break
        time.sleep(0.01)
    assert "refusing" in adapter.stderr_text()
    assert adapter.pid == pid
    assert not adapter.needs_reset
    adapter.reset()


def test_exec_adapter_restarts_after_a_fault_in_power_on_state(make_adapter: type[ExecAdapter]) -> None:
    adapter = make_adapter(command("exit-on-receive"), timeout=FAST)
    adapter.hello()
    first = adapter.pid
    with pytest.raises(AdapterCrashed):
        adapter.receive(b"\x00")
    assert adapter.restarts == 0
    assert adapter.hello().name == "echo-reference"
    assert adapter.restarts == 1
    assert adapter.pid not in (None, first)
    assert adapter.needs_reset
    adapter.reset()
    assert not adapter.needs_reset


def test_exec_adapter_missing_program_is_crashed_not_a_traceback(make_adapter: type[ExecAdapter]) -> None:
    adapter = make_adapter(["/nonexistent/iut-program"], timeout=FAST)
    with pytest.raises(AdapterCrashed, match="cannot start"):
        adapter.hello()


def test_exec_adapter_stdin_closed_by_child_is_crashed(make_adapter: type[ExecAdapter]) -> None:
    adapter = make_adapter([sys.executable, "-c", "import os, time; os.close(0); time.sleep(30)"], timeout=FAST)
    with pytest.raises((AdapterCrashed, AdapterTimeout)):
        adapter.hello()
    assert adapter.pid is None


def test_exec_adapter_killed_child_reports_the_signal(make_adapter: type[ExecAdapter]) -> None:
    adapter = make_adapter(command("hang-on-receive"), timeout=FAST * 10)
    adapter.hello()
    pid = adapter.pid
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    with pytest.raises(AdapterCrashed) as info:
        adapter.receive(b"\x00")
    assert info.value.returncode == -signal.SIGTERM
    assert_child_gone(pid)


# ---- the entry point ------------------------------------------------------------------------------------------------


def test_exec_create_splits_the_argument_with_shlex(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TIMEOUT_ENV, raising=False)
    adapter = create(f"'{sys.executable}' '{PROGRAM}' --misbehave ''")
    try:
        assert adapter.argv == (sys.executable, str(PROGRAM), "--misbehave", "")
        assert adapter.timeout == 5.0
        assert adapter.hello().name == "echo-reference"
    finally:
        adapter.close()


def test_exec_create_reads_timeout_and_line_limit_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TIMEOUT_ENV, "0.25")
    monkeypatch.setenv(MAX_LINE_ENV, "4096")
    adapter = create("true")
    assert (adapter.timeout, adapter.max_line) == (0.25, 4096)
    adapter.close()


@pytest.mark.parametrize("value", ["soon", "0", "-1"])
def test_exec_create_rejects_a_bad_timeout(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(TIMEOUT_ENV, value)
    with pytest.raises(AdapterLoadError, match=TIMEOUT_ENV):
        create("true")


@pytest.mark.parametrize("argument", [None, "", "   ", "'unbalanced"])
def test_exec_create_rejects_a_missing_or_unsplittable_command(argument: str | None) -> None:
    with pytest.raises(AdapterLoadError):
        create(argument)
