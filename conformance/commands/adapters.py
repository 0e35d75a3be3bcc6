"""``ipsecov2-conformance adapters``: list the adapters (IUTs) found through entry points.

PLACEHOLDER: the lead fills in the options and ``run``.
"""

from __future__ import annotations

import argparse

from conformance.commands import not_implemented

NAME = "adapters"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    return subparsers.add_parser(NAME, help="list the adapters (IUTs) found through entry points (not implemented yet)")


def run(args: argparse.Namespace) -> int:
    return not_implemented(NAME)
