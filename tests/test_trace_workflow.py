"""The ``trace`` workflow end to end: ``export`` a pack, answer it (``conformance.replay``), ``judge`` the answers.

The CLI runs in-process through ``conformance.cli.main``. One small pack (full capabilities, 20 scenarios) is exported
once per module and copied where a test needs to change it.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conformance.adapters import wire
from conformance.adapters.reference import ReferenceNic
from conformance.adapters.trace import FRAMES_FILE, REQUESTS_FILE, SAS_FILE, read_pack
from conformance.cli import main
from conformance.commands.export import SCENARIOS_FILE
from conformance.replay import replay_pack
from conformance.trace_scenarios import FAMILIES, generate_scenarios, rebuild_scenarios, step_from_request
from reference_model.ndis import Capabilities

SCENARIOS = 20


def _results(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]


def _verdicts(out: Path) -> dict[str, str]:
    """Worst verdict per clause, as report.json states it."""
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return {c["id"]: c["verdict"] for c in report["clauses"] if c.get("verdict")}


@pytest.fixture(scope="module")
def caps_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("caps") / "caps.json"
    path.write_text(json.dumps(Capabilities().to_json()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory, caps_file: Path) -> Path:
    out = tmp_path_factory.mktemp("pack") / "pack"
    assert main(["export", "--iut-caps", str(caps_file), "--out", str(out), "--seed", "7",
                 "--scenarios", str(SCENARIOS)]) == 0
    return out


def _answer(pack_dir: Path, iut: str, target: Path) -> Path:
    from conformance.adapters.loading import load_adapter

    with target.open("wb") as sink:
        replay_pack(pack_dir, load_adapter(iut), sink)
    return target


# --------------------------------------------------------------------------------------------------------------------
# export


def test_export_pack_has_every_file_and_one_reset_per_scenario(pack: Path) -> None:
    for name in (REQUESTS_FILE, FRAMES_FILE, SAS_FILE, "README.txt", SCENARIOS_FILE):
        assert (pack / name).is_file(), name
    requests = read_pack(pack).requests
    ops = [r["op"] for r in requests]
    assert ops[0] == "hello"
    assert ops[-1] == "bye"
    assert ops.count("reset") == SCENARIOS
    meta = json.loads((pack / SCENARIOS_FILE).read_text(encoding="utf-8"))
    assert {s["family"] for s in meta["scenarios"]} == set(FAMILIES)
    for scenario in meta["scenarios"]:
        assert requests[scenario["first_line"] - 1]["op"] == "reset"


def test_export_requests_refer_to_sas_by_id_only(pack: Path) -> None:
    """No request carries an answer of an earlier one: requests name the suite's sa_id, never a handle.

    (update_sa may name an sa_id never added: the esn-update family checks SA-UPDATE-INVALID that way.)"""
    requests = read_pack(pack).requests
    added: set[int] = set()
    for r in requests:
        if r["op"] == "reset":
            added = set()
        elif r["op"] == "add_sa":
            added |= {e["sa_id"] for e in r["entries"]}
        elif r["op"] == "delete_sa":
            assert r["sa_id"] in added
        assert "handle" not in json.dumps(r)


def test_export_same_seed_same_bytes_other_seed_other_pack(tmp_path: Path, caps_file: Path, pack: Path) -> None:
    again, other = tmp_path / "again", tmp_path / "other"
    assert main(["export", "--iut-caps", str(caps_file), "--out", str(again), "--seed", "7",
                 "--scenarios", str(SCENARIOS)]) == 0
    assert main(["export", "--iut-caps", str(caps_file), "--out", str(other), "--seed", "8",
                 "--scenarios", str(SCENARIOS)]) == 0
    for name in (REQUESTS_FILE, FRAMES_FILE, SAS_FILE, SCENARIOS_FILE):
        assert (again / name).read_bytes() == (pack / name).read_bytes(), name
    assert (other / REQUESTS_FILE).read_bytes() != (pack / REQUESTS_FILE).read_bytes()


@pytest.mark.oracle
@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_export_pcapng_read_by_tshark_has_one_frame_per_receive_request(pack: Path) -> None:
    receives = sum(1 for r in read_pack(pack).requests if r["op"] == "receive")
    out = subprocess.run(
        ["tshark", "-r", str(pack / FRAMES_FILE), "-T", "fields", "-e", "frame.number", "-e", "frame.comment"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.splitlines()
    assert receives > SCENARIOS
    assert len(out) == receives
    assert "requests.jsonl line" in out[0]


def test_export_malformed_caps_file_is_one_line_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "caps.json"
    bad.write_text('{"encapsulation": 2, "ah": "yes"', encoding="utf-8")
    assert main(["export", "--iut-caps", str(bad), "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert str(bad) in err[0]
    assert not (tmp_path / "p").exists()


def test_export_caps_without_usable_sa_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    caps = tmp_path / "caps.json"
    caps.write_text(json.dumps({**Capabilities().to_json(), "ah": False, "esp": False}), encoding="utf-8")
    assert main(["export", "--iut-caps", str(caps), "--out", str(tmp_path / "p"), "--scenarios", "2"]) == 2
    assert "no AH or ESP SA" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------------------------
# scenario generation and rebuilding


def test_generate_scenarios_is_deterministic_and_covers_families() -> None:
    """The first scenario of each family is Hypothesis' simplest draw, the same for every seed (a pack always holds
    the minimal case); from the second one on, the seed decides."""
    count = 3 * len(FAMILIES)
    a = generate_scenarios(Capabilities(), seed=3, count=count)
    b = generate_scenarios(Capabilities(), seed=3, count=count)
    assert a == b
    assert [s.family for s in a] == [FAMILIES[k % len(FAMILIES)] for k in range(count)]
    assert a != generate_scenarios(Capabilities(), seed=4, count=count)


def test_rebuilt_steps_send_exactly_the_recorded_requests(pack: Path) -> None:
    """requests -> steps -> requests is the identity (else judge would diverge from the pack)."""
    from conformance.adapters.trace import RecordingAdapter
    from conformance.driver import ScenarioDriver
    from reference_model.profile import default_profile

    requests = read_pack(pack).requests
    scenarios = rebuild_scenarios(requests)
    assert len(scenarios) == SCENARIOS
    recorder = RecordingAdapter(ReferenceNic())
    driver = ScenarioDriver(recorder, Capabilities(), default_profile())
    for scenario in scenarios:
        driver.run(scenario.steps)
    assert recorder.requests == [json.loads(wire.encode_line(r)) for r in requests[1:-1]]


def test_rebuild_rejects_a_step_before_the_first_reset() -> None:
    from conformance.trace_scenarios import PackFormatError

    with pytest.raises(PackFormatError, match="line 2"):
        rebuild_scenarios([wire.hello_request(), wire.delete_sa_request(1), wire.reset_request()])
    with pytest.raises(PackFormatError, match="not a scenario step"):
        step_from_request({"op": "bye"})


# --------------------------------------------------------------------------------------------------------------------
# judge


def test_judge_reference_answers_conformant(pack: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    responses = _answer(pack, "reference", tmp_path / "responses.jsonl")
    out = tmp_path / "report"
    assert main(["judge", str(pack), str(responses), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "CONFORMANT" in printed
    rows = [line.split() for line in printed.splitlines()[1:] if line.strip() and not line.startswith("CONFORMANT")]
    assert len(rows) > 10
    assert {row[1] for row in rows} == {"PASS"}  # every clause the pack checked
    verdicts = _verdicts(out)
    assert not set(verdicts.values()) & {"FAIL", "ERROR", "NON-STRICT"}
    assert verdicts["RX-INDICATE-ALL"] == "PASS"
    for name in ("report.json", "junit.xml", "index.html", "summary.md", "failures.pcapng"):
        assert (out / name).is_file()
    start = _results(out)[0]
    assert start["iut_spec"] == f"trace:{pack}"
    assert start["iut"]["name"] == "reference"  # type: ignore[index]


@pytest.mark.clause("RX-INDICATE-ALL")
def test_judge_drop_failed_mutant_fails_rx_indicate_all(pack: Path, tmp_path: Path) -> None:
    responses = _answer(pack, "mutant:drop-failed", tmp_path / "responses.jsonl")
    out = tmp_path / "report"
    assert main(["judge", str(pack), "--responses", str(responses), "--out", str(out)]) == 1
    assert _verdicts(out)["RX-INDICATE-ALL"] == "FAIL"
    findings = [r for r in _results(out) if r["type"] == "finding"]
    assert findings
    assert all(str(f["test_id"]).startswith("trace::") for f in findings)


@pytest.mark.clause("RX-TRANSPORT-DOES-REPLAY")
def test_judge_replay_drop_mutant_caught_by_replay_family(pack: Path, tmp_path: Path) -> None:
    responses = _answer(pack, "mutant:replay-drop", tmp_path / "responses.jsonl")
    out = tmp_path / "report"
    assert main(["judge", str(pack), str(responses), "--out", str(out)]) == 1
    failing = {str(r["test_id"]) for r in _results(out) if r["type"] == "finding" and r["verdict"] == "FAIL"}
    assert "trace::replays" in failing


def test_judge_truncated_responses_is_one_line_naming_the_file(
    pack: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full = _answer(pack, "reference", tmp_path / "full.jsonl").read_bytes().splitlines(keepends=True)
    short = tmp_path / "responses.jsonl"
    short.write_bytes(b"".join(full[:-5]))
    out = tmp_path / "report"
    assert main(["judge", str(pack), str(short), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert str(short) in err[0]
    assert "truncated" in err[0]
    assert f"{len(full) - 5} response lines for {len(full)} requests" in err[0]
    assert not (out / "results.jsonl").exists()


def test_judge_cut_off_last_line_is_reported_as_truncated(
    pack: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _answer(pack, "reference", tmp_path / "full.jsonl").read_bytes()
    cut = tmp_path / "responses.jsonl"
    cut.write_bytes(data[:-10])
    assert main(["judge", str(pack), str(cut), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert f"{cut}:" in err
    assert "truncated" in err


def test_judge_one_bad_answer_is_an_error_for_its_scenario_only(pack: Path, tmp_path: Path) -> None:
    lines = _answer(pack, "reference", tmp_path / "full.jsonl").read_bytes().splitlines(keepends=True)
    requests = read_pack(pack).requests
    victim = next(i for i, r in enumerate(requests) if r["op"] == "receive")
    lines[victim] = b"this is not json\n"
    bad = tmp_path / "responses.jsonl"
    bad.write_bytes(b"".join(lines))
    out = tmp_path / "report"
    assert main(["judge", str(pack), str(bad), "--out", str(out)]) == 2
    records = _results(out)
    errors = [r for r in records if r["type"] == "error"]
    assert len(errors) == 1
    assert f":{victim + 1}:" in str(errors[0]["message"])
    end = records[-1]
    assert end["type"] == "run_end"
    assert end["stats"]["scenarios"] == SCENARIOS  # type: ignore[index]
    assert (out / "report.json").is_file()


def test_judge_missing_pack_file_is_one_line(pack: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "pack"
    shutil.copytree(pack, broken)
    (broken / FRAMES_FILE).write_bytes((pack / FRAMES_FILE).read_bytes()[:100])
    assert main(["judge", str(broken), str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert FRAMES_FILE in err[0]


def test_replay_module_writes_one_response_per_request(pack: Path) -> None:
    sink = io.BytesIO()
    assert replay_pack(pack, ReferenceNic(), sink) == len(read_pack(pack).requests)
    lines = sink.getvalue().splitlines()
    assert all(json.loads(line)["ok"] for line in lines)
