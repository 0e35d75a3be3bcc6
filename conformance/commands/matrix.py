"""``ipsecov2-conformance matrix``: join several reports into one clause-by-IUT table.

PLACEHOLDER: the lead fills ``run``; the options below are the ones tox.ini already uses.
"""

from __future__ import annotations

import argparse

from conformance.commands import not_implemented

NAME = "matrix"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(NAME, help="join reports into a clause-by-IUT matrix (not implemented yet)")
    parser.add_argument("reports", nargs="*", metavar="REPORT_DIR", help="report directories written by run")
    parser.add_argument("--out", default="matrix", metavar="DIR", help="output directory")
    return parser


def run(args: argparse.Namespace) -> int:
    return not_implemented(NAME)
