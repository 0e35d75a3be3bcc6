"""Bad user input: every mistake is one line ``ipsecov2-conformance: error: ...`` naming the file (or option) and what
is wrong, exit status 2, and no traceback unless ``--debug``.

``run`` fails before pytest starts for each of these, so the CLI runs in this process. Packs and responses for
``judge`` are also covered in ``test_trace_workflow.py`` (fewer responses than requests, a cut-off line, a truncated
pcapng); the cases here are the ones it does not cover.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from iut_programs.misbehaving.harness import write_dist_info

from conformance.cli import main
from reference_model.ndis import Capabilities


def one_error_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run the CLI; assert exit 2 and a single error line on stderr (no traceback); return that line."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("ipsecov2-conformance: error: ")
    assert "Traceback" not in err[0]
    return err[0]


def test_unknown_iut_lists_the_installed_adapters(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    line = one_error_line(capsys, ["run", "--iut", "no-such-nic", "--out", str(tmp_path)])
    assert "no adapter named 'no-such-nic'" in line
    assert "reference" in line


def test_entry_point_that_fails_to_import_names_it_and_the_exception(tmp_path: Path) -> None:
    env = write_dist_info(tmp_path / "site")
    argv = [sys.executable, "-m", "conformance.cli", "run", "--iut", "broken", "--out", str(tmp_path / "o")]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "entry point 'broken' = hostile_adapters_that_do_not_exist:create" in lines[0]
    assert "ModuleNotFoundError" in lines[0]
    debug = subprocess.run([*argv, "--debug"], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert "Traceback" in debug.stderr  # --debug shows it


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ('{"ah": tru', "not JSON"),
        ("[1, 2]", ""),
        ('{"encapsulation": 2}', "missing field"),
        (json.dumps({**Capabilities().to_json(), "sa_offload_capacity": "many"}), "sa_offload_capacity"),
        (json.dumps({**Capabilities().to_json(), "sa_offload_capacity": -1}), "sa_offload_capacity"),
    ],
    ids=["truncated", "not-an-object", "missing-field", "string-for-number", "negative"],
)
def test_malformed_capabilities_json_names_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, complaint: str
) -> None:
    caps = tmp_path / "caps.json"
    caps.write_text(content)
    line = one_error_line(capsys, ["run", "--iut", f"reference:{caps}", "--out", str(tmp_path / "o")])
    assert str(caps) in line
    assert complaint in line


def test_interpretation_profile_with_an_unknown_key_names_the_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    toml = tmp_path / "profile.toml"
    toml.write_text('spi_byte_order = "network"\nno_such_reading = true\n')
    line = one_error_line(capsys, ["run", "--iut", "reference", "--interpretation", str(toml), "--out", str(tmp_path)])
    assert str(toml) in line
    assert "no_such_reading" in line
    assert not (tmp_path / "results.jsonl").exists()  # refused before the suite started


def test_interpretation_profile_that_is_not_toml_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    toml = tmp_path / "profile.toml"
    toml.write_bytes(b"spi_byte_order = \xff\xfe [[[")
    line = one_error_line(capsys, ["run", "--iut", "reference", "--interpretation", str(toml), "--out", str(tmp_path)])
    assert str(toml) in line


def test_debug_shows_the_traceback_of_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no adapter named"):
        main(["run", "--iut", "no-such-nic", "--out", str(tmp_path), "--debug"])


# -- judge and export (written by another helper; the cases test_trace_workflow.py does not cover) ------------------


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pack")
    caps = root / "caps.json"
    caps.write_text(json.dumps(Capabilities().to_json()))
    argv = ["export", "--iut-caps", str(caps), "--out", str(root / "pack"), "--seed", "1", "--scenarios", "20"]
    assert main(argv) == 0
    return root / "pack"


def broken_pack(pack: Path, tmp_path: Path, name: str, data: bytes | None) -> Path:
    copy = tmp_path / "pack"
    shutil.copytree(pack, copy)
    if data is None:
        (copy / name).unlink()
    else:
        (copy / name).write_bytes(data)
    return copy


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("requests.jsonl", "missing"),
        ("requests.jsonl", "cut"),
        ("frames.pcapng", "missing"),
        ("sas.json", "garbage"),
    ],
)
def test_judge_damaged_pack_is_one_line_naming_the_file(
    capsys: pytest.CaptureFixture[str], pack: Path, tmp_path: Path, name: str, damage: str
) -> None:
    original = (pack / name).read_bytes()
    data = {"missing": None, "cut": original[: len(original) // 2], "garbage": b"{not json"}[damage]
    broken = broken_pack(pack, tmp_path, name, data)
    responses = tmp_path / "responses.jsonl"
    responses.write_text('{"ok": true}\n')
    line = one_error_line(capsys, ["judge", str(broken), str(responses), "--out", str(tmp_path / "r")])
    assert name in line


def test_judge_missing_responses_file_is_one_line(
    capsys: pytest.CaptureFixture[str], pack: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "responses.jsonl"
    line = one_error_line(capsys, ["judge", str(pack), str(missing), "--out", str(tmp_path / "r")])
    assert str(missing) in line
