"""``ipsecov2-conformance judge``: judge recorded responses of a vector pack offline.

``judge PACK/ [RESPONSES.jsonl] --out DIR`` (RESPONSES defaults to ``PACK/responses.jsonl``; ``--responses FILE``
is the same, as the pack's README spells it) writes the same report as a live ``run``: ``results.jsonl``, every report
of ``reports.build``, the clause table on stdout, exit 0 (conformant), 1 (a MUST clause failed), 2 (an error).

How: the scenarios are rebuilt from ``requests.jsonl`` alone (split at each ``reset``, each request turned back into
the driver step that sends it: ``conformance.trace_scenarios``), and played through the same ``ScenarioDriver`` and
``IutSession`` as a live run, with a ``ReplayAdapter`` as the IUT: every request the driver makes must be the next
recorded one, and every recorded answer goes through the same checks as a live answer. ``scenarios.json``, if the
pack has it, only names the scenarios' families in the results (``trace::matching``...) and describes the frames.

Input problems, decided here:
- a missing or damaged pack file, or a responses file with fewer (or more) lines than the pack has requests, is one
  line naming the file and what is wrong, exit 2, and no report: a cut-off recording is not a result, and judging its
  first part would present a partial run as if it were whole (the hostile-input requirement says the same);
- one response line that is not a valid answer (not JSON, wrong shape, ``"ok": false``) is an ERROR finding for its
  scenario only, exactly as the same answer from a live IUT; the other scenarios are judged and the report written.
- an unusable ``hello`` answer (line 1) is one line, exit 2, like ``run`` when ``hello`` fails.

One thing a pack cannot do: answer an ``SaDeleteReq`` the reference NIC did not raise (the rig's requests are fixed).
Such requests are noted in the scenario's step log instead of being sent (SA-DELETE-REQ-TWO-OIDS cannot be exercised
offline beyond what the pack foresaw); frames on such an SA are still judged (SA-NO-SELF-DELETE).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from conformance.adapters.trace import RESPONSES_FILE, ReplayAdapter
from conformance.commands import UserError
from conformance.driver import ScenarioDriver, ScenarioOutcome
from conformance.steps import Step

NAME = "judge"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(NAME, help="judge recorded responses of a vector pack offline")
    parser.add_argument("pack", metavar="PACK", help="pack directory (written by 'export')")
    parser.add_argument(
        "responses", nargs="?", default=None, metavar="RESPONSES", help="responses file (default PACK/responses.jsonl)"
    )
    parser.add_argument("--responses", dest="responses_option", default=None, metavar="FILE", help="same as RESPONSES")
    parser.add_argument("--out", default="conformance-report", metavar="DIR", help="report directory")
    parser.add_argument("--interpretation", default=None, metavar="TOML", help="interpretation profile (AMB-*)")
    return parser


class PackDriver(ScenarioDriver):
    """The driver for a replayed pack: each scenario starts at its recorded ``reset``, whatever the previous one did.

    After an adapter error a live scenario stops early; its remaining recorded requests are skipped here, so one bad
    answer costs one scenario, not every one after it. ``SaDeleteReq`` answers the pack does not hold are not sent.
    """

    def __init__(self, replay: ReplayAdapter, *args: Any) -> None:
        super().__init__(replay, *args)
        self.replay = replay
        self.start = 0

    def run(self, steps: Sequence[Step]) -> ScenarioOutcome:
        self.replay.position = self.start
        live = self.begin()
        for step in steps:
            if not live.step(step):
                break
        for sa_id in live.delete_requests:
            live.outcome.log.append(
                f"SaDeleteReq for sa_id={sa_id} not answered: the pack holds no DELETE_SA for it (offline replay)"
            )
        live.delete_requests.clear()
        return live.end()


def _responses_path(args: argparse.Namespace, pack_dir: Path) -> Path:
    given = [p for p in (args.responses, args.responses_option) if p is not None]
    if len(given) == 2 and given[0] != given[1]:
        raise UserError(f"two responses files given ({given[0]} and {given[1]}); give one")
    return Path(given[0]) if given else pack_dir / RESPONSES_FILE


def response_lines(path: Path, expected: int) -> list[bytes]:
    """The raw lines of a responses file, one per request; ``UserError`` naming the file if the count is wrong.

    Lines are not parsed here: a bad line is the business of the request it answers (an ERROR finding).
    A cut-off last line (no newline, not JSON) is reported as truncation, because that is what it almost always is.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: responses file missing") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror or exc})") from None
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if lines and not data.endswith(b"\n"):
        try:
            json.loads(lines[-1])
        except ValueError:
            raise UserError(
                f"{path}:{len(lines)}: truncated (the last line is cut off: no newline, not JSON)"
            ) from None
    if len(lines) < expected:
        raise UserError(
            f"{path}: truncated: {len(lines)} response lines for {expected} requests "
            f"(no answer from request line {len(lines) + 1} on)"
        )
    if len(lines) > expected:
        raise UserError(f"{path}: {len(lines)} response lines for {expected} requests (line {expected + 1} answers "
                        "no request)")
    return lines


def _pack_meta(pack_dir: Path) -> Mapping[str, Any]:
    """``scenarios.json`` if present and readable, else {} (it only labels results; a warning if damaged)."""
    from conformance.commands.export import SCENARIOS_FILE

    path = pack_dir / SCENARIOS_FILE
    if not path.exists():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"ipsecov2-conformance: warning: {path}: ignored ({exc})", file=sys.stderr)
        return {}
    return meta if isinstance(meta, dict) else {}


def _labels(meta: Mapping[str, Any]) -> tuple[dict[int, str], dict[int, str]]:
    """Test ids keyed by a scenario's reset line, frame notes keyed by receive line (1-based)."""
    ids: dict[int, str] = {}
    notes: dict[int, str] = {}
    entries = meta.get("scenarios")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        first, test_id = entry.get("first_line"), entry.get("test_id")
        if isinstance(first, int) and isinstance(test_id, str):
            ids[first] = test_id
    raw_notes = meta.get("notes")
    if isinstance(raw_notes, dict):
        for key, value in raw_notes.items():
            if isinstance(key, str) and key.isdigit() and isinstance(value, str):
                notes[int(key)] = value
    return ids, notes


def run(args: argparse.Namespace) -> int:
    from conformance.adapters.errors import AdapterError
    from conformance.adapters.trace import PackError, read_pack
    from conformance.commands.run import clause_table, print_table
    from conformance.failures import ClauseViolation
    from conformance.session import IutSession, SessionConfig
    from conformance.trace_scenarios import PackFormatError, rebuild_scenarios
    from reference_model.ndis import Capabilities, Hello, WireFormatError
    from reference_model.profile import ProfileError, load_profile
    from reports.records import ResultsWriter

    started = time.monotonic()
    pack_dir = Path(args.pack)
    if not pack_dir.is_dir():
        raise UserError(f"{pack_dir}: no such pack directory")
    responses_path = _responses_path(args, pack_dir)
    try:
        text = Path(args.interpretation).read_text(encoding="utf-8") if args.interpretation else None
        profile = load_profile(text)
    except OSError as exc:
        raise UserError(f"--interpretation {args.interpretation}: {exc.strerror or exc}") from None
    except ProfileError as exc:
        raise UserError(f"--interpretation {args.interpretation}: {exc}") from None
    try:
        pack = read_pack(pack_dir)
    except PackError as exc:
        raise UserError(str(exc)) from None
    if not pack.requests:
        raise UserError(f"{pack_dir / 'requests.jsonl'}: empty (no requests)")
    meta = _pack_meta(pack_dir)
    test_ids, notes = _labels(meta)
    try:
        scenarios = rebuild_scenarios(pack.requests, test_ids=test_ids, notes=notes)
    except PackFormatError as exc:
        raise UserError(f"{pack_dir / 'requests.jsonl'}: {exc}") from None
    lines = response_lines(responses_path, len(pack.requests))
    replay = ReplayAdapter(pack.requests, lines, source=str(responses_path))

    pack_caps: Capabilities | None = None
    if isinstance(meta.get("capabilities"), dict):
        try:
            pack_caps = Capabilities.from_json(meta["capabilities"])
        except WireFormatError:
            pack_caps = None
    if pack.requests[0].get("op") == "hello":
        try:
            hello = replay.hello()
        except AdapterError as exc:
            raise UserError(f"hello failed: {exc}") from None
        if pack_caps is not None and hello.capabilities != pack_caps:
            print(
                "ipsecov2-conformance: warning: the recorded hello reports other capabilities than the pack was "
                "exported for; judging against what the IUT reported",
                file=sys.stderr,
            )
    elif pack_caps is not None:
        hello = Hello(name="trace", version="unknown", capabilities=pack_caps)
    else:
        raise UserError(f"{pack_dir}: no hello request and no capabilities in scenarios.json: nothing to judge against")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("results.jsonl*"):
        stale.unlink()
    results = out / "results.jsonl"
    command = ["ipsecov2-conformance", "judge", str(pack_dir), str(responses_path), "--out", str(out)]
    if args.interpretation:
        command += ["--interpretation", args.interpretation]
    with results.open("w", encoding="utf-8") as stream:
        seed = meta.get("seed")
        config = SessionConfig(
            iut_spec=f"trace:{pack_dir}",
            seed=seed if isinstance(seed, int) else None,
            interpretation_path=args.interpretation,
            command=tuple(command),
        )
        session = IutSession(
            config,
            replay,
            hello,
            profile,
            ResultsWriter(stream),
        )
        driver = PackDriver(replay, hello.capabilities, profile)
        session.driver = driver
        session.start()
        for scenario in scenarios:
            driver.start = scenario.start
            with contextlib.suppress(ClauseViolation):  # recorded by the session; the next scenario goes on
                session.check(scenario.steps, test_id=scenario.test_id)
        replay.position = scenarios[-1].stop if scenarios else replay.position
        replay.close()
        session.finish()
    print(
        f"ipsecov2-conformance: judged {hello.name} {hello.version} from {responses_path}: {session.scenarios} "
        f"scenarios, {session.frames_judged} frames in {time.monotonic() - started:.1f}s",
        file=sys.stderr,
    )
    rows, code = clause_table(results)
    print_table(rows)
    try:
        from reports.build import build_reports

        build_reports(results, out)
    except Exception as exc:  # the results file is the record; a report bug must not hide the verdict
        print(f"ipsecov2-conformance: building reports failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = max(code, 2)
    verdict = {0: "CONFORMANT", 1: "NOT CONFORMANT (FAIL)", 2: "INCOMPLETE (ERROR)"}[code]
    print(f"\n{verdict}: reports in {out}/ (index.html, report.json, junit.xml, summary.md, failures.pcapng)")
    return code
