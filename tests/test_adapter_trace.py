"""Offline packs: export, read back, pcapng framing, recorded responses, and replay as an Adapter."""

from __future__ import annotations

import ipaddress
import json
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest

from conformance.adapters import wire
from conformance.adapters.base import Adapter
from conformance.adapters.errors import AdapterCrashed, AdapterProtocolError, AdapterRefused
from conformance.adapters.trace import (
    FRAMES_FILE,
    REQUESTS_FILE,
    RESPONSES_FILE,
    SAS_FILE,
    PackError,
    RecordingAdapter,
    ReplayAdapter,
    ReplayDiverged,
    export_pack,
    pcapng_bytes,
    read_pack,
    read_pcapng,
    read_responses,
)
from reference_model.constants import AuthenticationAlgorithm, IpsecV2Setting, NdisStatus, Operation
from reference_model.ndis import (
    AddSaEntry,
    AddSaResult,
    AuthenticationSpec,
    Capabilities,
    Hello,
    Indication,
    SecAssoc,
    UpdateSa,
    WireFormatError,
)

ENTRY = AddSaEntry(
    sa_id=3,
    inbound=True,
    ipv6=False,
    src=ipaddress.IPv4Address("192.0.2.1"),
    dst=ipaddress.IPv4Address("192.0.2.2"),
    sec_assoc=(
        SecAssoc(
            operation=Operation.AH,
            spi=0x99,
            authentication=AuthenticationSpec(algorithm=AuthenticationAlgorithm.SHA_256, key=b"\x11" * 32),
        ),
    ),
)
FRAMES = (b"\x00" * 14 + b"\x45", b"\x01\x02\x03", b"")
HELLO = Hello(name="rig", version="1", capabilities=Capabilities())


class Scripted:
    """A tiny in-process Adapter with fixed answers, to record a session from."""

    def hello(self) -> Hello:
        return HELLO

    def reset(self) -> None:
        pass

    def set_offload(self, setting: IpsecV2Setting) -> NdisStatus:
        return NdisStatus.SUCCESS

    def add_sa(self, entries: Any) -> list[AddSaResult]:
        return [AddSaResult(sa_id=e.sa_id, status=NdisStatus.SUCCESS, handle=5) for e in entries]

    def delete_sa(self, sa_id: int) -> NdisStatus:
        return NdisStatus.SUCCESS

    def update_sa(self, update: UpdateSa) -> NdisStatus:
        return NdisStatus.SUCCESS

    def receive(self, frame: bytes) -> list[Indication]:
        return [Indication(frame=frame, info=2)]

    def close(self) -> None:
        pass


def session(adapter: Adapter) -> list[Any]:
    """The same engine-like sequence of calls, live or replayed; returns every answer."""
    answers: list[Any] = [adapter.hello()]
    adapter.reset()
    answers.append(adapter.set_offload(IpsecV2Setting.AH_AND_ESP))
    answers.append(list(adapter.add_sa([ENTRY])))
    answers.extend(list(adapter.receive(frame)) for frame in FRAMES[:2])
    answers.append(adapter.update_sa(UpdateSa(sa_id=3, operation=Operation.AH, spi=0x99, seq_hi=1)))
    answers.append(list(adapter.receive(FRAMES[2])))
    answers.append(adapter.delete_sa(3))
    adapter.close()
    return answers


@pytest.fixture
def recorded() -> tuple[list[dict[str, Any]], list[Any]]:
    recorder = RecordingAdapter(Scripted())
    answers = session(recorder)
    return recorder.requests, answers


def write_responses(path: Path, answers: list[dict[str, Any]]) -> None:
    path.write_bytes(b"".join(wire.encode_line(a) for a in answers))


def live_responses(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the Scripted NIC answers on the wire, line by line."""
    nic = Scripted()
    out: list[dict[str, Any]] = []
    for request in requests:
        op = request["op"]
        if op == "hello":
            out.append(wire.hello_response(nic.hello()))
        elif op in ("reset", "bye"):
            out.append(wire.ok_response())
        elif op == "add_sa":
            entries = [AddSaEntry.from_json(e) for e in request["entries"]]
            out.append(wire.add_sa_response(nic.add_sa(entries)))
        elif op == "receive":
            out.append(wire.receive_response(nic.receive(bytes.fromhex(request["frame"]))))
        else:
            out.append(wire.status_response(NdisStatus.SUCCESS))
    return out


def test_export_pack_writes_every_file_and_reads_back(tmp_path: Path, recorded: Any) -> None:
    requests, _ = recorded
    pack = export_pack(requests, tmp_path / "pack")
    names = sorted(p.name for p in (tmp_path / "pack").iterdir())
    assert names == ["README.txt", "frames.pcapng", "requests.jsonl", "sas.json"]
    lines = (tmp_path / "pack" / REQUESTS_FILE).read_bytes().splitlines(keepends=True)
    assert lines == [wire.encode_line(r) for r in requests]
    assert [json.loads(line)["op"] for line in lines][-1] == "bye"
    back = read_pack(tmp_path / "pack")
    assert back.requests == pack.requests
    assert back.frames == FRAMES
    assert "requests.jsonl line 5" in (tmp_path / "pack" / FRAMES_FILE).read_bytes().decode("latin-1")
    readme = (tmp_path / "pack" / "README.txt").read_text()
    assert "one response line" in readme
    assert "10 requests, 3 frames, 1 SA bundles" in readme


def test_sas_json_names_the_lines_that_add_update_and_delete(tmp_path: Path, recorded: Any) -> None:
    requests, _ = recorded
    export_pack(requests, tmp_path)
    (row,) = json.loads((tmp_path / SAS_FILE).read_text())
    assert (row["sa_id"], row["added_at_line"], row["updated_at_lines"], row["deleted_at_line"]) == (3, 4, [7], 9)
    assert row["summary"].startswith("AH spi=0x00000099 authentication=SHA_256 inbound 192.0.2.1 -> 192.0.2.2")


def test_export_pack_rejects_an_invalid_request_naming_its_line(tmp_path: Path) -> None:
    with pytest.raises(WireFormatError, match=r"request 2: .*\$\.frame"):
        export_pack([wire.reset_request(), {"op": "receive", "frame": "xyz"}], tmp_path)
    assert not (tmp_path / REQUESTS_FILE).exists()


def test_pcapng_round_trips_and_has_ethernet_link_type() -> None:
    data = pcapng_bytes(list(FRAMES), ["a", "bb", "ccc"])
    assert struct.unpack_from("<I", data, 0)[0] == 0x0A0D0D0A
    idb = 28  # the section header block without options is 28 bytes
    assert struct.unpack_from("<IIH", data, idb) == (1, 20, 1)
    assert len(data) % 4 == 0


def test_pcapng_is_readable_by_scapy_as_ethernet(tmp_path: Path) -> None:
    scapy_utils = pytest.importorskip("scapy.utils")
    pytest.importorskip("scapy.layers.l2")  # registers link type 1 = Ether
    frame = bytes.fromhex("ffffffffffff0000000000010800") + b"\x45" + b"\x00" * 19
    path = tmp_path / "f.pcapng"
    path.write_bytes(pcapng_bytes([frame, b"\x00" * 60]))
    packets = scapy_utils.rdpcap(str(path))
    assert [bytes(p) for p in packets] == [frame, b"\x00" * 60]
    assert packets[0].haslayer("Ether")


@pytest.mark.parametrize(
    ("cut", "what"),
    [(10, "truncated block header"), (40, "truncated or corrupt block"), (-3, "truncated")],
)
def test_truncated_pcapng_is_a_pack_error_naming_the_file(tmp_path: Path, cut: int, what: str) -> None:
    path = tmp_path / FRAMES_FILE
    path.write_bytes(pcapng_bytes(list(FRAMES))[:cut])
    with pytest.raises(PackError, match=what) as info:
        read_pcapng(path)
    assert str(path) in str(info.value)


def test_pcapng_without_section_header_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / FRAMES_FILE
    path.write_bytes(pcapng_bytes(list(FRAMES))[28:])
    with pytest.raises(PackError, match="not a pcapng file"):
        read_pcapng(path)


def test_read_pack_missing_file_is_named(tmp_path: Path, recorded: Any) -> None:
    export_pack(recorded[0], tmp_path)
    (tmp_path / SAS_FILE).unlink()
    with pytest.raises(PackError, match=r"sas\.json: missing"):
        read_pack(tmp_path)
    with pytest.raises(PackError, match=r"requests\.jsonl: missing"):
        read_pack(tmp_path / "nowhere")


def test_read_pack_names_the_bad_request_line(tmp_path: Path, recorded: Any) -> None:
    export_pack(recorded[0], tmp_path)
    path = tmp_path / REQUESTS_FILE
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2] = b'{"op": "set_offload", "ipsec_v2": 3}\n'
    path.write_bytes(b"".join(lines))
    with pytest.raises(PackError, match=r"requests\.jsonl:3: .*ipsec_v2"):
        read_pack(tmp_path)


def test_read_pack_detects_frames_that_disagree_with_requests(tmp_path: Path, recorded: Any) -> None:
    export_pack(recorded[0], tmp_path)
    (tmp_path / FRAMES_FILE).write_bytes(pcapng_bytes([FRAMES[0], b"\xee", FRAMES[2]]))
    with pytest.raises(PackError, match="packet 2 differs"):
        read_pack(tmp_path)
    (tmp_path / FRAMES_FILE).write_bytes(pcapng_bytes(list(FRAMES[:2])))
    with pytest.raises(PackError, match="2 packets, but"):
        read_pack(tmp_path)


def test_read_responses_names_file_and_line_and_truncation(tmp_path: Path) -> None:
    path = tmp_path / RESPONSES_FILE
    path.write_bytes(b'{"ok": true}\n{"ok": true}\n{"ok": tr')
    with pytest.raises(PackError, match=r"responses\.jsonl:3: .*truncated last line"):
        read_responses(path)
    path.write_bytes(b'{"ok": true}\nnope\n{"ok": true}\n')
    with pytest.raises(PackError, match=r"responses\.jsonl:2: line is not JSON"):
        read_responses(path)
    path.write_bytes(b'{"ok": true}\n')
    assert read_responses(path) == [{"ok": True}]
    with pytest.raises(PackError, match=r"1 response lines for 3 requests \(truncated\)"):
        read_responses(path, expected=3)
    with pytest.raises(PackError, match="missing"):
        read_responses(tmp_path / "absent.jsonl")


def test_replay_answers_like_the_live_session(tmp_path: Path, recorded: Any) -> None:
    requests, live_answers = recorded
    export_pack(requests, tmp_path)
    write_responses(tmp_path / RESPONSES_FILE, live_responses(requests))
    replay = ReplayAdapter.from_files(tmp_path)
    assert isinstance(replay, Adapter)
    assert session(replay) == live_answers
    assert replay.remaining == 0


def test_replay_diverging_request_is_reported_with_its_line(tmp_path: Path, recorded: Any) -> None:
    requests, _ = recorded
    replay = ReplayAdapter(requests, [wire.encode_line(r) for r in live_responses(requests)])
    replay.hello()
    with pytest.raises(ReplayDiverged, match="request 2 differs from the pack"):
        replay.set_offload(IpsecV2Setting.ESP)


def test_replay_bad_recorded_answer_is_an_error_for_that_request_only(recorded: Any) -> None:
    requests, _ = recorded
    responses: list[bytes | dict[str, Any]] = [wire.encode_line(r) for r in live_responses(requests)]
    responses[2] = b'{"ok": true, "status": 0}\n'
    responses[3] = wire.error_response("rig could not add the SA")
    replay = ReplayAdapter(requests, responses)
    replay.hello()
    replay.reset()
    with pytest.raises(AdapterProtocolError, match=r"responses\.jsonl:3: wrong shape: \$\.status"):
        replay.set_offload(IpsecV2Setting.AH_AND_ESP)
    with pytest.raises(AdapterRefused, match="rig could not add the SA"):
        replay.add_sa([ENTRY])
    assert replay.receive(FRAMES[0]) == (Indication(frame=FRAMES[0], info=2),)


def test_replay_with_missing_responses_is_crashed(recorded: Any) -> None:
    requests, _ = recorded
    replay = ReplayAdapter(requests, [wire.encode_line(wire.hello_response(HELLO))])
    replay.hello()
    with pytest.raises(AdapterCrashed, match="ends after line 1: no answer to request 2"):
        replay.reset()


def test_pack_is_reproducible_byte_for_byte(tmp_path: Path, recorded: Any) -> None:
    export_pack(recorded[0], tmp_path / "a")
    export_pack(recorded[0], tmp_path / "b")
    for name in (REQUESTS_FILE, FRAMES_FILE, SAS_FILE, "README.txt"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    shutil.rmtree(tmp_path / "b")
