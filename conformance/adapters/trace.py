"""``trace``: offline packs for hardware labs (``adapter-protocol.md``, "Offline packs").

A pack is a folder a rig replays without Python:

- ``requests.jsonl``: the exact request lines, in order. Requests name bundles by ``sa_id``, so no request depends on a
  previous answer and the rig can send them blindly.
- ``frames.pcapng``: the frame of every ``receive`` request, one packet per request, same order, each with a comment
  naming its request line (so a lab can also inject the frames with its own tools).
- ``sas.json``: the SA table in readable form (every bundle added, with the lines that add and delete it).
- ``README.txt``: how to replay.

The rig answers each request line with one response line into ``responses.jsonl``. ``ReplayAdapter`` plays such a
recording back as an ``Adapter``, so ``judge`` can run the same engine offline: every request the engine makes must be
the next recorded one (else ``ReplayDiverged``), and every recorded answer goes through the same checks as a live one.

pcapng is written with ``struct`` (Section Header, one Interface Description of link type 1 = Ethernet, one Enhanced
Packet block per frame); timestamps are the request's index in microseconds, so a pack is byte-for-byte reproducible.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from conformance.adapters import wire
from conformance.adapters.base import Adapter
from conformance.adapters.errors import AdapterCrashed, AdapterError
from reference_model.constants import IpsecV2Setting, NdisStatus
from reference_model.ndis import AddSaEntry, AddSaResult, Hello, Indication, UpdateSa, WireFormatError

REQUESTS_FILE: Final = "requests.jsonl"
FRAMES_FILE: Final = "frames.pcapng"
SAS_FILE: Final = "sas.json"
README_FILE: Final = "README.txt"
RESPONSES_FILE: Final = "responses.jsonl"

LINKTYPE_ETHERNET: Final = 1
_SHB: Final = 0x0A0D0D0A
_IDB: Final = 0x00000001
_EPB: Final = 0x00000006
_BYTE_ORDER_MAGIC: Final = 0x1A2B3C4D
_OPT_COMMENT: Final = 1


class PackError(Exception):
    """A pack or a responses file is missing, truncated or malformed; the message names the file and the line."""


class ReplayDiverged(AdapterError):  # noqa: N818 -- an AdapterError like its siblings (verdict ERROR)
    """The engine asked for a request that is not the next one recorded in the pack."""


# --------------------------------------------------------------------------------------------------------------------
# pcapng


def _pad4(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 4)


def _block(block_type: int, body: bytes) -> bytes:
    total = 12 + len(body)
    return struct.pack("<II", block_type, total) + body + struct.pack("<I", total)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + _pad4(value)


def pcapng_bytes(frames: Sequence[bytes], comments: Sequence[str] | None = None) -> bytes:
    """A little-endian pcapng file: one section, one Ethernet interface, one packet per frame (optional comments)."""
    if comments is not None and len(comments) != len(frames):
        raise ValueError("one comment per frame")
    out = [_block(_SHB, struct.pack("<IHHq", _BYTE_ORDER_MAGIC, 1, 0, -1))]
    out.append(_block(_IDB, struct.pack("<HHI", LINKTYPE_ETHERNET, 0, 0)))
    for index, frame in enumerate(frames):
        timestamp = index  # microseconds (default if_tsresol): reproducible, and keeps the order visible
        body = struct.pack("<IIIII", 0, timestamp >> 32, timestamp & 0xFFFFFFFF, len(frame), len(frame))
        body += _pad4(frame)
        if comments is not None:
            body += _option(_OPT_COMMENT, comments[index].encode("utf-8")) + _option(0, b"")
        out.append(_block(_EPB, body))
    return b"".join(out)


def read_pcapng(path: Path) -> list[bytes]:
    """The packet data of every Enhanced Packet Block, in order; ``PackError`` naming the file and offset if broken."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PackError(f"{path}: cannot read ({exc.strerror or exc})") from None
    frames: list[bytes] = []
    offset = 0
    endian = "<"
    while offset < len(data):
        if len(data) - offset < 12:
            raise PackError(f"{path}: truncated block header at byte {offset}")
        block_type = struct.unpack_from(endian + "I", data, offset)[0]
        if block_type == _SHB:
            magic = data[offset + 8 : offset + 12]
            if magic == struct.pack("<I", _BYTE_ORDER_MAGIC):
                endian = "<"
            elif magic == struct.pack(">I", _BYTE_ORDER_MAGIC):
                endian = ">"
            else:
                raise PackError(f"{path}: bad byte-order magic in the section header at byte {offset}")
        elif offset == 0:
            raise PackError(f"{path}: not a pcapng file (no section header block at byte 0)")
        total = struct.unpack_from(endian + "I", data, offset + 4)[0]
        if total < 12 or total % 4 or offset + total > len(data):
            raise PackError(f"{path}: truncated or corrupt block at byte {offset} (length {total})")
        if block_type == _EPB:
            if total < 32:
                raise PackError(f"{path}: enhanced packet block at byte {offset} is too short")
            captured = struct.unpack_from(endian + "I", data, offset + 20)[0]
            if 28 + captured > total - 4:
                raise PackError(f"{path}: packet at byte {offset} claims {captured} bytes beyond its block")
            frames.append(data[offset + 28 : offset + 28 + captured])
        offset += total
    return frames


# --------------------------------------------------------------------------------------------------------------------
# Writing a pack


@dataclass(frozen=True, slots=True, kw_only=True)
class Pack:
    """A pack as read back: the request objects (validated), the frames, and the readable SA table."""

    directory: Path
    requests: tuple[wire.JsonObject, ...]
    frames: tuple[bytes, ...]
    sas: Any


def _sec_assoc_summary(sa: Mapping[str, Any]) -> str:
    parts = [f"{str(sa['operation']).upper()} spi=0x{int(sa['spi']):08x}"]
    for kind in ("encryption", "authentication"):
        spec = sa.get(kind)
        if spec is not None:
            parts.append(f"{kind}={spec['algorithm']}")
    if sa.get("esn"):
        parts.append(f"esn seq_hi={sa.get('seq_hi', 0)}")
    return " ".join(parts)


def sa_table(requests: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every bundle the requests add, with the 1-based request lines that add, update and delete it."""
    table: list[dict[str, Any]] = []
    live: dict[int, dict[str, Any]] = {}
    for line_no, request in enumerate(requests, start=1):
        op = request.get("op")
        if op == "add_sa":
            for entry in request["entries"]:
                row = {
                    "sa_id": entry["sa_id"],
                    "summary": "; ".join(_sec_assoc_summary(sa) for sa in entry["sec_assoc"])
                    + f" {'inbound' if entry['inbound'] else 'outbound'} {entry['src']} -> {entry['dst']}",
                    "added_at_line": line_no,
                    "updated_at_lines": [],
                    "deleted_at_line": None,
                    "entry": entry,
                }
                table.append(row)
                live[entry["sa_id"]] = row
        elif op == "update_sa" and request["sa_id"] in live:
            live[request["sa_id"]]["updated_at_lines"].append(line_no)
        elif op == "delete_sa" and request["sa_id"] in live:
            live.pop(request["sa_id"])["deleted_at_line"] = line_no
        elif op == "reset":
            live.clear()
    return table


README_TEXT: Final = """\
IPsec Offload Version 2 conformance: offline vector pack (adapter protocol version {version})

Files
  requests.jsonl   one request per line (JSON), in order; see the adapter protocol for each "op"
  frames.pcapng    the frame of every "receive" request, one packet per request, same order
                   (each packet's comment names its request line)
  sas.json         the SA bundles the requests add, for reading (requests.jsonl is authoritative)

How to replay on a rig
  1. Read requests.jsonl line by line. Do not skip or reorder lines; bundles are named by "sa_id", so no request
     needs an answer from an earlier one.
  2. Perform each request on the NIC under test (reset, set_offload, add_sa, delete_sa, update_sa, receive; "hello"
     asks for name, version and the NDIS_IPSEC_OFFLOAD_V2 capabilities; "bye" ends the session).
  3. Write exactly one response line (one JSON object, UTF-8, byte strings in lowercase hex) per request line into
     responses.jsonl, in the same order: line N answers request line N. A request that could not be performed is
     answered {{"ok": false, "error": "<why>"}} rather than skipped.
  4. Check the responses with:  ipsecov2-conformance judge <this folder> --responses responses.jsonl

This pack: {requests} requests, {frames} frames, {bundles} SA bundles.{note}
"""


def export_pack(
    requests: Iterable[Mapping[str, Any]],
    out_dir: Path,
    *,
    sas: Any = None,
    note: str = "",
) -> Pack:
    """Write a pack of ``requests`` (request objects as built by ``conformance.adapters.wire``) into ``out_dir``.

    Every request is validated before anything is written (``WireFormatError`` names the line). The frames and the
    SA table are derived from the requests, so they cannot disagree with them; ``sas`` replaces the derived table.
    """
    objects: list[wire.JsonObject] = []
    for line_no, request in enumerate(requests, start=1):
        try:
            objects.append(wire.validate_request(dict(request)))
        except WireFormatError as exc:
            raise WireFormatError(f"request {line_no}: {exc}") from None
    frames: list[bytes] = []
    comments: list[str] = []
    for line_no, request in enumerate(objects, start=1):
        if request["op"] == "receive":
            frames.append(bytes.fromhex(request["frame"]))
            comments.append(f"requests.jsonl line {line_no}")
    table = sa_table(objects) if sas is None else sas
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / REQUESTS_FILE).write_bytes(b"".join(wire.encode_line(r) for r in objects))
    (out_dir / FRAMES_FILE).write_bytes(pcapng_bytes(frames, comments))
    (out_dir / SAS_FILE).write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
    bundles = len(table) if isinstance(table, list) else 0
    readme = README_TEXT.format(
        version=wire.PROTOCOL_VERSION,
        requests=len(objects),
        frames=len(frames),
        bundles=bundles,
        note=f"\n\n{note}" if note else "",
    )
    (out_dir / README_FILE).write_text(readme, encoding="utf-8")
    return Pack(directory=out_dir, requests=tuple(objects), frames=tuple(frames), sas=table)


# --------------------------------------------------------------------------------------------------------------------
# Reading a pack and a recording


def _read_lines(path: Path) -> list[bytes]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PackError(f"{path}: missing") from None
    except OSError as exc:
        raise PackError(f"{path}: cannot read ({exc.strerror or exc})") from None
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def read_pack(directory: Path) -> Pack:
    """Read and cross-check a pack: every request line valid, frames.pcapng equal to the receive frames."""
    path = directory / REQUESTS_FILE
    requests: list[wire.JsonObject] = []
    for line_no, line in enumerate(_read_lines(path), start=1):
        try:
            requests.append(wire.decode_request(line))
        except WireFormatError as exc:
            raise PackError(f"{path}:{line_no}: {exc}") from None
    expected = [bytes.fromhex(r["frame"]) for r in requests if r["op"] == "receive"]
    frames = read_pcapng(directory / FRAMES_FILE)
    if len(frames) != len(expected):
        raise PackError(
            f"{directory / FRAMES_FILE}: {len(frames)} packets, but {path} has {len(expected)} receive requests"
        )
    for index, (frame, want) in enumerate(zip(frames, expected, strict=True), start=1):
        if frame != want:
            raise PackError(
                f"{directory / FRAMES_FILE}: packet {index} differs from the frame of receive request {index}"
            )
    sas_path = directory / SAS_FILE
    try:
        sas = json.loads(sas_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackError(f"{sas_path}: missing") from None
    except (OSError, ValueError) as exc:
        raise PackError(f"{sas_path}: not readable JSON ({exc})") from None
    return Pack(directory=directory, requests=tuple(requests), frames=tuple(frames), sas=sas)


def read_responses(path: Path, *, expected: int | None = None) -> list[wire.JsonObject]:
    """Every line of a responses file as a JSON object (shape is checked per request by ``ReplayAdapter``).

    ``PackError`` naming the file and line for a line that is not a JSON object (a cut-off last line says
    "truncated"), and, with ``expected``, for a file with fewer or more lines than requests.
    """
    lines = _read_lines(path)
    try:
        ends_cleanly = path.read_bytes().endswith(b"\n")
    except OSError:
        ends_cleanly = False
    out: list[wire.JsonObject] = []
    for line_no, line in enumerate(lines, start=1):
        try:
            out.append(wire.parse_line(line))
        except ValueError as exc:
            cut = " (truncated last line?)" if line_no == len(lines) and not ends_cleanly else ""
            raise PackError(f"{path}:{line_no}: {exc}{cut}") from None
    if expected is not None and len(out) != expected:
        what = "truncated" if len(out) < expected else "too long"
        raise PackError(f"{path}: {len(out)} response lines for {expected} requests ({what})")
    return out


# --------------------------------------------------------------------------------------------------------------------
# Replay


class ReplayAdapter:
    """An ``Adapter`` that answers from a recording: request N of the engine must equal recorded request line N.

    ``responses`` holds raw lines (bytes) or parsed objects; a malformed recorded answer is an ``AdapterError`` for
    that request only, exactly as it would be live, so one bad line does not void a whole lab run.
    """

    def __init__(
        self,
        requests: Sequence[Mapping[str, Any]],
        responses: Sequence[bytes | Mapping[str, Any]],
        *,
        source: str = RESPONSES_FILE,
        max_line: int = wire.DEFAULT_MAX_LINE,
    ) -> None:
        self._requests = [json.loads(wire.encode_line(r)) for r in requests]
        self._responses = list(responses)
        self._source = source
        self._max_line = max_line
        self.position = 0
        """How many recorded requests were consumed."""

    @classmethod
    def from_files(cls, pack_dir: Path, responses_path: Path | None = None) -> ReplayAdapter:
        pack = read_pack(pack_dir)
        path = responses_path if responses_path is not None else pack_dir / RESPONSES_FILE
        return cls(pack.requests, _read_lines(path), source=str(path))

    @property
    def remaining(self) -> int:
        """Recorded requests not yet asked for (a judge reports them: the engine and the pack disagree)."""
        return len(self._requests) - self.position

    def request(self, request: Mapping[str, Any]) -> wire.JsonObject:
        op = str(request["op"])
        index = self.position
        line_no = index + 1
        if index >= len(self._requests):
            raise ReplayDiverged(f"the pack has only {len(self._requests)} requests; the engine asked for more", op=op)
        asked = json.loads(wire.encode_line(request))
        if asked != self._requests[index]:
            raise ReplayDiverged(
                f"request {line_no} differs from the pack: recorded {json.dumps(self._requests[index])[:120]}, "
                f"asked {json.dumps(asked)[:120]}",
                op=op,
            )
        self.position += 1
        if index >= len(self._responses):
            raise AdapterCrashed(
                f"{self._source} ends after line {len(self._responses)}: no answer to request {line_no}", op=op
            )
        try:
            return wire.check_response(op, self._responses[index], max_line=self._max_line)
        except AdapterError as exc:
            exc.message = f"{self._source}:{line_no}: {exc.message}"
            exc.args = (exc.message,)
            raise

    def hello(self) -> Hello:
        return wire.hello_from_response(self.request(wire.hello_request()))

    def reset(self) -> None:
        self.request(wire.reset_request())

    def set_offload(self, setting: IpsecV2Setting) -> NdisStatus:
        return wire.status_from_response("set_offload", self.request(wire.set_offload_request(setting)))

    def add_sa(self, entries: Sequence[AddSaEntry]) -> Sequence[AddSaResult]:
        return wire.add_sa_results_from_response(self.request(wire.add_sa_request(entries)), entries)

    def delete_sa(self, sa_id: int) -> NdisStatus:
        return wire.status_from_response("delete_sa", self.request(wire.delete_sa_request(sa_id)))

    def update_sa(self, update: UpdateSa) -> NdisStatus:
        return wire.status_from_response("update_sa", self.request(wire.update_sa_request(update)))

    def receive(self, frame: bytes) -> Sequence[Indication]:
        return wire.indications_from_response(self.request(wire.receive_request(frame)))

    def close(self) -> None:
        """Consume a recorded ``bye`` if it is next (its answer does not matter); nothing else to release."""
        if self.position < len(self._requests) and self._requests[self.position].get("op") == "bye":
            self.position += 1


class RecordingAdapter:
    """Wraps an ``Adapter`` and records every request it is asked, as the wire form's request objects.

    ``export`` runs the engine against the reference NIC wrapped in this, then writes ``requests`` as a pack: the
    requests are exactly the ones a live ``exec`` run would send, and the reference answers drive the scenario.
    """

    def __init__(self, inner: Adapter) -> None:
        self.inner = inner
        self.requests: list[wire.JsonObject] = []

    def hello(self) -> Hello:
        self.requests.append(wire.hello_request())
        return self.inner.hello()

    def reset(self) -> None:
        self.requests.append(wire.reset_request())
        self.inner.reset()

    def set_offload(self, setting: IpsecV2Setting) -> NdisStatus:
        self.requests.append(wire.set_offload_request(setting))
        return self.inner.set_offload(setting)

    def add_sa(self, entries: Sequence[AddSaEntry]) -> Sequence[AddSaResult]:
        self.requests.append(wire.add_sa_request(entries))
        return self.inner.add_sa(entries)

    def delete_sa(self, sa_id: int) -> NdisStatus:
        self.requests.append(wire.delete_sa_request(sa_id))
        return self.inner.delete_sa(sa_id)

    def update_sa(self, update: UpdateSa) -> NdisStatus:
        self.requests.append(wire.update_sa_request(update))
        return self.inner.update_sa(update)

    def receive(self, frame: bytes) -> Sequence[Indication]:
        self.requests.append(wire.receive_request(frame))
        return self.inner.receive(frame)

    def close(self) -> None:
        """Record the closing ``bye`` (a rig ends its session there) and close the wrapped adapter."""
        self.requests.append(wire.bye_request())
        self.inner.close()


def create(argument: str | None) -> ReplayAdapter:
    """Factory for ``--iut trace:PACK_DIR[,RESPONSES]`` (not registered as an entry point; ``judge`` uses it)."""
    if not argument:
        raise PackError("trace needs a pack folder: trace:PACK_DIR[,RESPONSES_FILE]")
    pack_dir, _, responses = argument.partition(",")
    return ReplayAdapter.from_files(Path(pack_dir), Path(responses) if responses else None)


__all__ = [
    "Pack",
    "PackError",
    "RecordingAdapter",
    "ReplayAdapter",
    "ReplayDiverged",
    "create",
    "export_pack",
    "pcapng_bytes",
    "read_pack",
    "read_pcapng",
    "read_responses",
    "sa_table",
]
