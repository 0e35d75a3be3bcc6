"""``ipsecov2-conformance export``: write a vector pack for offline replay on a hardware rig.

PLACEHOLDER: the lead fills in the options and ``run``.
"""

from __future__ import annotations

import argparse

from conformance.commands import not_implemented

NAME = "export"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    return subparsers.add_parser(
        NAME, help="write a vector pack for offline replay on a hardware rig (not implemented yet)"
    )


def run(args: argparse.Namespace) -> int:
    return not_implemented(NAME)
