"""``ipsecov2-conformance report``: rebuild reports from a results file.

PLACEHOLDER: the lead fills in the options and ``run``.
"""

from __future__ import annotations

import argparse

from conformance.commands import not_implemented

NAME = "report"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    return subparsers.add_parser(NAME, help="rebuild reports from a results file (not implemented yet)")


def run(args: argparse.Namespace) -> int:
    return not_implemented(NAME)
