"""The ``ipsecov2-conformance`` command line: wiring only; each subcommand lives in ``conformance.commands.<name>``.

Errors are part of the interface: a user mistake prints one line ``ipsecov2-conformance: error: ...`` and exits 2,
with no traceback unless ``--debug`` is given (then the exception propagates with its full traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn, Protocol, cast

from conformance.commands import EXIT_USAGE, UserError, adapters, clauses, export, judge, matrix, mutants, report, run

PROG = "ipsecov2-conformance"


class CommandModule(Protocol):
    """What every module in ``conformance.commands`` provides."""

    NAME: str

    def add_parser(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
        """Register the subcommand and its options."""
        ...

    def run(self, args: argparse.Namespace) -> int:
        """Execute the subcommand; return the process exit status."""
        ...


COMMANDS: tuple[CommandModule, ...] = (run, adapters, export, judge, report, matrix, mutants, clauses)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors become :class:`UserError` (one line, exit 2) instead of ``sys.exit``."""

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Property-based conformance suite for the receive path of IPsec Offload Version 2 NICs.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    # Typed as plain ArgumentParser actions: commands only need the base API, the subclass just routes errors.
    subparsers = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser),
    )
    for module in COMMANDS:
        sub = module.add_parser(subparsers)
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show full tracebacks")
        sub.set_defaults(_command=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ipsecov2-conformance`` script; returns the exit status instead of exiting."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(args_list)
        except SystemExit as exc:  # --help / --version: argparse already printed
            return exc.code if isinstance(exc.code, int) else 0
        command: CommandModule | None = getattr(args, "_command", None)
        if command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return command.run(args)
    except UserError as exc:
        if debug:
            raise
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            raise
        print(f"{PROG}: error: internal error: {type(exc).__name__}: {exc} (rerun with --debug)", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
