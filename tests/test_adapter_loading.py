"""Adapter discovery through the entry-point group, ``--iut NAME[:ARGUMENT]`` parsing, and the ``adapters`` command."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from importlib import metadata
from pathlib import Path

import pytest

from conformance.adapters.errors import AdapterLoadError
from conformance.adapters.exec_adapter import TIMEOUT_ENV, ExecAdapter
from conformance.adapters.loading import GROUP, installed_adapters, load_adapter, load_factory, parse_spec
from conformance.commands import adapters as adapters_command

PROGRAM = Path(__file__).parent / "iut_programs" / "echo_reference.py"


def ep(name: str, value: str) -> metadata.EntryPoint:
    return metadata.EntryPoint(name=name, value=value, group=GROUP)


REGISTRY = [
    ep("exec", "conformance.adapters.exec_adapter:create"),
    ep("broken", "conformance.adapters.no_such_module_for_tests:create"),
    ep("notcallable", "conformance.adapters.exec_adapter:DEFAULT_TIMEOUT"),
    metadata.EntryPoint(name="elsewhere", value="x:y", group="some.other.group"),
]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("reference", ("reference", None)),
        ("mutant:", ("mutant", "")),
        ("mutant:rx-crypto-done", ("mutant", "rx-crypto-done")),
        ("exec:./nic --addr 10.0.0.1:9000", ("exec", "./nic --addr 10.0.0.1:9000")),
    ],
)
def test_parse_spec_splits_at_the_first_colon(spec: str, expected: tuple[str, str | None]) -> None:
    assert parse_spec(spec) == expected


@pytest.mark.parametrize("spec", ["", ":arg", "  :x"])
def test_parse_spec_without_a_name_is_a_load_error(spec: str) -> None:
    with pytest.raises(AdapterLoadError, match="NAME"):
        parse_spec(spec)


def test_unknown_adapter_lists_the_installed_names() -> None:
    with pytest.raises(
        AdapterLoadError, match=r"no adapter named 'acme'; installed adapters: broken, exec, notcallable"
    ):
        load_adapter("acme", available=REGISTRY)


def test_entry_point_that_fails_to_import_names_entry_point_and_exception() -> None:
    with pytest.raises(AdapterLoadError) as info:
        load_factory("broken", available=REGISTRY)
    message = str(info.value)
    assert "'broken' = conformance.adapters.no_such_module_for_tests:create" in message
    assert "ModuleNotFoundError" in message


def test_entry_point_that_is_not_callable_is_a_load_error() -> None:
    with pytest.raises(AdapterLoadError, match="not callable"):
        load_factory("notcallable", available=REGISTRY)


def test_duplicate_registration_is_a_load_error() -> None:
    twice = [*REGISTRY, ep("exec", "somewhere.else:create")]
    with pytest.raises(AdapterLoadError, match="more than once"):
        load_factory("exec", available=twice)


def test_load_adapter_passes_the_argument_to_the_factory() -> None:
    adapter = load_adapter(f"exec:{sys.executable} {PROGRAM}", available=REGISTRY)
    try:
        assert isinstance(adapter, ExecAdapter)
        assert adapter.argv == (sys.executable, str(PROGRAM))
        assert adapter.hello().name == "echo-reference"
    finally:
        adapter.close()


def test_installed_adapters_lists_only_this_group_with_versions() -> None:
    assert installed_adapters(available=REGISTRY) == [
        ("broken", "unknown"),
        ("exec", "unknown"),
        ("notcallable", "unknown"),
    ]


def test_installed_package_registers_the_built_in_adapters() -> None:
    names = {name for name, _ in installed_adapters()}
    if not names:
        pytest.skip("ipsecov2-conformance is not installed (pip install -e .): no entry points to find")
    assert {"reference", "scapy", "exec", "mutant"} <= names


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command sees ``REGISTRY`` instead of the installed entry points (the tests need no ``pip install``).

    Also restores ``IPSECOV2_TIMEOUT`` afterwards: ``--timeout`` sets it for the process.
    """
    monkeypatch.delenv(TIMEOUT_ENV, raising=False)
    monkeypatch.setattr(adapters_command, "load_adapter", functools.partial(load_adapter, available=REGISTRY))
    monkeypatch.setattr(
        adapters_command, "installed_adapters", functools.partial(installed_adapters, available=REGISTRY)
    )


def run_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    adapters_command.add_parser(parser.add_subparsers())
    return adapters_command.run(parser.parse_args(["adapters", *argv]))


@pytest.mark.usefixtures("registry")
def test_adapters_command_shows_capabilities_and_per_adapter_errors(capsys: pytest.CaptureFixture[str]) -> None:
    status = run_command(["--json", "--iut", f"exec:{sys.executable} {PROGRAM}", "--iut", "no-such-adapter"])
    assert status == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["iut"] == {"name": "echo-reference", "version": "0.1"}
    assert rows[0]["capabilities"]["sa_offload_capacity"] == 64
    assert "auth=MD5|SHA_1|SHA_256" in rows[0]["summary"]
    assert rows[1]["name"] == "no-such-adapter"
    assert "no adapter named 'no-such-adapter'" in rows[1]["error"]


@pytest.mark.usefixtures("registry")
def test_adapters_command_reports_a_crashing_iut_on_its_row(capsys: pytest.CaptureFixture[str]) -> None:
    status = run_command(["--iut", f"exec:{sys.executable} {PROGRAM} --misbehave exit-at-start", "--timeout", "2"])
    assert status == 0
    out = capsys.readouterr().out
    assert "ERROR: hello: the IUT program" in out


@pytest.mark.usefixtures("registry")
def test_adapters_command_lists_every_installed_adapter_without_failing(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_command([]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["broken", "exec", "notcallable"]
    assert "ModuleNotFoundError" in lines[0]
    assert "exec needs a command" in lines[1]
