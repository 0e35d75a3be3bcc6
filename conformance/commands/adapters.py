"""``ipsecov2-conformance adapters``: list the adapters (IUTs) found through entry points, with what they report.

Every installed adapter that can be created without an argument is asked ``hello`` and its capabilities are shown;
an adapter that needs an argument (``exec``), fails to load or fails to answer gets its error on its own row — one
broken third-party adapter must not hide the others, so errors here never change the exit status. ``--iut`` asks
specific adapters, with arguments, instead.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from conformance.adapters.errors import AdapterError, AdapterLoadError
from conformance.adapters.exec_adapter import TIMEOUT_ENV
from conformance.adapters.loading import installed_adapters, load_adapter, parse_spec
from conformance.commands import UserError
from reference_model.ndis import Capabilities

NAME = "adapters"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME,
        help="list the adapters (IUTs) found through entry points and the capabilities they report",
        description=__doc__,
    )
    parser.add_argument(
        "--iut",
        action="append",
        metavar="NAME[:ARGUMENT]",
        help="query this adapter (repeatable) instead of every installed one",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON array instead of a table")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="per-request timeout of exec adapters")
    return parser


def summarize(caps: Capabilities) -> str:
    """One line: the claimed features, then the algorithm masks by name, then the SA capacity."""
    features = [
        label
        for label, claimed in (
            ("ah", caps.ah),
            ("esp", caps.esp),
            ("ah+esp", caps.ah_esp_combined),
            ("transport", caps.transport),
            ("tunnel", caps.tunnel),
            ("transport+tunnel", caps.transport_tunnel_combined),
            ("ipv6", caps.ipv6_supported),
            ("ipv4-options", caps.ipv4_options),
            ("ipv6-ext", caps.ipv6_non_ipsec_extension_headers),
            ("esn", caps.extended_sequence_numbers),
            ("lso", caps.lso_supported),
        )
        if claimed
    ]

    def names(flags: Any) -> str:
        return "|".join(member.name for member in type(flags) if member.value and member in flags) or "none"

    return (
        f"{' '.join(features) or 'no IPsec'}; udp_esp={names(caps.udp_esp)}; "
        f"auth={names(caps.authentication_algorithms)}; enc={names(caps.encryption_algorithms)}; "
        f"sa_capacity={caps.sa_offload_capacity}"
    )


def probe(spec: str, version: str) -> dict[str, Any]:
    """Create the adapter, ask ``hello``, close it; the row to print (with ``error`` instead when any step fails)."""
    name, argument = parse_spec(spec)
    row: dict[str, Any] = {"name": name, "argument": argument, "version": version}
    try:
        adapter = load_adapter(spec)
    except (AdapterLoadError, AdapterError) as exc:
        row["error"] = str(exc).splitlines()[0]
        return row
    try:
        hello = adapter.hello()
    except AdapterError as exc:
        row["error"] = str(exc).splitlines()[0]
    else:
        row["iut"] = {"name": hello.name, "version": hello.version}
        row["capabilities"] = hello.capabilities.to_json()
        row["summary"] = summarize(hello.capabilities)
        problems = hello.capabilities.inconsistencies()
        if problems:
            row["inconsistencies"] = problems
    finally:
        try:
            adapter.close()
        except AdapterError as exc:
            row.setdefault("error", f"close: {exc}")
    return row


def run(args: argparse.Namespace) -> int:
    if args.timeout is not None:
        if not args.timeout > 0:
            raise UserError(f"--timeout must be positive, got {args.timeout}")
        os.environ[TIMEOUT_ENV] = str(args.timeout)
    versions = dict(installed_adapters())
    if args.iut:
        specs = [(spec, versions.get(parse_spec(spec)[0], "not installed")) for spec in args.iut]
    else:
        specs = sorted(versions.items())
    rows = [probe(spec, version) for spec, version in specs]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no adapters installed (entry-point group ipsecov2_conformance.adapters is empty)")
        return 0
    width = max(len(row["name"] + (f":{row['argument']}" if row["argument"] else "")) for row in rows)
    vwidth = max(len(row["version"]) for row in rows)
    for row in rows:
        label = row["name"] + (f":{row['argument']}" if row["argument"] else "")
        head = f"{label:<{width}}  {row['version']:<{vwidth}}"
        if "error" in row:
            print(f"{head}  ERROR: {row['error']}")
            continue
        print(f"{head}  {row['iut']['name']} {row['iut']['version']}: {row['summary']}")
        for problem in row.get("inconsistencies", []):
            print(f"{'':<{width}}  {'':<{vwidth}}  inconsistent: {problem}")
    return 0
