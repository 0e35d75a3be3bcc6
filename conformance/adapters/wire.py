"""The JSON-lines form of the adapter protocol: one request line out, one response line back.

Both directions live here so that the suite (``exec``, ``trace``) and the small IUT programs in ``tests/`` share one
codec. Every line is checked twice, by two independent readers:

1. the shipped JSON Schema (``conformance/schemas/adapter-protocol-v1.schema.json``), which is what a vendor can run
   against their own program, and
2. the strict ``from_json`` readers of ``reference_model.ndis``, which build the typed values.

A suite-side decoding fault is an ``AdapterProtocolError`` naming the request and the field as a JSON path
(``$.results[0].handle``); ``{"ok": false, "error": ...}`` is an ``AdapterRefused``. An IUT-side decoding fault
(``decode_request``) is a ``WireFormatError``, which an IUT answers with ``error_response``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any, Final, TypeVar

import jsonschema  # type: ignore[import-untyped, unused-ignore]

from conformance.adapters.errors import AdapterProtocolError, AdapterRefused
from reference_model.constants import IpsecV2Setting, NdisStatus
from reference_model.ndis import (
    AddSaEntry,
    AddSaResult,
    Hello,
    Indication,
    UpdateSa,
    WireFormatError,
    read_status,
)

PROTOCOL_VERSION: Final = 1
SCHEMA_RESOURCE: Final = "schemas/adapter-protocol-v1.schema.json"
DEFAULT_MAX_LINE: Final = 16 * 1024 * 1024
"""Longest response line accepted (bytes, without the newline): a larger one is a protocol error, not a memory hog."""

OPS: Final = ("hello", "reset", "set_offload", "add_sa", "delete_sa", "update_sa", "receive", "bye")

JsonObject = dict[str, Any]
T = TypeVar("T")


# --------------------------------------------------------------------------------------------------------------------
# Schema


@cache
def schema() -> JsonObject:
    """The shipped JSON Schema of the wire form (package data of ``conformance``)."""
    text = resources.files("conformance").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    loaded: JsonObject = json.loads(text)
    return loaded


@cache
def _validator(definition: str) -> Any:
    root = schema()
    if definition not in root["$defs"]:
        raise KeyError(f"the adapter protocol schema has no definition {definition!r}")
    sub = {"$schema": root["$schema"], "$defs": root["$defs"], "$ref": f"#/$defs/{definition}"}
    return jsonschema.Draft202012Validator(sub)


def schema_violation(obj: object, definition: str) -> str | None:
    """The most relevant way ``obj`` breaks ``$defs/<definition>`` as ``"<json path>: <what>"``, or None if it fits."""
    validator = _validator(definition)
    error = jsonschema.exceptions.best_match(validator.iter_errors(obj))
    if error is None:
        return None
    return f"{error.json_path}: {error.message[:200]}"


# --------------------------------------------------------------------------------------------------------------------
# Lines


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def encode_line(obj: Mapping[str, Any]) -> bytes:
    """One compact JSON object and a newline; ASCII only, so no byte of it can be mistaken for a line end."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii") + b"\n"


def parse_line(line: bytes | str) -> JsonObject:
    """A line to a JSON object; ``ValueError`` with a reason a person can act on (not UTF-8 or JSON, not an object)."""
    if isinstance(line, bytes):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"line is not UTF-8 (byte {exc.start}): {line[:80]!r}") from None
    else:
        text = line
    text = text.rstrip("\r\n")
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise ValueError(f"line is not JSON ({exc}): {text[:80]!r}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"line is JSON but not an object: {text[:80]!r}")
    return obj


# --------------------------------------------------------------------------------------------------------------------
# Requests (suite side builds them, IUT side decodes them)


def hello_request() -> JsonObject:
    return {"op": "hello", "protocol": PROTOCOL_VERSION}


def reset_request() -> JsonObject:
    return {"op": "reset"}


def set_offload_request(setting: IpsecV2Setting) -> JsonObject:
    return {"op": "set_offload", "ipsec_v2": setting.wire_name}


def add_sa_request(entries: Sequence[AddSaEntry]) -> JsonObject:
    return {"op": "add_sa", "entries": [entry.to_json() for entry in entries]}


def delete_sa_request(sa_id: int) -> JsonObject:
    return {"op": "delete_sa", "sa_id": sa_id}


def update_sa_request(update: UpdateSa) -> JsonObject:
    return update.to_json()


def receive_request(frame: bytes) -> JsonObject:
    return {"op": "receive", "frame": frame.hex()}


def bye_request() -> JsonObject:
    return {"op": "bye"}


def validate_request(obj: object) -> JsonObject:
    """Check a request object against the schema and the typed readers; ``WireFormatError`` names what is wrong."""
    if not isinstance(obj, dict):
        raise WireFormatError(f"request: expected a JSON object, got {type(obj).__name__}")
    op = obj.get("op")
    if op not in OPS:
        raise WireFormatError(f"$.op: unknown or missing op {op!r:.60}")
    problem = schema_violation(obj, f"request_{op}")
    if problem is not None:
        raise WireFormatError(f"{op} request: {problem}")
    # The typed readers check what a schema cannot (addresses, address family against "ipv6").
    if op == "add_sa":
        for i, entry in enumerate(obj["entries"]):
            AddSaEntry.from_json(entry, f"$.entries[{i}]")
    elif op == "update_sa":
        UpdateSa.from_json(obj, "$")
    return obj


def decode_request(line: bytes | str) -> JsonObject:
    """IUT side: one request line, validated. ``WireFormatError`` for anything an IUT must refuse."""
    try:
        obj = parse_line(line)
    except ValueError as exc:
        raise WireFormatError(str(exc)) from None
    return validate_request(obj)


# --------------------------------------------------------------------------------------------------------------------
# Responses: IUT side builds them


def ok_response() -> JsonObject:
    return {"ok": True}


def error_response(error: str) -> JsonObject:
    return {"ok": False, "error": error}


def hello_response(hello: Hello) -> JsonObject:
    return hello.to_json()


def status_response(status: NdisStatus) -> JsonObject:
    return {"ok": True, "status": status.name}


def add_sa_response(results: Sequence[AddSaResult]) -> JsonObject:
    return {"ok": True, "results": [result.to_json() for result in results]}


def receive_response(indications: Sequence[Indication]) -> JsonObject:
    return {"ok": True, "indications": [indication.to_json() for indication in indications]}


# --------------------------------------------------------------------------------------------------------------------
# Responses: suite side checks them


def check_response(op: str, line: bytes | str | Mapping[str, Any], *, max_line: int = DEFAULT_MAX_LINE) -> JsonObject:
    """Validate the answer to one ``op`` request and return it as a JSON object.

    ``line`` is the raw line (checked for size, UTF-8 and JSON) or an already parsed object (a recorded response).
    Raises ``AdapterRefused`` for ``{"ok": false, ...}`` and ``AdapterProtocolError`` for everything malformed.
    """
    if op not in OPS:
        raise ValueError(f"unknown op {op!r}")
    if isinstance(line, Mapping):
        obj = dict(line)
    else:
        size = len(line.rstrip(b"\r\n") if isinstance(line, bytes) else line.rstrip("\r\n").encode("utf-8"))
        if size > max_line:
            raise AdapterProtocolError(f"answer line of {size} bytes exceeds the limit of {max_line}", op=op)
        try:
            obj = parse_line(line)
        except ValueError as exc:
            raise AdapterProtocolError(f"answer {exc}", op=op) from None
    problem = schema_violation(obj, "response_envelope")
    if problem is not None:
        raise AdapterProtocolError(f"answer is not a response: {problem}", op=op)
    if obj["ok"] is False:
        problem = schema_violation(obj, "response_error")
        if problem is not None:
            raise AdapterProtocolError(f'answer {{"ok": false}} is malformed: {problem}', op=op)
        raise AdapterRefused(obj["error"], op=op)
    problem = schema_violation(obj, f"response_{op}")
    if problem is not None:
        raise AdapterProtocolError(f"wrong shape: {problem}", op=op)
    return obj


def _typed(op: str, build: Callable[..., T], *args: Any) -> T:
    try:
        value = build(*args)
    except (WireFormatError, ValueError, TypeError) as exc:
        raise AdapterProtocolError(f"wrong value: {exc}", op=op) from None
    return value


def hello_from_response(obj: Mapping[str, Any]) -> Hello:
    return _typed("hello", Hello.from_json, obj, "$")


def status_from_response(op: str, obj: Mapping[str, Any]) -> NdisStatus:
    return _typed(op, read_status, obj, "status", "$")


def add_sa_results_from_response(obj: Mapping[str, Any], entries: Sequence[AddSaEntry]) -> tuple[AddSaResult, ...]:
    """The results in the order of ``entries``: each entry's ``sa_id`` must get exactly one result (any order)."""
    results: list[AddSaResult] = [
        _typed("add_sa", AddSaResult.from_json, item, f"$.results[{i}]") for i, item in enumerate(obj["results"])
    ]
    wanted = Counter(entry.sa_id for entry in entries)
    got = Counter(result.sa_id for result in results)
    if wanted != got:
        missing = sorted((wanted - got).elements())
        extra = sorted((got - wanted).elements())
        raise AdapterProtocolError(
            f"$.results: every entry needs exactly one result; missing sa_id {missing}, unexpected sa_id {extra}",
            op="add_sa",
        )
    ordered: list[AddSaResult] = []
    pool = list(results)
    for entry in entries:
        index = next(i for i, result in enumerate(pool) if result.sa_id == entry.sa_id)
        ordered.append(pool.pop(index))
    return tuple(ordered)


def indications_from_response(obj: Mapping[str, Any]) -> tuple[Indication, ...]:
    return tuple(
        _typed("receive", Indication.from_json, item, f"$.indications[{i}]")
        for i, item in enumerate(obj["indications"])
    )
