"""The guard every in-process adapter runs behind: per-call timeouts, checked answers, and copies in both directions.

An IUT is unfinished by definition. Behind ``exec`` it can only hurt itself: it is a process we kill. In process it
shares our interpreter, so without this guard it could hang the run (a blocking ``receive``), end it (``sys.exit()``
or ``KeyboardInterrupt`` raised from adapter code), corrupt the suite's state (``object.__setattr__`` on the frozen
``AddSaEntry`` the model also holds) or answer with objects that change after the judge looked at them (a list it
keeps and appends to later, an ``int`` subclass with a lying ``__eq__``). The guard turns each of these into one
``AdapterError`` (verdict ERROR; the driver ends the scenario and the run goes on), exactly as ``exec`` does.

Design, and why:

- **A worker thread, not a process.** Each call runs on one long-lived worker thread and the caller waits for it
  with the timeout (``--timeout``, the same per-request budget as ``exec``). A process would need the adapter to be
  picklable and would change what "in process" means (adapters that wrap a driver through ctypes, share a device
  handle, or keep a model in memory); a hostile program that needs a process boundary belongs behind ``exec``.
  The handoff costs about 0.1 ms per call (measured: 105 us for a receive, against 5 us for the answer checks), which
  is why the model NICs this package ships are not guarded (``guard_adapter``).
- **A blocked call cannot be stopped** (Python has no safe way to kill a thread). After a timeout the adapter is
  *abandoned*: its worker stays blocked (a daemon thread, so it cannot keep the interpreter alive at exit), its
  ``close()`` is attempted on a throw-away daemon thread, and the next call builds a fresh adapter through the
  factory and a fresh worker; ``restarts`` counts this and ``needs_reset`` is set until ``reset()`` succeeds
  (``Restartable``, as for ``exec``). The ERROR message says so, so the report says so. Without a factory every
  later call is an ERROR at once. Code that blocks while holding the GIL (a C loop) cannot be timed out at all.
- **Answers are checked, then rebuilt.** The checks are the driver's (``conformance.driver._check_*``: one
  definition of "what the Python form promises"); then each value goes through the strict JSON round trip of the
  wire form (``to_json``/``from_json``), the same reader ``exec`` answers pass. The suite thus only ever holds
  exact ``bytes``/``int``/``str`` values and tuples it built itself: nothing the adapter keeps a reference to, no
  subclass, no out-of-range number.
- **Arguments are copies.** Frames are ``bytes`` (immutable) and are passed as they are; SA entries and updates are
  deep-copied, so even ``object.__setattr__`` on a frozen dataclass changes only the adapter's copy. Not defended
  against: code that deliberately walks the interpreter (``ctypes``, ``gc.get_referrers``) — in-process code can do
  anything, which is why ``exec`` exists.
- Exceptions: an ``AdapterError`` from the adapter passes through; anything else it raises (including
  ``SystemExit``, ``KeyboardInterrupt`` and ``GeneratorExit`` raised by adapter code on its worker thread) becomes
  ``AdapterCrashed`` naming the method and the exception. A real Ctrl-C still reaches the main thread, which waits
  interruptibly.

Not thread-safe: one engine drives one adapter, as for every adapter.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Final, TypeVar

from conformance.adapters.base import Adapter
from conformance.adapters.errors import AdapterCrashed, AdapterError, AdapterProtocolError, AdapterTimeout
from conformance.driver import _check_indications, _check_results, _check_status
from reference_model.constants import IpsecV2Setting, NdisStatus
from reference_model.ndis import AddSaEntry, AddSaResult, Hello, Indication, UpdateSa, WireFormatError

DEFAULT_TIMEOUT: Final = 5.0
T = TypeVar("T")


@dataclass(slots=True)
class _Call:
    """One call handed to the worker: the function, and once done its value or the exception it raised."""

    function: Callable[[], object]
    done: threading.Event = field(default_factory=threading.Event)
    value: object = None
    error: BaseException | None = None


class _Worker:
    """A daemon thread that runs calls one at a time; abandoned (left blocked) when a call never returns."""

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            call = self._calls.get()
            if call is None:
                return
            try:
                call.value = call.function()
            except BaseException as exc:  # SystemExit & co. raised by adapter code are its faults too
                call.error = exc
            call.done.set()

    def run(self, function: Callable[[], object], timeout: float) -> _Call | None:
        """The finished call, or None when it did not finish within ``timeout`` seconds."""
        call = _Call(function)
        self._calls.put(call)
        return call if call.done.wait(timeout) else None

    def stop(self) -> None:
        self._calls.put(None)


class GuardedAdapter:
    """An ``Adapter`` (and ``Restartable``) that runs ``adapter`` behind the guard described in the module docstring.

    ``factory`` re-creates the adapter after one was abandoned on a timeout; ``name`` is used in messages.
    """

    def __init__(
        self,
        adapter: Adapter,
        *,
        factory: Callable[[], Adapter] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        name: str = "in-process adapter",
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.timeout = timeout
        self.name = name
        self._factory = factory
        self._adapter: Adapter | None = adapter
        self._worker: _Worker | None = _Worker(f"guard-{name}")
        self._restarts = 0
        self._needs_reset = False
        self._closed = False
        self.abandoned = 0
        """How many adapters were abandoned with a call still blocked (their threads never return)."""

    # -- Restartable ---------------------------------------------------------------------------------------------

    @property
    def restarts(self) -> int:
        """How many times the adapter was re-created through its factory after a timeout."""
        return self._restarts

    @property
    def needs_reset(self) -> bool:
        """True after a re-creation until ``reset()`` succeeds: the SA table the engine built is gone."""
        return self._needs_reset

    @property
    def wrapped(self) -> Adapter | None:
        """The adapter currently guarded (None after an abandonment until the next call re-creates it)."""
        return self._adapter

    # -- the guarded call ----------------------------------------------------------------------------------------

    def _current(self, op: str) -> tuple[Adapter, _Worker]:
        if self._closed:
            raise AdapterError("the adapter is closed", op=op)
        if self._adapter is None or self._worker is None:
            if self._factory is None:
                raise AdapterError(
                    f"{self.name} was abandoned after a timeout and has no factory to re-create it", op=op
                )
            worker = _Worker(f"guard-{self.name}")
            factory = self._factory
            done = worker.run(factory, self.timeout)
            if done is None:
                self._abandon(worker, None)
                raise AdapterTimeout(f"re-creating {self.name} took longer than {self.timeout:g} s", op=op)
            if done.error is not None or not isinstance(done.value, Adapter):
                worker.stop()
                what = _describe(done.error) if done.error is not None else f"{type(done.value).__name__}"
                raise AdapterCrashed(f"re-creating {self.name} failed: {what}", op=op)
            self._adapter, self._worker = done.value, worker
            self._restarts += 1
            self._needs_reset = True
        return self._adapter, self._worker

    def _abandon(self, worker: _Worker, adapter: Adapter | None) -> None:
        self.abandoned += 1
        self._adapter = None
        self._worker = None
        if adapter is not None:  # best effort, never waited for: close() may block on the same lock as the call
            threading.Thread(target=_close_quietly, args=(adapter,), name="guard-abandoned-close", daemon=True).start()

    def _call(self, op: str, function: Callable[[Adapter], object], check: Callable[[object], T]) -> T:
        adapter, worker = self._current(op)
        done = worker.run(lambda: function(adapter), self.timeout)
        if done is None:
            self._abandon(worker, adapter)
            then = (
                "it will be re-created through its factory for the next scenario"
                if self._factory is not None
                else "it has no factory, so every later request is an ERROR"
            )
            raise AdapterTimeout(
                f"{self.name}.{op} did not return within {self.timeout:g} s; its thread cannot be stopped and is "
                f"abandoned (left blocked), and {then}",
                op=op,
            )
        if done.error is not None:
            if isinstance(done.error, AdapterError):
                raise done.error
            raise AdapterCrashed(f"{self.name}.{op} raised {_describe(done.error)}", op=op) from done.error
        try:
            return check(done.value)
        except AdapterError:
            raise
        except Exception as exc:  # InvalidAnswerError of the driver's checks, WireFormatError of the round trip
            raise AdapterProtocolError(f"{self.name}.{op} answered wrongly: {exc}", op=op) from None

    # -- the Adapter protocol ------------------------------------------------------------------------------------

    def hello(self) -> Hello:
        return self._call("hello", lambda a: a.hello(), _checked_hello)

    def reset(self) -> None:
        self._call("reset", lambda a: a.reset(), _checked_none)
        self._needs_reset = False

    def set_offload(self, setting: IpsecV2Setting) -> NdisStatus:
        return self._call("set_offload", lambda a: a.set_offload(setting), _status_checker("set_offload"))

    def add_sa(self, entries: Sequence[AddSaEntry]) -> Sequence[AddSaResult]:
        own = tuple(entries)
        theirs = tuple(_fresh_entry(e) for e in own)
        return self._call("add_sa", lambda a: a.add_sa(theirs), lambda value: _checked_results(value, own))

    def delete_sa(self, sa_id: int) -> NdisStatus:
        return self._call("delete_sa", lambda a: a.delete_sa(int(sa_id)), _status_checker("delete_sa"))

    def update_sa(self, update: UpdateSa) -> NdisStatus:
        theirs = replace(update)
        return self._call("update_sa", lambda a: a.update_sa(theirs), _status_checker("update_sa"))

    def receive(self, frame: bytes) -> Sequence[Indication]:
        data = bytes(frame)
        return self._call("receive", lambda a: a.receive(data), _checked_indications)

    def close(self) -> None:
        """Close the guarded adapter (within the timeout) and stop the worker; idempotent."""
        if self._closed:
            return
        self._closed = True
        adapter, worker = self._adapter, self._worker
        if adapter is None or worker is None:
            return
        done = worker.run(adapter.close, self.timeout)
        if done is None:
            self._abandon(worker, None)
            raise AdapterTimeout(f"{self.name}.close did not return within {self.timeout:g} s (abandoned)", op="close")
        worker.stop()
        self._adapter = self._worker = None
        if done.error is not None:
            raise AdapterCrashed(f"{self.name}.close raised {_describe(done.error)}", op="close") from None


def _fresh_entry(entry: AddSaEntry) -> AddSaEntry:
    """A copy sharing nothing mutable with ``entry``: new dataclass and address objects; bytes, ints and enum members
    are immutable and shared. The same protection as ``copy.deepcopy`` at a fraction of its cost (a 64-bundle add
    is deep-copied by the thousand in a capacity test)."""
    return replace(
        entry,
        src=type(entry.src)(entry.src.packed),
        dst=type(entry.dst)(entry.dst.packed),
        sec_assoc=tuple(
            replace(
                sa,
                authentication=None if sa.authentication is None else replace(sa.authentication),
                encryption=None if sa.encryption is None else replace(sa.encryption),
            )
            for sa in entry.sec_assoc
        ),
    )


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text[:500]}" if text else type(exc).__name__


def _close_quietly(adapter: Adapter) -> None:
    with contextlib.suppress(BaseException):  # an abandoned adapter's last words do not matter
        adapter.close()


# -- checks: the driver's, then a strict round trip through the wire form ----------------------------------------------


def _checked_none(value: object) -> None:
    if value is not None:
        raise AdapterProtocolError(f"reset returned {type(value).__name__}, expected None", op="reset")


def _checked_hello(value: object) -> Hello:
    if not isinstance(value, Hello):
        raise AdapterProtocolError(f"hello returned {type(value).__name__}, expected Hello", op="hello")
    return _round_trip(Hello.from_json, value.to_json)


def _status_checker(request: str) -> Callable[[object], NdisStatus]:
    def check(value: object) -> NdisStatus:
        status = _check_status(value, request)
        return NdisStatus(int(status))

    return check


def _checked_results(value: object, entries: Sequence[AddSaEntry]) -> tuple[AddSaResult, ...]:
    return tuple(_round_trip(AddSaResult.from_json, r.to_json) for r in _check_results(value, entries))


def _checked_indications(value: object) -> tuple[Indication, ...]:
    return tuple(_round_trip(Indication.from_json, ind.to_json) for ind in _check_indications(value))


def _round_trip(read: Callable[[dict[str, object]], T], write: Callable[[], dict[str, object]]) -> T:
    """``read(write())``: exact types, fresh objects, and the wire form's range checks (WireFormatError)."""
    try:
        return read(write())
    except WireFormatError:
        raise
    except Exception as exc:  # a value whose to_json breaks (wrong field types) is a malformed answer too
        raise WireFormatError(f"cannot serialise the answer: {type(exc).__name__}: {exc}") from None


def guard_adapter(adapter: Adapter, *, factory: Callable[[], Adapter] | None, timeout: float, name: str) -> Adapter:
    """``adapter`` behind a ``GuardedAdapter``, unless it needs none.

    Exempt: an ``ExecAdapter`` (a process already is its own guard), and the model NICs this package ships
    (``reference`` and every ``mutant:NAME``, exactly of the classes in ``conformance.adapters``): their code is the
    project's, covered by its own tests, and the guard's thread handoff (about 0.1 ms per call, several calls per
    frame) would more than halve the throughput of the runs that check the suite itself. Any subclass or third-party
    adapter is guarded.
    """
    from conformance.adapters.exec_adapter import ExecAdapter
    from conformance.adapters.mutants import CATALOGUE
    from conformance.adapters.reference import ReferenceNic

    if isinstance(adapter, (ExecAdapter, GuardedAdapter)):
        return adapter
    builtin = {ReferenceNic} | {info.factory for info in CATALOGUE.values()}
    if type(adapter) in builtin:
        return adapter
    return GuardedAdapter(adapter, factory=factory, timeout=timeout, name=name)
