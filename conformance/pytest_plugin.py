"""The pytest plugin (``pytest11`` entry point): options, markers, Hypothesis profiles and the IUT session fixture.

Thin by design (house style): the logic lives in ``conformance.session`` and ``conformance.driver``. The plugin is
inert unless ``--iut`` is given, so it never changes the settings of unrelated test suites that happen to be run in
an environment where this package is installed.

    pytest --pyargs conformance.suite --iut reference
    pytest --pyargs conformance.suite --iut exec:"./my-nic --flag" --conformance-profile thorough --results r.jsonl
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.utils.conventions import not_set

from conformance.session import IutSession, SessionConfig

PROFILES = {
    "quick": 25,
    "default": 100,
    "thorough": 1000,
    "detect": 25,
}
"""Hypothesis profiles of the suite: examples per test. Each example is a whole scenario with a burst of frames.

``detect`` is ``quick`` without shrinking and stopping at the first bug of each test: for the mutation tests and the
time-to-detect benchmark, which ask only *whether* (and how fast) a fault is found, not for a minimal example.
"""

_SHRINK = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]
_DETECT = [Phase.explicit, Phase.generate]

for _name, _examples in PROFILES.items():
    settings.register_profile(
        f"ipsecov2-{_name}",
        max_examples=_examples,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture,
        ],
        phases=_DETECT if _name == "detect" else _SHRINK,
        print_blob=True,
        report_multiple_bugs=_name != "detect",
        database=None if _name == "detect" else not_set,
    )

SESSION_KEY = pytest.StashKey[IutSession]()
STREAM_KEY = pytest.StashKey[IO[str]]()
SESSION_ERROR_KEY = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ipsecov2-conformance", "IPsecOV2 conformance suite")
    group.addoption(
        "--iut", default=None, help="implementation under test: NAME[:ARGUMENT] (see `ipsecov2-conformance adapters`)"
    )
    group.addoption(
        "--conformance-profile",
        default=None,
        choices=sorted(PROFILES),
        help="Hypothesis profile of the suite: quick, default or thorough (default: default)",
    )
    group.addoption("--iut-timeout", type=float, default=5.0, help="per-request timeout in seconds for exec adapters")
    group.addoption("--interpretation", default=None, help="interpretation profile TOML (AMB-* readings)")
    group.addoption("--results", default=None, help="stream results records (JSON lines) to this file")
    group.addoption(
        "--resume",
        action="store_true",
        default=False,
        help="append to --results (no new run_start) and skip the tests it shows complete (see completed_tests)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clause(id): the spec clause a conformance test checks")
    if config.getoption("--iut") is None and config.getoption("--conformance-profile") is None:
        return
    profile = config.getoption("--conformance-profile") or "default"
    settings.load_profile(f"ipsecov2-{profile}")


def _worker_suffix(config: pytest.Config) -> str:
    worker = getattr(config, "workerinput", None)
    return f".{worker['workerid']}" if isinstance(worker, dict) and "workerid" in worker else ""


@pytest.fixture(scope="session")
def iut_session(request: pytest.FixtureRequest) -> Iterator[IutSession]:
    """The IUT for the whole run: loaded once, asked hello once, closed at the end; results streamed as we go."""
    from conformance.adapters.errors import AdapterError, AdapterLoadError
    from conformance.adapters.exec_adapter import TIMEOUT_ENV
    from conformance.adapters.guard import guard_adapter
    from conformance.adapters.loading import installed_adapters, load_adapter
    from reference_model.profile import ProfileError, load_profile
    from reports.records import ResultsWriter

    config = request.config
    spec = config.getoption("--iut")
    if spec is None:
        names = ", ".join(name for name, _ in installed_adapters())
        pytest.skip(f"no --iut given; installed adapters: {names}")
    interpretation = config.getoption("--interpretation")
    try:
        profile = load_profile(Path(interpretation).read_text(encoding="utf-8") if interpretation else None)
    except (OSError, ProfileError) as exc:
        pytest.exit(f"interpretation profile {interpretation}: {exc}", returncode=2)
    os.environ[TIMEOUT_ENV] = str(config.getoption("--iut-timeout"))  # exec adapters read it (xdist workers too)
    try:
        adapter = guard_adapter(
            load_adapter(spec),
            factory=lambda: load_adapter(spec),
            timeout=config.getoption("--iut-timeout"),
            name=spec.partition(":")[0],
        )
        hello = adapter.hello()
    except (AdapterLoadError, AdapterError) as exc:
        pytest.exit(f"--iut {spec}: {exc}", returncode=2)
    results = config.getoption("--results")
    stream: IO[str] | None = None
    if results:
        path = Path(results + _worker_suffix(config)) if _worker_suffix(config) else Path(results)
        stream = path.open("a" if config.getoption("--resume") else "w", encoding="utf-8")
    seed = config.getoption("hypothesis_seed", default=None)
    session = IutSession(
        SessionConfig(
            iut_spec=spec,
            hypothesis_profile=config.getoption("--conformance-profile") or "default",
            seed=int(seed) if seed is not None else None,
            timeout=config.getoption("--iut-timeout"),
            interpretation_path=interpretation,
            command=tuple(sys.argv),
        ),
        adapter,
        hello,
        profile,
        ResultsWriter(stream) if stream is not None else None,
    )
    if not config.getoption("--resume"):  # a resumed run continues the file, under its first run_start
        session.start()
    config.stash[SESSION_KEY] = session
    try:
        yield session
    finally:
        status = "interrupted" if _RUN_STATE["interrupted"] else "complete"
        session.finish(status)
        try:
            adapter.close()
        except Exception as exc:  # closing a broken IUT must not lose the results
            print(f"ipsecov2-conformance: closing the IUT failed: {exc}", file=sys.stderr)
        if stream is not None:
            stream.close()


@pytest.fixture
def test_id(request: pytest.FixtureRequest) -> str:
    return str(request.node.nodeid)


def pytest_runtest_teardown(item: pytest.Item) -> None:
    session = item.config.stash.get(SESSION_KEY, None)
    if session is not None:
        session.flush()


_RUN_STATE = {"interrupted": False}


def pytest_keyboard_interrupt(excinfo: object) -> None:
    """Mark the run interrupted, so the ``run_end`` record (written by the session fixture's teardown) says so.

    ``conformance.commands.run`` turns SIGTERM into the same ``KeyboardInterrupt`` as Ctrl-C, so both end here: the
    fixture's teardown still flushes the counts, writes ``run_end`` (status ``interrupted``), closes the IUT (``bye``,
    then a kill of its process group) and closes the results file. Records are whole lines, flushed one by one, so an
    interrupted file never holds half a record.
    """
    _RUN_STATE["interrupted"] = True


def completed_tests(results: Path) -> set[str]:
    """Test ids a resumed run may skip: those with ``check`` records, except the one that may have been cut short.

    The session writes a test's counts when the test ends, and once more when the run stops. So when the file does
    not end with a ``complete`` run, the test of its last check/finding/error record may have been interrupted and is
    run again (its partial counts stay in the file: they were real judgements). After a ``-j N`` run up to N tests were
    in progress and only the last one recorded can be told apart; the others keep the examples they had run.
    """
    from reports.records import Check, ErrorRecord, Finding, RunEnd, read_results

    done: set[str] = set()
    last: str | None = None
    complete = False
    for record in read_results(results).records:
        if isinstance(record, Check | Finding | ErrorRecord) and record.test_id:
            last = record.test_id
            complete = False
            if isinstance(record, Check):
                done.add(record.test_id)
        elif isinstance(record, RunEnd):
            complete = record.status == "complete"
    if not complete and last is not None:
        done.discard(last)
    return done


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--resume``: deselect the tests the results file already shows complete (each xdist worker does this too)."""
    results = config.getoption("--results", default=None)
    if not config.getoption("--resume", default=False) or not results or not Path(results).is_file():
        return
    done = completed_tests(Path(results))
    keep = [item for item in items if item.nodeid not in done]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item.nodeid in done])
        items[:] = keep
