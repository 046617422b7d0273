"""`bowerbird graph FILE [--function NAME] --format json|dot|png`: a function's program graph.

JSON (DESIGN.md): {"nodes": [{"id", "type", "text", "line", "col"}], "edges": [{"src", "dst",
"kind"}]}, lines 1-based, columns 0-based. DOT and PNG are for people: edge kinds coloured,
AST_PARENT and NEXT_SYNTAX left out unless --kinds names them. Without --function, the
graph of the module's top-level code.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bowerbird.commands.common import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("graph", help="show the program graph of a function", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--function", default=None, help="function name or qualified name (Class.method)")
    parser.add_argument("--format", choices=("json", "dot", "png"), default="json")
    parser.add_argument("--out", type=Path, default=None, help="output file (needed for png; default stdout)")
    parser.add_argument("--kinds", default=None, help="comma-separated edge kinds to draw (dot, png)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bowerbird.analysis.graphs import EdgeType, GraphError, build_graphs
    from bowerbird.analysis.graphs.render import to_dot, to_png
    from bowerbird.analysis.graphs.serialize import graph_to_json

    if not args.file.is_file():
        raise UsageError(f"{args.file}: no such file")
    if args.format == "png" and args.out is None:
        raise UsageError("--format png needs --out FILE.png")
    kinds = None
    if args.kinds:
        names = [k.strip().upper() for k in args.kinds.split(",") if k.strip()]
        unknown = [k for k in names if k not in EdgeType.__members__]
        if unknown:
            raise UsageError(f"--kinds: unknown {', '.join(unknown)} (choose from {', '.join(EdgeType.__members__)})")
        kinds = frozenset(EdgeType[k] for k in names)
    source = args.file.read_bytes()
    try:
        graphs = build_graphs(source, str(args.file))
    except GraphError as error:
        print(f"bowerbird graph: {error}", file=sys.stderr)
        return 1
    if args.function is None:
        chosen = graphs[0]
    else:
        matches = [g for g in graphs if g.qualname == args.function] or [g for g in graphs if g.name == args.function]
        if not matches:
            names = ", ".join(g.qualname for g in graphs if g.kind == "function") or "none"
            raise UsageError(f"{args.file}: no function {args.function!r} (functions: {names})")
        chosen = matches[0]
    if args.format == "png":
        to_png(chosen, args.out, kinds)
        print(f"wrote {args.out}", file=sys.stderr)
        return 0
    text = json.dumps(graph_to_json(chosen), ensure_ascii=False) + "\n" if args.format == "json" else to_dot(chosen, kinds)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
