"""``ipsecov2-conformance run``: run the conformance suite against one IUT and write its reports.

The suite is ordinary pytest (``conformance.suite``) driven through the plugin, run in-process. The run shows a
progress bar on stderr, keeps pytest's own detailed output in ``OUT/pytest.log``, streams results records to
``OUT/results.jsonl`` (one file per xdist worker, merged at the end), builds every report from that file, prints a
verdict table per clause, and exits 0 (conformant), 1 (a MUST clause failed) or 2 (an adapter error, or bad input).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from conformance.commands import UserError
from conformance.pytest_plugin import PROFILES

NAME = "run"
EXIT_INTERRUPTED = 130
"""Exit status of a run stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report Ctrl-C), whatever was found."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(NAME, help="run the suite against one IUT and write its reports")
    parser.add_argument("--iut", default=None, metavar="NAME[:ARGUMENT]", help="adapter to test, e.g. scapy")
    parser.add_argument("--out", default="conformance-report", metavar="DIR", help="report directory")
    parser.add_argument(
        "--profile", default=None, choices=sorted(PROFILES), help="Hypothesis profile (default: default)"
    )
    parser.add_argument("--seed", type=int, default=None, help="Hypothesis seed (a run with the same seed repeats)")
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="run on N cores (pytest-xdist)")
    parser.add_argument("--timeout", type=float, default=5.0, help="per-request timeout of exec adapters (s)")
    parser.add_argument("--interpretation", default=None, metavar="TOML", help="interpretation profile (AMB-*)")
    parser.add_argument("-k", dest="keyword", default=None, metavar="EXPR", help="only tests matching EXPR")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--resume",
        default=None,
        metavar="RESULTS.jsonl",
        help="continue an interrupted run: append to this results file, skipping the tests it shows complete "
        "(--iut defaults to the one it was recorded with)",
    )
    return parser


class _Progress:
    """A one-line progress bar on stderr, fed by pytest's report hooks (works with xdist too)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.total = 0
        self.done = 0
        self.failed = 0
        self.started = time.monotonic()

    def pytest_collection_finish(self, session: object) -> None:
        items = getattr(session, "items", [])
        self.total = len(items)
        self._draw("")

    def pytest_runtest_logreport(self, report: object) -> None:
        when = getattr(report, "when", "")
        outcome = getattr(report, "outcome", "")
        if when == "call" or (when == "setup" and outcome != "passed"):
            self.done += 1
            self.failed += outcome == "failed"
            self._draw(str(getattr(report, "nodeid", "")).split("::")[-1])

    def _draw(self, name: str) -> None:
        width = 30
        filled = int(width * self.done / self.total) if self.total else 0
        bar = "#" * filled + "." * (width - filled)
        elapsed = time.monotonic() - self.started
        line = f"[{bar}] {self.done}/{self.total} tests, {self.failed} with findings, {elapsed:5.1f}s {name[:40]}"
        if self.enabled:
            print("\r" + line.ljust(110), end="", file=sys.stderr, flush=True)
        elif name:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


def _check_iut(spec: str, timeout: float) -> str:
    """Load the adapter and ask hello before starting pytest, so a bad --iut is one clear line, not a traceback."""
    from conformance.adapters.errors import AdapterError, AdapterLoadError
    from conformance.adapters.exec_adapter import TIMEOUT_ENV
    from conformance.adapters.guard import guard_adapter
    from conformance.adapters.loading import load_adapter

    os.environ[TIMEOUT_ENV] = str(timeout)
    try:
        adapter = guard_adapter(load_adapter(spec), factory=None, timeout=timeout, name=spec.partition(":")[0])
    except AdapterLoadError as exc:
        raise UserError(str(exc)) from None
    try:
        hello = adapter.hello()
    except AdapterError as exc:
        raise UserError(f"--iut {spec}: hello failed: {' | '.join(str(exc).splitlines())}") from None
    finally:
        with contextlib.suppress(Exception):
            adapter.close()
    return f"{hello.name} {hello.version}"


def _merge(out: Path) -> Path:
    """Join per-worker results files (xdist) into results.jsonl: one run_start/catalogue/run_end, all else kept.

    A resumed run's workers write no run_start: their records are appended after what results.jsonl already holds.
    """
    target = out / "results.jsonl"
    parts = sorted(out.glob("results.jsonl.gw*"))
    if not parts:
        return target
    if target.exists():
        with target.open("a", encoding="utf-8") as existing:
            for part in parts:
                existing.write(_whole_lines(part.read_text(encoding="utf-8")))
                part.unlink()
        return target
    head: list[str] = []
    body: list[str] = []
    ends: list[str] = []
    for part in parts:
        for line in part.read_text(encoding="utf-8").splitlines():
            if '"type":"run_start"' in line or '"type":"clause_catalogue"' in line:
                if len(head) < 2 and not any(line.split('"type":', 1)[1][:20] in h for h in head):
                    head.append(line)
            elif '"type":"run_end"' in line:
                ends.append(line)
            else:
                body.append(line)
        part.unlink()
    tail = [max(ends, key=lambda e: ('"status":"interrupted"' in e, '"exit_code":2' in e, '"exit_code":1' in e))]
    target.write_text("\n".join(head + body + (tail if ends else [])) + "\n", encoding="utf-8")
    return target


def _whole_lines(text: str) -> str:
    """``text`` without a last line cut off mid-record (a worker killed while writing): every line stays JSON."""
    return text if not text or text.endswith("\n") else text[: text.rfind("\n") + 1]


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[list[int]]:
    """SIGINT and SIGTERM both become one ``KeyboardInterrupt``; later ones are noted and ignored until cleanup ends.

    Why: SIGTERM's default action kills the process at once, losing the ``run_end`` record and leaving the IUT
    program running in its own session. As a ``KeyboardInterrupt``, pytest stops the suite and tears down the session
    fixture, which writes ``run_end`` (status ``interrupted``), closes the IUT and the results file; the cleanup is
    bounded (a ``bye``, at most one second, then a kill). A second signal must not cut that short, so it is ignored
    while the suite winds down (SIGKILL still works). The yielded list receives the signal numbers.
    """
    received: list[int] = []
    watched = (signal.SIGINT, signal.SIGTERM)

    def later(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        print("\nipsecov2-conformance: already stopping; finishing the results file", file=sys.stderr, flush=True)

    def first(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        for watched_signal in watched:
            signal.signal(watched_signal, later)
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous: dict[int, object] = {}
    try:
        for watched_signal in watched:
            previous[watched_signal] = signal.signal(watched_signal, first)
    except ValueError:  # not the main thread: leave signals alone (Ctrl-C still reaches the main thread)
        pass
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]


def _prepare_resume(args: argparse.Namespace) -> bytes:
    """Read ``--resume FILE``, take the recorded --iut/profile/seed where none were given; the bytes to continue."""
    from reports.records import RunStart, read_results

    source = Path(args.resume)
    if not source.is_file():
        raise UserError(f"--resume {source}: no such file")
    data = source.read_bytes()
    starts = [r for r in read_results(source).records if isinstance(r, RunStart)]
    if not starts:
        raise UserError(f"--resume {source}: no run_start record; not the results file of a run")
    recorded = starts[0]
    if args.iut is None:
        args.iut = recorded.iut_spec
    elif args.iut != recorded.iut_spec:
        raise UserError(f"--resume {source}: it was recorded with --iut {recorded.iut_spec}, not {args.iut}")
    args.profile = args.profile or recorded.hypothesis_profile
    if args.seed is None:
        args.seed = recorded.seed
    if data and not data.endswith(b"\n"):
        print(f"ipsecov2-conformance: --resume {source}: dropping its cut-off last line", file=sys.stderr)
        data = data[: data.rfind(b"\n") + 1]
    return data


def clause_table(results: Path) -> tuple[list[tuple[str, str, int]], int]:
    """(clause, worst verdict, checks) rows and the exit status, computed from the results file alone."""
    from reports.records import Check, ErrorRecord, Finding, read_results

    order = {"PASS": 0, "UNSUPPORTED": -1, "NON-STRICT": 2, "FAIL": 4, "ERROR": 3}
    verdicts: dict[str, str] = {}
    counts: Counter[str] = Counter()
    errors = 0
    fails = 0
    for record in read_results(results).records:
        if isinstance(record, Check | Finding):
            v = record.verdict.value
            if isinstance(record, Check):
                counts[record.clause] += record.count
            if order[v] > order.get(verdicts.get(record.clause, "UNSUPPORTED"), -1):
                verdicts[record.clause] = v
            fails += isinstance(record, Finding) and v == "FAIL"
        elif isinstance(record, ErrorRecord):
            errors += 1
    code = 2 if errors else 1 if fails else 0
    rows = sorted((c, v, counts[c]) for c, v in verdicts.items())
    return rows, code


def print_table(rows: list[tuple[str, str, int]]) -> None:
    width = max((len(c) for c, _, _ in rows), default=10)
    print(f"{'clause':<{width}}  {'verdict':<11} checks")
    for clause, verdict, count in rows:
        print(f"{clause:<{width}}  {verdict:<11} {count}")


def run(args: argparse.Namespace) -> int:
    import pytest

    from conformance import pytest_plugin
    from conformance.adapters.loading import installed_adapters

    resumed = _prepare_resume(args) if args.resume else None
    args.profile = args.profile or "default"
    if args.iut is None:
        names = ", ".join(f"{n} ({v})" for n, v in installed_adapters())
        raise UserError(f"--iut is required; installed adapters: {names} (e.g. --iut scapy)")
    if args.jobs < 1:
        raise UserError("-j must be at least 1")
    if args.interpretation and not Path(args.interpretation).is_file():
        raise UserError(f"--interpretation {args.interpretation}: no such file")
    if args.interpretation:  # checked here, so a bad key is one line naming it, not a pytest exit inside the log
        from reference_model.profile import ProfileError, load_profile

        try:
            load_profile(Path(args.interpretation).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ProfileError) as exc:
            raise UserError(f"--interpretation {args.interpretation}: {exc}") from None
    who = _check_iut(args.iut, args.timeout)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("results.jsonl*"):
        stale.unlink()
    results = out / "results.jsonl"
    if resumed is not None:
        results.write_bytes(resumed)
    pytest_args = [
        "--pyargs",
        "conformance.suite",
        "--iut",
        args.iut,
        "--conformance-profile",
        args.profile,
        "--results",
        str(results),
        "--iut-timeout",
        str(args.timeout),
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
        "-o",
        "testpaths=",
        "--rootdir",
        str(out.resolve()),
    ]
    if args.seed is not None:
        pytest_args.append(f"--hypothesis-seed={args.seed}")
    if args.interpretation:
        pytest_args += ["--interpretation", str(Path(args.interpretation).resolve())]
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    if args.jobs > 1:
        pytest_args += ["-n", str(args.jobs)]
    if resumed is not None:
        pytest_args.append("--resume")
    print(f"ipsecov2-conformance: testing {who} (--iut {args.iut}, profile {args.profile})", file=sys.stderr)
    progress = _Progress(not args.no_progress)
    pytest_plugin._RUN_STATE["interrupted"] = False
    with (
        _signals_interrupt() as received,
        (out / "pytest.log").open("a" if resumed is not None else "w", encoding="utf-8") as log,
        contextlib.redirect_stdout(log),
    ):
        pytest_status = pytest.main(pytest_args, plugins=[progress])
    progress.close()
    interrupted = bool(received) or pytest_plugin._RUN_STATE["interrupted"]
    interrupted = interrupted or int(pytest_status) == int(pytest.ExitCode.INTERRUPTED)
    results = _merge(out)
    if not results.exists():
        raise UserError(f"the suite wrote no results (pytest exit {int(pytest_status)}; see {out / 'pytest.log'})")
    rows, code = clause_table(results)
    print_table(rows)
    try:
        from reports.build import build_reports

        build_reports(results, out)
    except Exception as exc:  # the results file is the record; a report bug must not hide the verdict
        print(f"ipsecov2-conformance: building reports failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = max(code, 2)
    if interrupted:
        how = ", ".join(dict.fromkeys(signal.Signals(s).name for s in received)) or "KeyboardInterrupt"
        print(
            f"\nINTERRUPTED ({how}): partial reports in {out}/; continue with: "
            f"ipsecov2-conformance run --resume {results} --out {out} (and the same -k/--interpretation)"
        )
        return EXIT_INTERRUPTED
    if int(pytest_status) not in (0, 1):
        print(f"ipsecov2-conformance: pytest exited {int(pytest_status)}; see {out / 'pytest.log'}", file=sys.stderr)
        code = 2
    verdict = {0: "CONFORMANT", 1: "NOT CONFORMANT (FAIL)", 2: "INCOMPLETE (ERROR)"}[code]
    non_strict = sum(1 for _, v, _ in rows if v == "NON-STRICT")
    if code == 0 and non_strict:
        verdict += f" with {non_strict} NON-STRICT clause(s): SHOULD/derived rules or readings of ambiguities"
    print(f"\n{verdict}: reports in {out}/ (index.html, report.json, junit.xml, summary.md, failures.pcapng)")
    return code
