"""A trivial IUT program speaking the adapter protocol on stdin/stdout, for testing the ``exec`` adapter.

Standard library only, on purpose: it is an independent second implementation of the wire form, so the suite's codec
is not tested against itself. It answers every request correctly but does no IPsec: ``receive`` indicates the frame
unchanged with ``info`` 0 (what a NIC without IPsecOV2 does), ``add_sa`` succeeds with handles 1, 2, 3...

``--misbehave MODE`` makes it break the protocol in one way, to test the suite's handling of adapter faults:

  exit-at-start   exit(3) before reading anything (after a line on stderr)
  hang-on-OP      never answer request OP (keeps reading nothing, sleeps)
  exit-on-OP      write to stderr and exit(4) instead of answering OP
  non-json-on-OP  answer OP with a line that is not JSON
  shape-on-OP     answer OP with JSON of the wrong shape (a string where a number belongs)
  twice-on-OP     answer OP twice, both lines in one write
  huge-on-OP      answer OP with a 2 MiB line
  refuse-on-OP    answer OP with {"ok": false, "error": ...}
  fork-hang-on-OP start a grandchild that sleeps (same process group), then hang
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

CAPS: dict[str, Any] = {
    "encapsulation": 2,
    "ipv6_supported": True,
    "ipv4_options": False,
    "ipv6_non_ipsec_extension_headers": False,
    "ah": True,
    "esp": True,
    "ah_esp_combined": True,
    "transport": True,
    "tunnel": True,
    "transport_tunnel_combined": True,
    "lso_supported": False,
    "extended_sequence_numbers": True,
    "udp_esp": 1,
    "authentication_algorithms": 7,
    "encryption_algorithms": 456,
    "sa_offload_capacity": 64,
}


def answer(request: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    op = request.get("op")
    if op == "hello":
        if request.get("protocol") != 1:
            return {"ok": False, "error": "unsupported protocol version"}
        return {"ok": True, "name": "echo-reference", "version": "0.1", "capabilities": CAPS}
    if op in ("reset", "bye"):
        state["handles"] = {}
        return {"ok": True}
    if op == "set_offload":
        return {"ok": True, "status": "SUCCESS"}
    if op == "add_sa":
        results = []
        for entry in request["entries"]:
            state["next"] = state.get("next", 0) + 1
            state.setdefault("handles", {})[entry["sa_id"]] = state["next"]
            results.append({"sa_id": entry["sa_id"], "status": "SUCCESS", "handle": state["next"]})
        return {"ok": True, "results": results}
    if op == "delete_sa":
        known = state.setdefault("handles", {}).pop(request["sa_id"], None) is not None
        return {"ok": True, "status": "SUCCESS" if known else "INVALID_PARAMETER"}
    if op == "update_sa":
        return {"ok": True, "status": "SUCCESS"}
    if op == "receive":
        bytes.fromhex(request["frame"])
        return {"ok": True, "indications": [{"frame": request["frame"], "info": 0}]}
    return {"ok": False, "error": f"unknown op {op!r}"}


def write(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--misbehave", default="")
    mode, _, target = parser.parse_args().misbehave.partition("-on-")
    if mode == "exit-at-start":
        sys.stderr.write("echo-reference: refusing to start\n")
        return 3
    state: dict[str, Any] = {}
    for raw in sys.stdin.buffer:
        try:
            request = json.loads(raw)
            reply = answer(request, state)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            reply = {"ok": False, "error": f"malformed request: {exc}"}
            request = {}
        op = request.get("op")
        if op == target:
            if mode == "hang":
                time.sleep(3600)
            if mode == "fork-hang":
                subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
                time.sleep(3600)
            if mode == "exit":
                sys.stderr.write(f"echo-reference: dying on {op}\n")
                sys.stderr.flush()
                return 4
            if mode == "non-json":
                write(b"this is not json\n")
                continue
            if mode == "shape":
                write(
                    b'{"ok": true, "status": 0, "results": "x", "indications": [{"frame": "00", "info": "2"}],'
                    b' "name": 1}\n'
                )
                continue
            if mode == "twice":
                line = json.dumps(reply).encode() + b"\n"
                write(line + line)
                continue
            if mode == "huge":
                write(b'{"ok": true, "pad": "' + b"a" * (2 * 1024 * 1024) + b'"}\n')
                continue
            if mode == "refuse":
                sys.stderr.write("echo-reference: refusing\n")
                sys.stderr.flush()
                write(b'{"ok": false, "error": "not today"}\n')
                continue
        write(json.dumps(reply).encode() + b"\n")
        if op == "bye":
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
