"""The JSON-lines codec of the adapter protocol and its shipped JSON Schema (shared/design/adapter-protocol.md)."""

from __future__ import annotations

import copy
import ipaddress
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import wire
from conformance.adapters.errors import AdapterProtocolError, AdapterRefused
from reference_model.constants import (
    AuthenticationAlgorithm,
    EncryptionAlgorithm,
    IpsecV2Setting,
    NdisStatus,
    Operation,
    UdpEspEncapsulation,
)
from reference_model.ndis import (
    AddSaEntry,
    AddSaResult,
    AuthenticationSpec,
    Capabilities,
    EncryptionSpec,
    HeaderInfo,
    Hello,
    Indication,
    SecAssoc,
    UpdateSa,
    WireFormatError,
)

GCM_ESP = SecAssoc(
    operation=Operation.ESP,
    spi=0x1234,
    esn=True,
    seq_hi=2,
    encryption=EncryptionSpec(
        algorithm=EncryptionAlgorithm.AES_GCM_128, key=bytes(range(16)), salt=b"\x0a\x0b\x0c\x0d", icv_length=12
    ),
)
CBC_ESP = SecAssoc(
    operation=Operation.ESP,
    spi=0xFFFFFFFF,
    authentication=AuthenticationSpec(algorithm=AuthenticationAlgorithm.SHA_256, key=b"\xab" * 32),
    encryption=EncryptionSpec(algorithm=EncryptionAlgorithm.AES_CBC_256, key=b"\x01" * 32),
)
NULL_ESP = SecAssoc(
    operation=Operation.ESP,
    spi=7,
    authentication=AuthenticationSpec(
        algorithm=AuthenticationAlgorithm.AES_GCM_256, key=b"\x02" * 32, salt=b"\x00\x01\x02\x03", icv_length=16
    ),
    encryption=EncryptionSpec(algorithm=EncryptionAlgorithm.NONE),
)
SHA1_AH = SecAssoc(
    operation=Operation.AH,
    spi=0x1235,
    authentication=AuthenticationSpec(algorithm=AuthenticationAlgorithm.SHA_1, key=b"\x03" * 20),
)

ENTRIES = (
    AddSaEntry(
        sa_id=7,
        inbound=True,
        ipv6=False,
        src=ipaddress.IPv4Address("198.51.100.1"),
        dst=ipaddress.IPv4Address("198.51.100.2"),
        sec_assoc=(GCM_ESP, SHA1_AH),
    ),
    AddSaEntry(
        sa_id=8,
        inbound=True,
        ipv6=True,
        src=ipaddress.IPv6Address("::"),
        dst=ipaddress.IPv6Address("2001:db8::2"),
        sec_assoc=(CBC_ESP,),
        udp_esp_encapsulation=UdpEspEncapsulation.TUNNEL,
    ),
    AddSaEntry(
        sa_id=9,
        inbound=False,
        ipv6=False,
        src=ipaddress.IPv4Address("0.0.0.0"),
        dst=ipaddress.IPv4Address("203.0.113.9"),
        sec_assoc=(NULL_ESP,),
    ),
)

HELLO = Hello(name="acme-nic", version="2.1", capabilities=Capabilities(sa_offload_capacity=3))


def round_trip_request(request: dict[str, Any]) -> dict[str, Any]:
    line = wire.encode_line(request)
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    return wire.decode_request(line)


# ---- requests --------------------------------------------------------------------------------------------------------


def test_hello_request_round_trips_with_protocol_version() -> None:
    assert round_trip_request(wire.hello_request()) == {"op": "hello", "protocol": 1}


@pytest.mark.parametrize("make", [wire.reset_request, wire.bye_request])
def test_bare_requests_round_trip(make: Any) -> None:
    request = make()
    assert round_trip_request(request) == request


@pytest.mark.parametrize("setting", list(IpsecV2Setting))
def test_set_offload_request_round_trips_every_setting(setting: IpsecV2Setting) -> None:
    decoded = round_trip_request(wire.set_offload_request(setting))
    assert decoded["ipsec_v2"] == setting.wire_name


def test_add_sa_request_round_trips_every_entry_kind() -> None:
    decoded = round_trip_request(wire.add_sa_request(ENTRIES))
    assert tuple(AddSaEntry.from_json(e) for e in decoded["entries"]) == ENTRIES


def test_delete_sa_request_round_trips() -> None:
    assert round_trip_request(wire.delete_sa_request(7)) == {"op": "delete_sa", "sa_id": 7}


def test_update_sa_request_round_trips() -> None:
    update = UpdateSa(sa_id=7, operation=Operation.AH, spi=0x1235, seq_hi=1)
    assert UpdateSa.from_json(round_trip_request(wire.update_sa_request(update))) == update


@given(st.binary(max_size=64))
def test_receive_request_round_trips_frame_as_lowercase_hex(frame: bytes) -> None:
    line = wire.encode_line(wire.receive_request(frame))
    assert line.decode() == line.decode().lower()
    assert bytes.fromhex(wire.decode_request(line)["frame"]) == frame


def test_request_with_unknown_fields_is_accepted() -> None:
    request = {**wire.delete_sa_request(3), "trace_id": "abc", "extra": {"nested": [1]}}
    assert round_trip_request(request)["sa_id"] == 3


@pytest.mark.parametrize(
    ("request_obj", "where"),
    [
        ({"op": "launch"}, "$.op"),
        ({"op": "hello"}, "protocol"),
        ({"op": "hello", "protocol": 2}, "$.protocol"),
        ({"op": "delete_sa", "sa_id": "7"}, "$.sa_id"),
        ({"op": "delete_sa", "sa_id": -1}, "$.sa_id"),
        ({"op": "delete_sa", "sa_id": True}, "$.sa_id"),
        ({"op": "receive", "frame": "abc"}, "$.frame"),
        ({"op": "receive", "frame": "ABCD"}, "$.frame"),
        ({"op": "set_offload", "ipsec_v2": "on"}, "$.ipsec_v2"),
        ({"op": "update_sa", "sa_id": 1, "operation": "esp", "spi": 1}, "seq_hi"),
    ],
)
def test_malformed_request_is_rejected_naming_the_field(request_obj: dict[str, Any], where: str) -> None:
    with pytest.raises(WireFormatError, match=r".*" + where.replace("$", r"\$").replace(".", r"\.")):
        wire.decode_request(json.dumps(request_obj))


def test_add_sa_request_with_wrong_address_family_is_rejected() -> None:
    request = wire.add_sa_request(ENTRIES[:1])
    request["entries"][0]["dst"] = "2001:db8::1"
    with pytest.raises(WireFormatError, match=r"entries\[0\]\.dst"):
        wire.validate_request(request)


def test_add_sa_request_gcm_without_salt_is_rejected() -> None:
    request = wire.add_sa_request(ENTRIES[:1])
    del request["entries"][0]["sec_assoc"][0]["encryption"]["salt"]
    with pytest.raises(WireFormatError, match=r"sec_assoc\[0\]\.encryption.*salt"):
        wire.validate_request(request)


def test_request_line_that_is_not_json_is_rejected() -> None:
    with pytest.raises(WireFormatError, match="not JSON"):
        wire.decode_request(b"hello\n")


# ---- responses -------------------------------------------------------------------------------------------------------


def test_hello_response_round_trips() -> None:
    line = wire.encode_line(wire.hello_response(HELLO))
    assert wire.hello_from_response(wire.check_response("hello", line)) == HELLO


@pytest.mark.parametrize("op", ["reset", "bye"])
def test_ok_response_round_trips(op: str) -> None:
    assert wire.check_response(op, wire.encode_line(wire.ok_response())) == {"ok": True}


@pytest.mark.parametrize("op", ["set_offload", "delete_sa", "update_sa"])
@pytest.mark.parametrize("status", list(NdisStatus))
def test_status_response_round_trips_every_status(op: str, status: NdisStatus) -> None:
    line = wire.encode_line(wire.status_response(status))
    assert wire.status_from_response(op, wire.check_response(op, line)) is status


def test_add_sa_response_round_trips_and_is_put_in_entry_order() -> None:
    results = (
        AddSaResult(sa_id=9, status=NdisStatus.RESOURCES),
        AddSaResult(sa_id=7, status=NdisStatus.SUCCESS, handle=2**64 - 1),
        AddSaResult(sa_id=8, status=NdisStatus.SUCCESS, handle=0),
    )
    obj = wire.check_response("add_sa", wire.encode_line(wire.add_sa_response(results)))
    ordered = wire.add_sa_results_from_response(obj, ENTRIES)
    assert [r.sa_id for r in ordered] == [7, 8, 9]
    assert set(ordered) == set(results)


def test_add_sa_response_missing_a_result_is_a_protocol_error() -> None:
    obj = wire.add_sa_response([AddSaResult(sa_id=7, status=NdisStatus.SUCCESS, handle=1)])
    with pytest.raises(AdapterProtocolError, match=r"missing sa_id \[8, 9\]"):
        wire.add_sa_results_from_response(wire.check_response("add_sa", obj), ENTRIES)


@given(
    st.lists(
        st.builds(
            Indication,
            frame=st.binary(max_size=40),
            info=st.integers(0, 2**64 - 1),
            header_info=st.none()
            | st.builds(HeaderInfo, next_header=st.integers(0, 255), pad_length=st.integers(0, 255)),
        ),
        max_size=3,
    )
)
def test_receive_response_round_trips(indications: list[Indication]) -> None:
    line = wire.encode_line(wire.receive_response(indications))
    assert wire.indications_from_response(wire.check_response("receive", line)) == tuple(indications)


def test_error_response_is_refused_with_the_iut_text() -> None:
    with pytest.raises(AdapterRefused, match="bad hex") as info:
        wire.check_response("receive", wire.encode_line(wire.error_response("bad hex")))
    assert info.value.error == "bad hex"


def test_response_with_unknown_fields_is_accepted() -> None:
    obj = wire.check_response("delete_sa", b'{"ok": true, "status": "SUCCESS", "took_us": 12}\n')
    assert wire.status_from_response("delete_sa", obj) is NdisStatus.SUCCESS


def good_hello() -> dict[str, Any]:
    return wire.hello_response(HELLO)


def without(obj: dict[str, Any], *path: str | int) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    target: Any = out
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return out


def replaced(obj: dict[str, Any], value: Any, *path: str | int) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    target: Any = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


INDICATION = {"ok": True, "indications": [{"frame": "0a0b", "info": 2}]}
ADD_SA = {"ok": True, "results": [{"sa_id": 7, "status": "SUCCESS", "handle": 1}]}

WRONG_SHAPES = [
    ("hello", without(good_hello(), "capabilities"), "capabilities"),
    ("hello", without(good_hello(), "capabilities", "tunnel"), "tunnel"),
    ("hello", replaced(good_hello(), "64", "capabilities", "sa_offload_capacity"), r"\$\.capabilities\.sa_offload"),
    ("hello", replaced(good_hello(), 1, "capabilities", "esp"), r"\$\.capabilities\.esp"),
    ("hello", replaced(good_hello(), -1, "capabilities", "udp_esp"), r"\$\.capabilities\.udp_esp"),
    ("hello", replaced(good_hello(), 2.5, "capabilities", "encapsulation"), r"\$\.capabilities\.encapsulation"),
    ("set_offload", {"ok": True}, "status"),
    ("set_offload", {"ok": True, "status": "OK"}, r"\$\.status"),
    ("delete_sa", {"ok": True, "status": 0}, r"\$\.status"),
    ("add_sa", {"ok": True}, "results"),
    ("add_sa", replaced(ADD_SA, "1", "results", 0, "handle"), r"\$\.results\[0\]\.handle"),
    ("add_sa", replaced(ADD_SA, -1, "results", 0, "handle"), r"\$\.results\[0\]\.handle"),
    ("add_sa", without(ADD_SA, "results", 0, "status"), "status"),
    ("receive", {"ok": True}, "indications"),
    ("receive", replaced(INDICATION, "2", "indications", 0, "info"), r"\$\.indications\[0\]\.info"),
    ("receive", replaced(INDICATION, -2, "indications", 0, "info"), r"\$\.indications\[0\]\.info"),
    ("receive", replaced(INDICATION, 2**64, "indications", 0, "info"), r"\$\.indications\[0\]\.info"),
    ("receive", replaced(INDICATION, "0a0", "indications", 0, "frame"), r"\$\.indications\[0\]\.frame"),
    ("receive", replaced(INDICATION, "0A0B", "indications", 0, "frame"), r"\$\.indications\[0\]\.frame"),
    (
        "receive",
        replaced(INDICATION, {"next_header": 256, "pad_length": 0}, "indications", 0, "header_info"),
        r"header_info\.next_header",
    ),
    ("reset", {"ok": "yes"}, r"\$\.ok"),
    ("reset", {"status": "SUCCESS"}, "ok"),
    ("reset", {"ok": False}, "error"),
]


@pytest.mark.parametrize(("op", "obj", "where"), WRONG_SHAPES)
def test_wrong_shaped_response_is_a_protocol_error_naming_the_field(op: str, obj: dict[str, Any], where: str) -> None:
    with pytest.raises(AdapterProtocolError, match=where):
        wire.check_response(op, json.dumps(obj).encode() + b"\n")


@pytest.mark.parametrize(
    ("line", "what"),
    [
        (b"not json\n", "not JSON"),
        (b"[1, 2]\n", "not an object"),
        (b'{"ok": true, "status": NaN}\n', "not JSON"),
        (b'{"ok": tr', "not JSON"),
        (b"\xff\xfe{}\n", "not UTF-8"),
    ],
)
def test_undecodable_response_is_a_protocol_error(line: bytes, what: str) -> None:
    with pytest.raises(AdapterProtocolError, match=what):
        wire.check_response("set_offload", line)


def test_response_over_the_size_limit_is_a_protocol_error() -> None:
    line = wire.encode_line({"ok": True, "pad": "x" * 100})
    assert wire.check_response("reset", line, max_line=len(line) - 1) == {"ok": True, "pad": "x" * 100}
    with pytest.raises(AdapterProtocolError, match="exceeds the limit of 50"):
        wire.check_response("reset", line, max_line=50)


def test_schema_ships_as_package_data_and_covers_every_op() -> None:
    schema = wire.schema()
    for op in wire.OPS:
        assert f"request_{op}" in schema["$defs"]
        assert f"response_{op}" in schema["$defs"]
    assert "response_error" in schema["$defs"]


def test_schema_top_level_accepts_any_request_or_response() -> None:
    for obj in (wire.add_sa_request(ENTRIES), good_hello(), INDICATION, wire.error_response("x")):
        assert wire.schema_violation(obj, "request") is None or wire.schema_violation(obj, "response") is None
    assert wire.schema_violation({"hello": 1}, "response") is not None
