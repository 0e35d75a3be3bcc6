"""The clause registry (``reference_model.clauses``): contents, lookup, drift against the spec, and citations in code.

The registry is generated from the spec by ``tools/extract_clauses.py``; these tests make sure the committed JSON is
what the current spec yields, that the extractor read the spec's strengths correctly (spot checks against the spec
text), and that every clause ID the code cites is one the spec defines.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from reference_model.clauses import (
    NOT_OBSERVABLE,
    PREFIXES,
    Clause,
    ClauseLevel,
    ClauseScope,
    UnknownClauseError,
    all_clauses,
    clause,
    clause_ids,
    is_clause,
    scope_of,
    section_heading,
    section_of,
    section_title,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
SCANNED_PACKAGES = ("reference_model", "strategies", "conformance", "reports")
SCANNED_SUFFIXES = {".py", ".toml", ".json", ".md", ".html", ".txt", ".j2", ".css", ".js"}
CITATION_RE = re.compile(r"(?<![-\w])(?:RX|OOB|CAP|SA|TX|IETF|AMB)-[A-Z0-9]+(?:-[A-Z0-9]+)*(?![-*{\w])")
SPEC_LEVELS = {ClauseLevel.MUST, ClauseLevel.SHOULD, ClauseLevel.MAY, ClauseLevel.V1_INHERITED, ClauseLevel.DERIVED}


def _extractor() -> ModuleType:
    """Load ``tools/extract_clauses.py`` (a script, not a package) as a module."""
    path = REPO_ROOT / "tools" / "extract_clauses.py"
    spec = importlib.util.spec_from_file_location("extract_clauses", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("extract_clauses", module)
    spec.loader.exec_module(module)
    return module


def _spec_text(shared_dir: Path | None) -> str:
    if shared_dir is None or not (shared_dir / "spec" / "ipsec-offload-v2.md").is_file():
        pytest.skip("shared/spec/ipsec-offload-v2.md not found beside the clone (set IPSECOV2_SHARED)")
    return (shared_dir / "spec" / "ipsec-offload-v2.md").read_text(encoding="utf-8")


def test_registry_loads_every_prefix_with_unique_ids() -> None:
    clauses = all_clauses()
    ids = [c.id for c in clauses]
    assert len(ids) >= 100
    assert len(ids) == len(set(ids))
    assert {c.prefix for c in clauses} == set(PREFIXES)
    assert clause_ids() == frozenset(ids)
    for c in clauses:
        assert isinstance(c, Clause)
        assert c.summary
        assert "\n" not in c.summary
        assert len(c.summary) <= 160
        assert re.fullmatch(r"\d+(\.\d+)*", c.section), c


def test_registry_levels_follow_prefix_rules() -> None:
    for c in all_clauses():
        if c.prefix == "IETF":
            assert c.level is ClauseLevel.IETF, c
        elif c.prefix == "AMB":
            assert c.level is ClauseLevel.READING, c
        elif c.prefix == "TX":
            assert c.level is ClauseLevel.SUMMARY, c
        else:
            assert c.level in SPEC_LEVELS, c


@pytest.mark.parametrize(
    ("clause_id", "level", "section"),
    [
        ("RX-INDICATE-ALL", ClauseLevel.MUST, "3.2"),
        ("RX-FAIL-INDICATE-WITH-STATUS", ClauseLevel.V1_INHERITED, "3.2"),
        ("RX-SA-INBOUND-ONLY", ClauseLevel.DERIVED, "3.2"),
        ("RX-SADELETEREQ", ClauseLevel.MAY, "3.2"),
        ("RX-CRYPTOSTATUS-SUCCESS-NOT-DECRYPTED", ClauseLevel.V1_INHERITED, "3.2"),
        ("RX-CAPS-IPV4-OPTIONS", ClauseLevel.MUST, "3.2"),
        ("RX-CAPS-ENCAP", ClauseLevel.DERIVED, "3.2"),
        ("CAP-OFFLOAD-PARAMS-INVALID", ClauseLevel.SHOULD, "4.5"),
        ("CAP-02", ClauseLevel.MUST, "4.2"),
        ("OOB-03", ClauseLevel.MUST, "2"),
        ("SA-CAPACITY", ClauseLevel.MUST, "5.6"),
        ("SA-ADD-FAIL-ALLOWED", ClauseLevel.MAY, "5.6"),
        ("TX-LSO-CAP", ClauseLevel.SUMMARY, "6"),
        ("IETF-GCM", ClauseLevel.IETF, "7.3"),
        ("AMB-25", ClauseLevel.READING, "8"),
    ],
)
def test_clause_lookup_matches_spec_strength(clause_id: str, level: ClauseLevel, section: str) -> None:
    assert clause(clause_id).level is level
    assert section_of(clause_id) == section
    assert is_clause(clause_id)


def test_clause_sources_expand_spec_abbreviations() -> None:
    # Spec: "Source: MS-SAM, MS-OID-ADD/ADDEX/DEL/UPD, MS-INTRO."
    assert clause("SA-DIRECT-OID").sources == (
        "MS-SAM",
        "MS-OID-ADD",
        "MS-OID-ADDEX",
        "MS-OID-DEL",
        "MS-OID-UPD",
        "MS-INTRO",
    )
    assert clause("IETF-HMAC").sources == ("RFC 2403", "RFC 2404", "RFC 4868")


def test_clause_caps_rows_name_their_parent() -> None:
    rows = [c for c in all_clauses() if c.id.startswith("RX-CAPS-") and c.id != "RX-CAPS-CHECK"]
    assert len(rows) == 13
    assert all(c.parent == "RX-CAPS-CHECK" for c in rows)
    assert clause("RX-CAPS-CHECK").parent is None


def test_clause_unknown_id_raises_keyerror_with_suggestions() -> None:
    with pytest.raises(KeyError) as info:
        clause("RX-NO-SA-NO-OB")
    assert isinstance(info.value, UnknownClauseError)
    assert "RX-NO-SA-NO-OOB" in info.value.suggestions
    assert "did you mean RX-NO-SA-NO-OOB" in str(info.value)
    assert not is_clause("RX-NO-SA-NO-OB")


def test_clauses_json_matches_fresh_extraction_of_spec(shared_dir: Path | None) -> None:
    """Drift check: rerun ``python tools/extract_clauses.py`` after editing the spec, and commit the JSON."""
    text = _spec_text(shared_dir)
    tool = _extractor()
    fresh = tool.render(tool.extract(text), "ipsec-offload-v2.md", tool.section_titles(text))
    committed = (REPO_ROOT / "reference_model" / "clauses.json").read_text(encoding="utf-8")
    assert committed == fresh, "reference_model/clauses.json is stale: run python tools/extract_clauses.py"


def test_spec_clause_references_all_resolve(shared_dir: Path | None) -> None:
    text = _spec_text(shared_dir)
    tool = _extractor()
    assert tool.undefined_references(text, clause_ids()) == []


def test_extractor_rejects_duplicate_definitions() -> None:
    tool = _extractor()
    para = "**RX-X** — A rule.\n- Strength: MUST. Source: none.\n\n"
    with pytest.raises(ValueError, match="defined twice"):
        tool.extract("## 3. Receive\n\n" + para + para)


def test_clause_ids_cited_in_code_exist() -> None:
    known = clause_ids()
    unknown: list[str] = []
    for package in SCANNED_PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*")):
            if path.suffix not in SCANNED_SUFFIXES or not path.is_file() or path.name == "clauses.json":
                continue
            for lineno, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                unknown.extend(
                    f"{path.relative_to(REPO_ROOT)}:{lineno}: {m.group(0)}"
                    for m in CITATION_RE.finditer(line)
                    if m.group(0) not in known
                )
    assert unknown == [], "clause IDs cited in code but not defined in the spec:\n" + "\n".join(unknown)


def test_citation_scanner_finds_ids_and_skips_wildcards() -> None:
    text = 'cite("RX-INDICATE-ALL"), RX-CAPS-*, f"RX-CAPS-{row}", AMB-*, X-SA-FOO, "AMB-05".'
    assert [m.group(0) for m in CITATION_RE.finditer(text)] == ["RX-INDICATE-ALL", "AMB-05"]


@pytest.mark.parametrize(
    ("section", "title"),
    [
        ("2", "OOB data layouts"),
        ("3.2", "Receive path: clauses"),
        ("4.2", "Capability reporting and configuration: flag values"),
        ("4.5", "Capability reporting and configuration: clauses"),
        ("5.6", "SA management: clauses"),
        ("6", "Send path and LSO (summary)"),
        ("7.1", "IETF: ESP"),
        ("7.4", "IETF: UDP encapsulation and tunnel mode"),
        ("8", "Ambiguities and interpretation choices"),
    ],
)
def test_section_title_names_the_spec_heading(section: str, title: str) -> None:
    assert section_title(section) == title
    assert section_heading(section) == f"{section} {title}"


def test_section_titles_cover_every_clause_section_in_spec_order() -> None:
    order: list[str] = []
    for c in all_clauses():
        if c.section not in order:
            order.append(c.section)
        assert section_title(c.section)
    # Spec order is numeric (2 < 3.2 < ... < 7.4 < 8), never the string order of the labels.
    assert order == sorted(order, key=lambda s: tuple(int(x) for x in s.split(".")))
    with pytest.raises(KeyError, match="holds no clause"):
        section_title("9.1")


def test_extractor_section_titles_strip_prefix_hints_and_name_the_chapter() -> None:
    tool = _extractor()
    spec = (
        "## 6. Send path and LSO (summary, TX-*)\n"
        "## 7. IETF facts for building and checking test packets (IETF-*)\n"
        "### 7.1 ESP (RFC 4303)\n### 7.3 Algorithms\n"
        "## 4. Capability reporting (CAP-*)\n### 4.2 CAP-02 Flag values\n"
    )
    assert tool.section_titles(spec) == {
        "6": "Send path and LSO (summary)",
        "7": "IETF facts for building and checking test packets",
        "7.1": "IETF: ESP",
        "7.3": "IETF: algorithms",
        "4": "Capability reporting",
        "4.2": "Capability reporting: flag values",
    }


def _cited_clause_literals() -> dict[str, list[str]]:
    """Clause IDs that ``reference_model/`` and ``conformance/`` use as whole string literals: what a constraint, a
    request judgement or a finding can carry (docstrings and comments are sentences and never match whole)."""
    known = clause_ids()
    cited: dict[str, list[str]] = {}
    for package in ("reference_model", "conformance"):
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            if path.name == "clauses.py" and path.parent.name == "reference_model":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in known:
                    cited.setdefault(node.value, []).append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
    return cited


def test_clause_scope_testable_exactly_when_the_code_cites_the_clause() -> None:
    cited = _cited_clause_literals()
    testable = {c.id for c in all_clauses() if scope_of(c.id).kind is ClauseScope.TESTABLE}
    cited_but_not_observable = {i: cited[i] for i in sorted(set(cited) - testable)}
    assert cited_but_not_observable == {}, "cited by a check, so testable: remove from NOT_OBSERVABLE"
    assert sorted(testable - set(cited)) == [], "no check cites these: add them to NOT_OBSERVABLE with a reason"
    # The receive path is the suite's subject: all RX-* but the write-order clause are testable.
    rx = {c.id for c in all_clauses() if c.prefix == "RX"}
    assert rx - testable == {"RX-OOB-BEFORE-INDICATE"}


def test_clause_scope_groups_name_defined_clauses_once_with_a_reason() -> None:
    seen: list[str] = []
    for reason, patterns in NOT_OBSERVABLE:
        assert reason
        assert "\n" not in reason
        assert len(reason) <= 160
        for pattern in patterns:
            matched = [
                c.id for c in all_clauses() if c.id == pattern or (pattern.endswith("-*") and c.prefix == pattern[:-2])
            ]
            assert matched, pattern
            seen += matched
    assert len(seen) == len(set(seen)), "a clause sits in two scope groups"
    assert scope_of("TX-LSO-CAP").kind is ClauseScope.NOT_OBSERVABLE
    assert scope_of("AMB-07").kind is ClauseScope.TESTABLE
    assert "send path" in scope_of("TX-HANDLES").reason
    with pytest.raises(UnknownClauseError):
        scope_of("RX-NOPE")
