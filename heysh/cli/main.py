"""Entry point of the ``heysh`` command: parse, set up logging, dispatch.

Each command group lives in its own module with a ``register(subparsers)``
function; heavy imports happen inside the command functions so that
``heysh --help`` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from heysh import __version__
from heysh.errors import HeyshError

_logger = logging.getLogger(__name__)

# Modules that contribute subcommands; each has register(subparsers).
_COMMAND_MODULES = (
    "heysh.cli.research",
    "heysh.cli.production",
    "heysh.cli.feedback",
    "heysh.cli.schedules",
    "heysh.cli.thresholds",
    "heysh.cli.score_jobs",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every registered command group."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="heysh",
        description="Decide whether documents belong in a domain; tune and "
        "promote the relevance models behind that decision.",
    )
    parser.add_argument("--version", action="version", version=f"heysh {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log debug detail to stderr"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            # A slim worker image may lack a group's dependencies; the group is
            # then simply absent from the command.
            _logger.debug(
                "command_group_unavailable",
                extra={"module": module_name, "error": str(err)},
            )
            continue
        module.register(subparsers)
    return parser


def configure_logging(verbose: bool) -> None:
    """Readable key-value logs on stderr; JSON when HEYSH_LOG_FORMAT=json."""
    from heysh.logging_setup import setup_logging

    setup_logging(level=logging.DEBUG if verbose else logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``heysh`` command; return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    configure_logging(args.verbose)
    try:
        return int(args.handler(args) or 0)
    except HeyshError as err:
        sys.stderr.write(f"heysh: error: {err}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("heysh: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
