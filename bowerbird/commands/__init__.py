"""One module per `bowerbird` subcommand: `add_parser(subparsers)` and `run(args) -> exit code`."""
