"""``ipsecov2-conformance run``: run the conformance suite against one IUT and write its report.

PLACEHOLDER: the lead fills ``run``; the options below are the ones tox.ini and the README already use.
"""

from __future__ import annotations

import argparse

from conformance.commands import not_implemented

NAME = "run"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(NAME, help="run the suite against one IUT (not implemented yet)")
    parser.add_argument("--iut", required=True, metavar="NAME[:ARGUMENT]", help="adapter to test, e.g. scapy")
    parser.add_argument("--out", default="conformance-report", metavar="DIR", help="report directory")
    return parser


def run(args: argparse.Namespace) -> int:
    return not_implemented(NAME)
