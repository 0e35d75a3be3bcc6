"""The IUT side of the wire form: expose any in-process ``Adapter`` as a JSON-lines program on stdin/stdout.

``exec`` driving ``serve(adapter)`` must give exactly what driving ``adapter`` directly gives; the project's tests use
that to check the exec path end to end against the reference NIC, and a vendor can use it to put a Python model of
their NIC behind the same protocol as their firmware simulator.
"""

from __future__ import annotations

import sys
from typing import IO, Any

from conformance.adapters import wire
from conformance.adapters.base import Adapter
from conformance.adapters.errors import AdapterError
from reference_model.ndis import AddSaEntry, UpdateSa, WireFormatError, setting_from_wire


def answer(adapter: Adapter, request: wire.JsonObject) -> wire.JsonObject:
    """The response object to one validated request (``bye`` is answered but does not close the adapter)."""
    op = request["op"]
    if op == "hello":
        return wire.hello_response(adapter.hello())
    if op == "reset":
        adapter.reset()
        return wire.ok_response()
    if op == "set_offload":
        return wire.status_response(adapter.set_offload(setting_from_wire(request["ipsec_v2"])))
    if op == "add_sa":
        entries = [AddSaEntry.from_json(e, f"$.entries[{i}]") for i, e in enumerate(request["entries"])]
        return wire.add_sa_response(adapter.add_sa(entries))
    if op == "delete_sa":
        return wire.status_response(adapter.delete_sa(request["sa_id"]))
    if op == "update_sa":
        return wire.status_response(adapter.update_sa(UpdateSa.from_json(request, "$")))
    if op == "receive":
        return wire.receive_response(adapter.receive(bytes.fromhex(request["frame"])))
    if op == "bye":
        return wire.ok_response()
    raise WireFormatError(f"$.op: unknown op {op!r}")  # unreachable after validation


def serve(adapter: Adapter, stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None) -> int:
    """Answer request lines until ``bye`` or end of input; a malformed request gets ``{"ok": false}``. Exit status."""
    source: IO[bytes] = stdin if stdin is not None else sys.stdin.buffer
    sink: IO[bytes] = stdout if stdout is not None else sys.stdout.buffer
    try:
        for line in source:
            response: dict[str, Any]
            op = None
            try:
                request = wire.decode_request(line)
                op = request["op"]
                response = answer(adapter, request)
            except WireFormatError as exc:
                response = wire.error_response(str(exc))
            except AdapterError as exc:
                response = wire.error_response(f"adapter error: {exc}")
            sink.write(wire.encode_line(response))
            sink.flush()
            if op == "bye":
                break
    finally:
        adapter.close()
    return 0
