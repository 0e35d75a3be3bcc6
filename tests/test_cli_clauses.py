"""The ``ipsecov2-conformance`` CLI: the ``clauses`` command, error reporting, and the placeholder commands."""

from __future__ import annotations

import json

import pytest

from conformance.cli import main


def test_clauses_table_lists_every_clause(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clauses"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["ID", "LEVEL", "SECTION", "SUMMARY"]
    assert any(line.startswith("RX-INDICATE-ALL ") and " MUST " in line for line in out)
    assert out[-1].endswith("clause(s)")
    assert int(out[-1].split()[0]) == len(out) - 2


def test_clauses_json_filters_by_level_and_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clauses", "--json", "--level", "must", "--prefix", "RX-"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows
    assert all(r["level"] == "MUST" and r["id"].startswith("RX-") for r in rows)
    assert "RX-SA-INBOUND-ONLY" not in {r["id"] for r in rows}  # DERIVED
    assert {"id", "level", "section", "summary", "sources", "parent"} <= set(rows[0])


def test_clauses_explicit_ids_keep_given_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clauses", "--json", "AMB-02", "rx-indicate-all"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == ["AMB-02", "RX-INDICATE-ALL"]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["clauses", "RX-NO-SA"], "did you mean RX-NO-SA-NO-OOB"),
        (["clauses", "--level", "OFTEN"], "unknown level 'OFTEN'"),
        (["no-such-command"], "invalid choice"),
        (["clauses", "--bogus"], "unrecognized arguments"),
    ],
)
def test_cli_user_error_prints_one_line_and_exits_2(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("ipsecov2-conformance: error: ")
    assert needle in err
    assert "Traceback" not in err


def test_cli_debug_reraises_user_error() -> None:
    from conformance.commands import UserError

    with pytest.raises(UserError, match="RX-NO-SA-NO-OOB"):
        main(["clauses", "RX-NO-SA", "--debug"])


def test_cli_without_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().err
