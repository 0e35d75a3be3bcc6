"""Subcommands of the ``ipsecov2-conformance`` CLI, one small module each.

Every module here exposes ``add_parser(subparsers) -> argparse.ArgumentParser`` and ``run(args) -> int``;
``conformance.cli`` only wires them together. A command reports a mistake of the user (bad option value, missing file,
unknown clause) by raising :class:`UserError`: the CLI prints it as one line and exits 2, so users never see a
traceback for their own typos (``--debug`` shows one).
"""

from __future__ import annotations

__all__ = ["COMMAND_MODULES", "EXIT_USAGE", "UserError"]

COMMAND_MODULES = ("run", "adapters", "export", "judge", "report", "matrix", "mutants", "clauses")
"""Module names under ``conformance.commands``, in the order ``--help`` lists them."""

EXIT_USAGE = 2
"""Exit status for user errors (argparse uses 2 for usage errors too)."""


class UserError(Exception):
    """A mistake of the user, reported as ``ipsecov2-conformance: error: <message>`` and exit status 2."""
