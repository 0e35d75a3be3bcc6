"""The engine end to end through the real CLI: the reference NIC is conformant, every mutant is caught under its own
clause, the exec adapter gives the same verdicts as the in-process adapter, and usage errors are one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest
from _cli_runs import exec_reference_argument, run_cli

from conformance.adapters.mutants import catalogue


def test_reference_nic_is_conformant_in_the_quick_profile(tmp_path: Path) -> None:
    result = run_cli("run", "--iut", "reference", "--profile", "quick", "--seed", "1", out=tmp_path / "out")
    assert result.code == 0, result.stdout + result.stderr
    assert result.verdicts, "the run judged nothing"
    assert not result.failing(), result.verdicts
    # The receive clauses every frame exercises were checked many times, not once.
    for clause in ("RX-INDICATE-ALL", "RX-CRYPTOSTATUS-RESULT", "RX-NEXTCRYPTODONE-BOTH-ONLY", "RX-NO-SA-NO-OOB"):
        assert result.checks.get(clause, 0) >= 10, (clause, result.checks.get(clause))
    for report in ("index.html", "report.json", "junit.xml", "summary.md", "failures.pcapng"):
        assert (tmp_path / "out" / report).is_file(), report
    assert "CONFORMANT" in result.stdout


@pytest.mark.parametrize("mutant", catalogue(), ids=lambda m: m.name)
def test_every_mutant_is_caught_under_the_clause_it_breaks(mutant: object, tmp_path: Path) -> None:
    from conformance.adapters.mutants import MutantInfo

    assert isinstance(mutant, MutantInfo)
    result = run_cli("run", "--iut", f"mutant:{mutant.name}", "--profile", "detect", "--seed", "0", out=tmp_path / "o")
    assert mutant.breaks in result.failing(), (
        f"mutant {mutant.name} ({mutant.fault}) was not caught under {mutant.breaks}; "
        f"failing clauses: {sorted(result.failing())}"
    )
    assert result.code == (1 if "FAIL" in result.verdicts.values() else 0), result.stderr


def test_catalogue_covers_at_least_fifteen_faults_and_every_observable_must_clause() -> None:
    from reference_model.clauses import all_clauses

    parents = {c.id: c.parent for c in all_clauses()}
    broken = {m.breaks for m in catalogue()} | {parents[m.breaks] for m in catalogue() if parents.get(m.breaks)}
    assert len(catalogue()) >= 15
    # Section 3.2 MUST clauses an observation can show (RX-OOB-BEFORE-INDICATE is about the NBL slot itself, which
    # the adapter protocol carries by construction; RX-SADELETEREQ is a MAY). A mutant breaking an RX-CAPS-* row
    # breaks its parent RX-CAPS-CHECK too.
    must = {
        c.id
        for c in all_clauses()
        if c.section == "3.2" and c.level == "MUST" and c.id not in {"RX-OOB-BEFORE-INDICATE"}
    }
    assert must - broken == set(), f"MUST clauses of section 3.2 without a mutant: {sorted(must - broken)}"


def test_exec_adapter_gives_the_same_verdicts_as_in_process(tmp_path: Path) -> None:
    common = ("--profile", "detect", "--seed", "7", "-k", "matching or corrupted or bursts")
    direct = run_cli("run", "--iut", "reference", *common, out=tmp_path / "direct")
    via_exec = run_cli("run", "--iut", exec_reference_argument(), *common, out=tmp_path / "exec")
    assert direct.code == via_exec.code == 0, via_exec.stderr
    assert direct.verdicts == via_exec.verdicts
    assert direct.checks == via_exec.checks


def test_run_without_iut_lists_the_installed_adapters(tmp_path: Path) -> None:
    result = run_cli("run", out=tmp_path / "none")
    assert result.code == 2
    assert "--iut is required" in result.stderr
    assert "reference" in result.stderr
    assert "scapy" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_mutant_is_one_line_naming_the_catalogue(tmp_path: Path) -> None:
    result = run_cli("run", "--iut", "mutant:no-such-fault", out=tmp_path / "x")
    assert result.code == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "drop-failed" in result.stderr
