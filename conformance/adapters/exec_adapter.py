"""``exec``: drive any program that speaks the adapter protocol on stdin/stdout (``--iut exec:"./my-nic --flag"``).

Design, and why:

- The argument is split with ``shlex`` and run without a shell, in a new session (its own process group), so that a
  program which forks helpers is killed as a whole and nothing is left behind.
- Two daemon threads drain the pipes: stdout into a line buffer, stderr into a bounded ring (the tail goes into every
  ``AdapterError`` and the report). Threads rather than ``selectors`` because they work on pipes on every platform,
  and because reading stdout in raw chunks makes a second answer that arrived together with the first visible
  deterministically at the next request.
- One timeout per request (default 5 s). The channels that set it, in order: the ``timeout=`` keyword of
  ``ExecAdapter``; for ``create()`` (the entry point), the environment variable ``IPSECOV2_TIMEOUT`` in seconds —
  an environment variable because pytest-xdist workers inherit it, so ``--timeout`` of the CLI reaches every worker
  without changing the factory signature ``Callable[[str | None], Adapter]``. ``IPSECOV2_MAX_LINE`` (bytes) likewise
  sets the longest accepted answer line (default 16 MiB).
- Any failure that leaves the byte stream out of step — exit, hang, non-JSON, wrong shape, an extra answer, an
  overlong line — raises the matching ``AdapterError`` *and* kills the process group. No silent replay: the next call
  starts a fresh program in power-on state, counts it in ``restarts`` and sets ``needs_reset`` until ``reset()``
  succeeds, so the engine re-runs the scenario setup it knows about. An ``{"ok": false}`` answer is an
  ``AdapterRefused`` and does not kill: the stream is still in step.
- ``close()`` sends ``bye``, gives the program a moment to exit, then kills the group and reaps the child; every
  ``Popen`` is ``wait()``-ed, so no zombie and no orphan remains.

Not thread-safe: one engine drives one adapter.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from types import TracebackType
from typing import IO, Any, Final, Self, TypeVar

from conformance.adapters import wire
from conformance.adapters.errors import (
    AdapterCrashed,
    AdapterError,
    AdapterLoadError,
    AdapterProtocolError,
    AdapterRefused,
    AdapterTimeout,
)
from reference_model.constants import IpsecV2Setting, NdisStatus
from reference_model.ndis import AddSaEntry, AddSaResult, Hello, Indication, UpdateSa

DEFAULT_TIMEOUT: Final = 5.0
DEFAULT_STDERR_RING: Final = 64 * 1024
CLOSE_GRACE: Final = 1.0
"""Seconds ``close()`` waits for the answer to ``bye`` and for the program to exit before killing it."""
TIMEOUT_ENV: Final = "IPSECOV2_TIMEOUT"
MAX_LINE_ENV: Final = "IPSECOV2_MAX_LINE"
_CHUNK: Final = 65536
T = TypeVar("T")


class _StdoutLines:
    """Raw chunks of the child's stdout cut into lines, with end-of-file and overflow flags, under one condition."""

    def __init__(self, stream: IO[bytes], max_line: int) -> None:
        self._stream = stream
        self._max_line = max_line
        self._buffer = bytearray()
        self._eof = False
        self._overflow = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="exec-adapter-stdout", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        fd = self._stream.fileno()
        while True:
            try:
                chunk = os.read(fd, _CHUNK)
            except OSError:
                chunk = b""
            with self._cond:
                if not chunk:
                    self._eof = True
                    self._cond.notify_all()
                    return
                self._buffer += chunk
                # Bound memory: a line (or a backlog of lines) longer than the limit stops the reading for good;
                # the adapter kills the child when it sees the flag.
                first_newline = self._buffer.find(b"\n")
                if (
                    len(self._buffer) > 2 * self._max_line + 2
                    or (first_newline == -1 and len(self._buffer) > self._max_line + 1)
                    or first_newline > self._max_line + 1
                ):
                    self._overflow = True
                    self._cond.notify_all()
                    return
                if first_newline != -1:
                    self._cond.notify_all()

    def pending(self) -> bytes:
        """Bytes already received that no request asked for (empty if none)."""
        with self._cond:
            return bytes(self._buffer)

    def at_eof(self) -> bool:
        with self._cond:
            return self._eof and not self._buffer

    def next_line(self, deadline: float) -> bytes | str:
        """The next line (with its newline), or ``"eof"``, ``"overflow"`` or ``"timeout"``."""
        with self._cond:
            while True:
                newline = self._buffer.find(b"\n")
                if newline != -1 and newline <= self._max_line + 1:
                    line = bytes(self._buffer[: newline + 1])
                    del self._buffer[: newline + 1]
                    return line
                if self._overflow or newline != -1:
                    return "overflow"
                if self._eof:
                    return "eof"
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return "timeout"
                self._cond.wait(remaining)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


class _StderrRing:
    """The last ``size`` bytes the child wrote to stderr."""

    def __init__(self, stream: IO[bytes], size: int) -> None:
        self._stream = stream
        self._size = size
        self._data = bytearray()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="exec-adapter-stderr", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        fd = self._stream.fileno()
        while True:
            try:
                chunk = os.read(fd, _CHUNK)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self._data += chunk
                if len(self._data) > self._size:
                    del self._data[: len(self._data) - self._size]

    def text(self) -> str:
        with self._lock:
            return self._data.decode("utf-8", errors="replace")

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


class _Child:
    """One running instance of the IUT program and its pipe readers."""

    def __init__(self, argv: Sequence[str], *, max_line: int, stderr_ring: int, env: Mapping[str, str] | None) -> None:
        popen_kwargs: dict[str, Any] = {}
        if os.name == "posix":
            popen_kwargs["start_new_session"] = True
        else:  # pragma: no cover - exercised only on Windows
            popen_kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        self.proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
            env=None if env is None else dict(env),
            **popen_kwargs,
        )
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        self.stdin: IO[bytes] = self.proc.stdin
        self.stdout = _StdoutLines(self.proc.stdout, max_line)
        self.stderr = _StderrRing(self.proc.stderr, stderr_ring)

    def send(self, data: bytes) -> None:
        self.stdin.write(data)
        self.stdin.flush()

    def kill(self) -> int | None:
        """Kill the whole process group, reap the child, let the reader threads finish; the exit status."""
        if os.name == "posix":
            # The group id is the child's pid (new session). Signal the group before reaping the leader, so the id
            # cannot have been reused; grandchildren that outlived the leader are killed too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        else:  # pragma: no cover
            with contextlib.suppress(OSError):
                self.proc.kill()
        returncode = self.proc.wait()
        with contextlib.suppress(OSError):
            self.stdin.close()
        self.stdout.join(1.0)
        self.stderr.join(1.0)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        return returncode


class ExecAdapter:
    """An ``Adapter`` backed by a child process speaking the JSON-lines protocol (see the module docstring)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_line: int = wire.DEFAULT_MAX_LINE,
        stderr_ring: int = DEFAULT_STDERR_RING,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if not argv:
            raise ValueError("ExecAdapter needs a command")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        if max_line <= 0:
            raise ValueError(f"max_line must be positive, got {max_line}")
        self.argv: tuple[str, ...] = tuple(argv)
        self.timeout = timeout
        self.max_line = max_line
        self._stderr_ring = stderr_ring
        self._env = env
        self._child: _Child | None = None
        self._started = 0
        self._needs_reset = False
        self._last_stderr = ""
        self._closed = False

    # -- lifecycle -----------------------------------------------------------------------------------------------

    @property
    def restarts(self) -> int:
        """How many times the program was started again after a failure."""
        return max(0, self._started - 1)

    @property
    def needs_reset(self) -> bool:
        """True after a kill until ``reset()`` succeeds: the SA table the engine built is gone."""
        return self._needs_reset

    @property
    def pid(self) -> int | None:
        """The running child's pid (its process group id on POSIX), or None when none is running."""
        return None if self._child is None else self._child.proc.pid

    def stderr_text(self) -> str:
        """Everything kept of the current (or last) child's stderr: up to ``stderr_ring`` bytes."""
        return self._child.stderr.text() if self._child is not None else self._last_stderr

    def _ensure_child(self, op: str) -> _Child:
        if self._closed:
            raise AdapterError("the adapter is closed", op=op)
        if self._child is None:
            self._started += 1
            try:
                self._child = _Child(self.argv, max_line=self.max_line, stderr_ring=self._stderr_ring, env=self._env)
            except OSError as exc:
                raise AdapterCrashed(f"cannot start {shlex.join(self.argv)}: {exc}", op=op) from None
        return self._child

    def _kill(self) -> int | None:
        child, self._child = self._child, None
        if child is None:
            return None
        returncode = child.kill()
        self._last_stderr = child.stderr.text()
        return returncode

    def _fail(self, error_type: type[AdapterError], message: str, op: str) -> AdapterError:
        """Kill the child and build the error to raise, with the stderr tail taken after the kill (complete)."""
        returncode = self._kill()
        self._needs_reset = True
        if error_type is AdapterCrashed:
            status = "" if returncode is None else f" (exit status {returncode})"
            return AdapterCrashed(message + status, op=op, iut_stderr=self._last_stderr, returncode=returncode)
        return error_type(message, op=op, iut_stderr=self._last_stderr)

    def close(self) -> None:
        """Send ``bye``, give the program ``CLOSE_GRACE`` seconds to answer and exit, then kill and reap it."""
        if self._closed:
            return
        self._closed = True
        child = self._child
        if child is None:
            return
        deadline = time.monotonic() + min(CLOSE_GRACE, self.timeout)
        try:
            child.send(wire.encode_line(wire.bye_request()))
            child.stdout.next_line(deadline)
            child.stdin.close()
            child.proc.wait(max(0.0, deadline - time.monotonic()))
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        self._kill()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- one request, one answer ---------------------------------------------------------------------------------

    def request(self, request: Mapping[str, Any]) -> wire.JsonObject:
        """Send one request object and return its validated answer (``AdapterError`` on any fault)."""
        op = str(request["op"])
        child = self._ensure_child(op)
        stale = child.stdout.pending()
        if stale:
            raise self._fail(
                AdapterProtocolError,
                f"unrequested output before this request (a second answer to the previous one?): {stale[:120]!r}",
                op,
            )
        if child.stdout.at_eof() or child.proc.poll() is not None:
            raise self._fail(AdapterCrashed, "the IUT program exited before the request was sent", op)
        try:
            child.send(wire.encode_line(request))
        except OSError as exc:  # BrokenPipeError: it exited and closed stdin
            raise self._fail(AdapterCrashed, f"cannot write the request ({exc.strerror or exc})", op) from None
        line = child.stdout.next_line(time.monotonic() + self.timeout)
        if line == "timeout":
            if child.proc.poll() is not None:
                raise self._fail(AdapterCrashed, "the IUT program exited without answering", op)
            raise self._fail(AdapterTimeout, f"no answer within {self.timeout:g} s", op)
        if line == "eof":
            raise self._fail(AdapterCrashed, "the IUT program closed stdout (exited?) without answering", op)
        if line == "overflow":
            raise self._fail(AdapterProtocolError, f"answer line exceeds the limit of {self.max_line} bytes", op)
        assert isinstance(line, bytes)
        try:
            return wire.check_response(op, line, max_line=self.max_line)
        except AdapterProtocolError as exc:
            raise self._fail(AdapterProtocolError, exc.message, op) from None
        except AdapterRefused as exc:  # still in step: keep the child, but attach what it said on stderr
            raise AdapterRefused(exc.error, op=op, iut_stderr=child.stderr.text()) from None

    def _call(self, request: Mapping[str, Any], convert: Callable[[wire.JsonObject], T]) -> T:
        """``request`` and then the typed reading of the answer; a value the typed readers reject also kills."""
        answer = self.request(request)
        try:
            return convert(answer)
        except AdapterProtocolError as exc:
            raise self._fail(AdapterProtocolError, exc.message, exc.op) from None

    # -- the Adapter protocol ------------------------------------------------------------------------------------

    def hello(self) -> Hello:
        return self._call(wire.hello_request(), wire.hello_from_response)

    def reset(self) -> None:
        self.request(wire.reset_request())
        self._needs_reset = False

    def set_offload(self, setting: IpsecV2Setting) -> NdisStatus:
        return self._call(wire.set_offload_request(setting), partial(wire.status_from_response, "set_offload"))

    def add_sa(self, entries: Sequence[AddSaEntry]) -> Sequence[AddSaResult]:
        return self._call(
            wire.add_sa_request(entries), lambda answer: wire.add_sa_results_from_response(answer, entries)
        )

    def delete_sa(self, sa_id: int) -> NdisStatus:
        return self._call(wire.delete_sa_request(sa_id), partial(wire.status_from_response, "delete_sa"))

    def update_sa(self, update: UpdateSa) -> NdisStatus:
        return self._call(wire.update_sa_request(update), partial(wire.status_from_response, "update_sa"))

    def receive(self, frame: bytes) -> Sequence[Indication]:
        return self._call(wire.receive_request(frame), wire.indications_from_response)


def _env_float(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise AdapterLoadError(f"{name}={text!r} is not a number of seconds") from None
    if not value > 0:
        raise AdapterLoadError(f"{name}={text!r} must be positive")
    return value


def create(argument: str | None) -> ExecAdapter:
    """Entry point ``exec``: ``argument`` is the command line (shlex syntax, no shell). See the module docstring."""
    if argument is None or not argument.strip():
        raise AdapterLoadError('exec needs a command: --iut exec:"./my-nic --flag"')
    try:
        argv = shlex.split(argument)
    except ValueError as exc:
        raise AdapterLoadError(f"exec: cannot split the command {argument!r}: {exc}") from None
    timeout = _env_float(TIMEOUT_ENV, DEFAULT_TIMEOUT)
    max_line = int(_env_float(MAX_LINE_ENV, wire.DEFAULT_MAX_LINE))
    return ExecAdapter(argv, timeout=timeout, max_line=max_line)
