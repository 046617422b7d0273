"""`bowerbird serve`: the language server, on stdio (default) or TCP.

stdout carries the protocol on stdio: logs go to stderr, nothing else is printed.
"""

from __future__ import annotations

import argparse

from bowerbird.commands.common import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("serve", help="run the language server", description=__doc__)
    parser.add_argument("--stdio", action="store_true", help="talk LSP on stdin/stdout (the default)")
    parser.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP address instead")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bowerbird.server.app import create_server

    server = create_server()
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not host or not port.isdigit():
            raise UsageError(f"--tcp {args.tcp!r}: expected HOST:PORT")
        server.start_tcp(host, int(port))
    else:
        server.start_io()
    return 0
