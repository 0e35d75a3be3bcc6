"""The results-record schema (reports/records.py) and the receive-info decoding the reports do on their own."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from reports.records import (
    RECORD_SCHEMA_FILE,
    Check,
    ClauseCatalogue,
    ClauseInfo,
    Finding,
    RecordFormatError,
    Verdict,
    dumps,
    load_schema,
    loads,
    parse_results,
    read_results,
    worst,
)
from reports.rxinfo import crypto_status_name, decode_info

FIXTURES = Path(__file__).parent / "fixtures"


def test_every_fixture_line_validates_against_the_shipped_schema() -> None:
    validator = jsonschema.Draft202012Validator(load_schema(RECORD_SCHEMA_FILE))
    lines = 0
    for path in sorted(FIXTURES.glob("results-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue  # the deliberately truncated last line of results-interrupted.jsonl
            validator.validate(obj)
            lines += 1
    assert lines > 40


def test_records_round_trip_through_one_line() -> None:
    for path in sorted(FIXTURES.glob("results-*.jsonl")):
        for record in read_results(path).records:
            line = dumps(record)
            assert "\n" not in line
            assert loads(line) == record


def test_bad_lines_are_skipped_with_a_warning_not_an_exception() -> None:
    good = dumps(Check(clause="RX-INDICATE-ALL", verdict=Verdict.PASS, count=1, test_id="t"))
    bad_type = json.dumps({"type": "nope", "schema": 1})
    bad_verdict = good.replace('"PASS"', '"MAYBE"')
    result = parse_results([good, bad_type, bad_verdict, good[:20]])
    assert len(result.records) == 1
    assert len(result.warnings) == 3
    assert "truncated" in result.warnings[-1]
    assert "MAYBE" in result.warnings[1]


def test_finding_rejects_a_slot_value_wider_than_64_bits() -> None:
    finding = Finding(
        clause="RX-RESERVED-ZERO",
        level="MUST",
        verdict=Verdict.FAIL,
        message="m",
        expected={},
        observed={},
        test_id="t",
        observed_info=2**64,
    )
    with pytest.raises(RecordFormatError, match="observed_info"):
        loads(dumps(finding))


def test_worst_verdict_wins_in_the_order_of_the_architecture() -> None:
    assert worst([Verdict.PASS, Verdict.UNSUPPORTED]) is Verdict.UNSUPPORTED
    assert worst([Verdict.PASS, Verdict.NON_STRICT, Verdict.UNSUPPORTED]) is Verdict.NON_STRICT
    assert worst([Verdict.NON_STRICT, Verdict.FAIL]) is Verdict.FAIL
    assert worst([Verdict.FAIL, Verdict.ERROR]) is Verdict.ERROR
    assert worst([]) is None


@pytest.mark.clause("OOB-02")
def test_receive_info_decoding_follows_the_oob02_masks() -> None:
    info = decode_info(0x0003_0000 | 0x2 | 0x1 | 0x4 | (0x5 << 3) | (0x1 << 32))
    assert info.fields() == {
        "SaDeleteReq": 1,
        "CryptoDone": 1,
        "NextCryptoDone": 1,
        "Reserved": 5,
        "CryptoStatus": 3,
        "HighBits": 1,
    }
    assert "CryptoStatus=CRYPTO_TRANSPORT_ESP_AUTH_FAILED" in info.describe()
    assert "Reserved=0x5" in info.describe()


@pytest.mark.clause("OOB-03")
def test_crypto_status_names_follow_oob03_and_say_when_undefined() -> None:
    assert crypto_status_name(0) == "CRYPTO_SUCCESS"
    assert crypto_status_name(6) == "CRYPTO_INVALID_PACKET_SYNTAX"
    assert crypto_status_name(7) == "CRYPTO_INVALID_PROTOCOL"
    assert crypto_status_name(8) == "undefined CryptoStatus 8"


def test_clause_info_scope_is_optional_and_checked() -> None:
    """``scope`` is additive: a catalogue written before it existed loads with ``scope=None`` (treated as testable)."""
    old = (
        '{"type":"clause_catalogue","schema":1,'
        '"clauses":[{"id":"RX-INDICATE-ALL","level":"MUST","section":"3","summary":"s"}]}'
    )
    record = loads(old)
    assert isinstance(record, ClauseCatalogue)
    assert record.clauses[0].scope is None
    assert record.clauses[0].observable
    assert dumps(record) == dumps(loads(dumps(record)))
    assert '"scope"' not in dumps(record)  # an old record is written back unchanged
    new = ClauseCatalogue(
        clauses=(
            ClauseInfo(
                id="TX-LSO-CAP",
                level="DERIVED",
                section="6 Send path",
                summary="s",
                scope="not-observable",
                scope_reason="send path",
            ),
        )
    )
    line = dumps(new)
    jsonschema.Draft202012Validator(load_schema(RECORD_SCHEMA_FILE)).validate(json.loads(line))
    assert loads(line) == new
    assert not new.clauses[0].observable
    with pytest.raises(RecordFormatError, match="unknown scope"):
        loads(line.replace('"not-observable"', '"maybe"'))
