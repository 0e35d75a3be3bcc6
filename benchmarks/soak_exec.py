"""Soak: 10,000 receive requests through ``exec`` against a child that misbehaves on 1% of them at random.

``python -m benchmarks.soak_exec [--requests N] [--rate P] [--seed S] [--timeout T] [--out DIR]``

The child is ``tests/iut_programs/misbehaving/nic.py random --rate P``: the reference NIC, which on each receive
with probability P does one of its faults (exit, hang, late answer, non-JSON, wrong shape, negative/huge integer,
odd hex, two answers, a 50 MB line, a stderr flood then exit). The soak drives it the way the suite does (the
driver judges every answer against the reference model), writes one results record per request (a ``check`` when
the answer was judged, an ``error`` when the adapter broke), and prints how many findings, ERRORs and restarts there
were. It then checks that the results file holds exactly one record per request and that no child outlived it.

Not a test: it takes about a minute, and its wall-clock numbers vary between machines (never asserted).
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from conformance.adapters.exec_adapter import ExecAdapter
from conformance.driver import LiveScenario, ScenarioDriver
from conformance.steps import AddSaStep, ReceiveStep
from reference_model.algorithms import ENCRYPTION
from reference_model.constants import EncryptionAlgorithm, IpProtocol, Operation
from reference_model.ndis import AddSaEntry, EncryptionSpec, SecAssoc
from reference_model.packets import Datagram, EspLayer, EthernetHeader, Frame, Ipv4Header, Upper
from reference_model.profile import load_profile
from reference_model.wire.frame import encode_frame
from reports.records import Check, ErrorRecord, ResultsWriter, Verdict, read_results

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "tests" / "iut_programs" / "misbehaving" / "nic.py"
SRC, DST = ipaddress.IPv4Address("198.51.100.1"), ipaddress.IPv4Address("198.51.100.2")
SA = SecAssoc(
    operation=Operation.ESP,
    spi=0x1234,
    encryption=EncryptionSpec(
        algorithm=EncryptionAlgorithm.AES_GCM_128, key=bytes(range(16)), salt=b"\x01\x02\x03\x04", icv_length=16
    ),
)
ENTRY = AddSaEntry(sa_id=1, inbound=True, ipv6=False, src=SRC, dst=DST, sec_assoc=(SA,))


def frames(count: int) -> list[bytes]:
    """``count`` valid ESP transport frames on ENTRY with sequence numbers 1..count and different payloads."""
    assert SA.encryption is not None
    iv = bytes(ENCRYPTION[SA.encryption.algorithm].iv_length)
    out = []
    for seq in range(1, count + 1):
        datagram = Datagram(
            ip=Ipv4Header(src=SRC, dst=DST),
            esp=EspLayer(sec_assoc=SA, seq=seq, iv=iv),
            payload=Upper(protocol=IpProtocol.UDP, data=seq.to_bytes(4, "big") * 8),
        )
        out.append(encode_frame(Frame(ethernet=EthernetHeader(), datagram=datagram)))
    return out


def alive(pid: int) -> bool:
    stat = Path("/proc") / str(pid) / "stat"
    try:
        text = stat.read_text()
    except OSError:
        return False
    return text[text.rindex(")") + 2 :].split()[0] not in ("Z", "X")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1.0, help="per-request timeout (s); `late` waits twice it")
    parser.add_argument("--out", default=None, help="directory for results.jsonl and the child log (default: temp)")
    args = parser.parse_args(argv)
    out = Path(args.out or tempfile.mkdtemp(prefix="soak-exec-"))
    out.mkdir(parents=True, exist_ok=True)
    log = out / "nic.log"
    log.unlink(missing_ok=True)
    results = out / "results.jsonl"
    argv_child = [sys.executable, str(PROGRAM), "random", "--rate", str(args.rate), "--seed", str(args.seed)]
    argv_child += ["--log", str(log), "--delay", str(2 * args.timeout)]
    pool = frames(64)

    adapter = ExecAdapter(argv_child, timeout=args.timeout)
    hello = adapter.hello()
    driver = ScenarioDriver(adapter, hello.capabilities, load_profile(None))
    verdicts: Counter[str] = Counter()
    findings = 0
    started = time.monotonic()
    live: LiveScenario | None = None
    with results.open("w", encoding="utf-8") as stream:
        writer = ResultsWriter(stream)
        for i in range(args.requests):
            test_id = f"soak#{i}"
            if live is None:  # after a fault: a new scenario (reset, add the SA) on the restarted child
                live = driver.begin()
                live.step(AddSaStep(entries=(ENTRY,)))
            seen = len(live.outcome.findings)
            if not live.closed and live.step(ReceiveStep(frame=pool[i % len(pool)], note=f"soak frame {i}")):
                new = live.outcome.findings[seen:]
                findings += len(new)
                worst = max((f.verdict.value for f in new), default="PASS", key=_severity)
                clause = new[0].clause if new else "RX-INDICATE-ALL"
                writer.write(Check(clause=clause, verdict=Verdict(worst), count=1, test_id=test_id))
                verdicts[worst] += 1
            else:
                error = live.outcome.error
                message = error.message if error is not None else "the scenario had already ended"
                writer.write(ErrorRecord(message=message, test_id=test_id, kind="adapter"))
                verdicts["ERROR"] += 1
                live = None
    elapsed = time.monotonic() - started
    restarts = adapter.restarts
    adapter.close()

    records = read_results(results).records
    ids = [str(getattr(r, "test_id", "")) for r in records]
    one_each = len(records) == args.requests and sorted(ids) == sorted(f"soak#{i}" for i in range(args.requests))
    faults = Counter(line.split()[2] for line in log.read_text().splitlines() if line.startswith("misbehave "))
    pids = [int(line.split()[1]) for line in log.read_text().splitlines() if line.startswith("start ")]
    left = [pid for pid in pids if alive(pid)]
    print(f"requests                 {args.requests}")
    print(
        f"faults injected          {sum(faults.values())}  ({', '.join(f'{m} {n}' for m, n in sorted(faults.items()))})"
    )
    print(f"records in results file  {len(records)}  (exactly one per request: {'yes' if one_each else 'NO'})")
    print(f"verdicts                 {dict(sorted(verdicts.items()))}")
    print(f"findings (not PASS)      {findings}")
    print(f"ERRORs                   {verdicts['ERROR']}")
    print(f"restarts                 {restarts}  (children started: {len(pids)})")
    print(f"children left running    {len(left)}")
    print(f"elapsed                  {elapsed:.1f} s  ({args.requests / elapsed:.0f} requests/s)")
    print(f"results                  {results}")
    return 0 if one_each and not left else 1


def _severity(verdict: str) -> int:
    return Verdict(verdict).severity


if __name__ == "__main__":
    raise SystemExit(main())
