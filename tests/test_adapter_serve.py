"""``serve``: an in-process Adapter behind the wire form; ``exec`` over it must equal the adapter in process."""

from __future__ import annotations

import io
import ipaddress
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.adapters import wire
from conformance.adapters.base import Adapter
from conformance.adapters.exec_adapter import ExecAdapter
from conformance.adapters.serve import serve
from reference_model.constants import EncryptionAlgorithm, IpsecV2Setting, Operation
from reference_model.ndis import AddSaEntry, EncryptionSpec, SecAssoc, UpdateSa

PROGRAM = Path(__file__).parent / "iut_programs" / "reference_nic.py"
ENTRY = AddSaEntry(
    sa_id=1,
    inbound=True,
    ipv6=False,
    src=ipaddress.IPv4Address("198.51.100.1"),
    dst=ipaddress.IPv4Address("198.51.100.2"),
    sec_assoc=(
        SecAssoc(
            operation=Operation.ESP,
            spi=0x1000,
            esn=True,
            encryption=EncryptionSpec(
                algorithm=EncryptionAlgorithm.AES_GCM_128, key=b"\x07" * 16, salt=b"\x01\x02\x03\x04", icv_length=16
            ),
        ),
    ),
)
ETHERNET_IPV4_UDP = bytes.fromhex(
    "02000000000202000000000108004500001c00010000401100000a0000010a00000204d2162e00080000"
)
ESP_LOOKING = (
    bytes.fromhex("0200000000020200000000010800450000300001000040320000c6336401c6336402")
    + (0x1000).to_bytes(4, "big")
    + bytes(24)
)


def session(adapter: Adapter) -> list[Any]:
    out: list[Any] = [adapter.hello()]
    adapter.reset()
    out.append(adapter.set_offload(IpsecV2Setting.AH_AND_ESP))
    out.append(tuple(adapter.add_sa([ENTRY])))
    out.append(adapter.update_sa(UpdateSa(sa_id=1, operation=Operation.ESP, spi=0x1000, seq_hi=5)))
    out.extend(tuple(adapter.receive(frame)) for frame in (ETHERNET_IPV4_UDP, ESP_LOOKING, b"\x00" * 3))
    out.append(adapter.delete_sa(1))
    out.append(adapter.delete_sa(1))
    return out


def test_exec_over_reference_nic_equals_reference_in_process() -> None:
    reference = pytest.importorskip("conformance.adapters.reference")
    direct = session(reference.create(None))
    with ExecAdapter([sys.executable, str(PROGRAM)], timeout=10) as remote:
        assert session(remote) == direct


class Dummy:
    """Minimal in-process adapter for the serve loop (answers and records)."""

    def __init__(self) -> None:
        self.closed = False

    def hello(self) -> Any:
        raise AssertionError("not used")

    def reset(self) -> None:
        pass

    def set_offload(self, setting: IpsecV2Setting) -> Any:
        raise AssertionError("not used")

    def add_sa(self, entries: Any) -> Any:
        raise AssertionError("not used")

    def delete_sa(self, sa_id: int) -> Any:
        raise AssertionError("not used")

    def update_sa(self, update: UpdateSa) -> Any:
        raise AssertionError("not used")

    def receive(self, frame: bytes) -> Any:
        return ()

    def close(self) -> None:
        self.closed = True


def test_serve_refuses_malformed_requests_and_stops_at_bye() -> None:
    lines = [
        b'{"op": "reset"}\n',
        b"garbage\n",
        b'{"op": "receive", "frame": "abc"}\n',
        b'{"op": "bye"}\n',
        b'{"op": "reset"}\n',
    ]
    out = io.BytesIO()
    dummy = Dummy()
    assert serve(dummy, io.BytesIO(b"".join(lines)), out) == 0
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert answers[0] == {"ok": True}
    assert answers[1]["ok"] is False
    assert "not JSON" in answers[1]["error"]
    assert answers[2]["ok"] is False
    assert "$.frame" in answers[2]["error"]
    assert answers[3] == {"ok": True}
    assert len(answers) == 4
    assert dummy.closed
    for answer, op in zip(answers, ["reset", "receive", "receive", "bye"], strict=True):
        assert wire.schema_violation(answer, "response_error" if answer["ok"] is False else f"response_{op}") is None
