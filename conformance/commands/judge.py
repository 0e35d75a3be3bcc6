"""``ipsecov2-conformance judge``: judge recorded responses of a vector pack offline.

PLACEHOLDER: the lead fills in the options and ``run``.
"""

from __future__ import annotations

import argparse

from conformance.commands import not_implemented

NAME = "judge"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    return subparsers.add_parser(NAME, help="judge recorded responses of a vector pack offline (not implemented yet)")


def run(args: argparse.Namespace) -> int:
    return not_implemented(NAME)
