"""The `bowerbird` command line: one subcommand per module in `bowerbird.commands`.

Every command that another tool reads takes `--json` and then prints exactly one JSON
document on stdout; logs and progress go to stderr. Exit codes: 0 success, 1 failure,
2 usage error (bad arguments, a path that does not exist, a position outside a file).
"""

from __future__ import annotations

import argparse
import logging
import sys

from bowerbird import __version__
from bowerbird.commands import check, complete, doctor, evaluate, feedback, graph, holes, index, proposals, serve, train
from bowerbird.commands.common import UsageError

COMMANDS = (index, proposals, holes, complete, serve, doctor, train, evaluate, graph, check, feedback)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bowerbird", description="Bowerbird: repository context for code models, inside the editor.")
    parser.add_argument("--version", action="version", version=f"bowerbird {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr (-vv: debug)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args)
    except UsageError as error:
        print(f"bowerbird {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
