"""Program-graph construction speed over the standard library, and zero crashes.

    .venv/bin/python benchmarks/bench_graphs.py [--limit FILES] [--json]

For every file: libcst parse + metadata once (`parse_source`), then one graph per function
(`build_unit`). A function's cost is its own build time plus its share of the file's parse
(by lines). Reports functions/s over everything, and p50/p95 of the cost of 40-60-line
functions against the target (<= 5 ms per 50-line function). A file libcst cannot parse is
skipped and counted; any other exception is a crash (target: none).
"""

from __future__ import annotations

import argparse
import json
import random
import time

from _util import environment, log, percentile, stdlib_root, table, verdict, write_result

TARGET_MS = 5.0
SKIP_PARTS = {"site-packages", "test", "tests", "idlelib", "lib2to3", "__pycache__"}


def run(args: argparse.Namespace) -> dict:
    from bowerbird.analysis.graphs import GraphError
    from bowerbird.analysis.graphs.build import build_unit, parse_source

    root = stdlib_root()
    files = sorted(p for p in root.rglob("*.py") if not SKIP_PARTS & set(p.relative_to(root).parts[:-1]))
    if args.limit:
        files = sorted(random.Random(args.seed).sample(files, min(args.limit, len(files))))
    skipped, crashes, functions, nodes = 0, [], 0, 0
    costs_50: list[float] = []
    total = 0.0
    for number, path in enumerate(files, 1):
        source = path.read_bytes()
        lines = max(1, source.count(b"\n"))
        started = time.perf_counter()
        try:
            parsed = parse_source(source, str(path))
        except GraphError:
            skipped += 1
            continue
        except Exception as error:  # noqa: BLE001 - a crash is what this counts
            crashes.append(f"{path}: {type(error).__name__}: {error}")
            continue
        parse_ms = (time.perf_counter() - started) * 1000
        total += parse_ms
        for d in parsed.definitions:
            began = time.perf_counter()
            try:
                graph = build_unit(parsed, d.node, d.own, d.node.name.value, d.qualname)
            except Exception as error:  # noqa: BLE001
                crashes.append(f"{path}:{d.qualname}: {type(error).__name__}: {error}")
                continue
            own = (time.perf_counter() - began) * 1000
            total += own
            functions += 1
            nodes += graph.graph.number_of_nodes()
            span = parsed.positions[d.node]
            length = span.end.line - span.start.line + 1
            if 40 <= length <= 60:
                costs_50.append(own + parse_ms * length / lines)
        if number % 200 == 0:
            log(f"  {number}/{len(files)} files, {functions} functions")
    costs_50.sort()
    p95 = percentile(costs_50, 95)
    return {
        "benchmark": "bench_graphs", "environment": environment(), "files": len(files), "files_skipped": skipped,
        "crashes": len(crashes), "crash_examples": crashes[:10], "functions": functions,
        "mean_nodes": round(nodes / max(1, functions), 1), "seconds": round(total / 1000, 2),
        "functions_per_s": round(functions / max(total / 1000, 1e-9), 1),
        "per_50_line_function_ms": {"count": len(costs_50), "p50": round(percentile(costs_50, 50), 2),
                                    "p95": round(p95, 2)},
        "targets": {"p95_50_line_ms": {"target": TARGET_MS, "value": round(p95, 2), "pass": p95 <= TARGET_MS},
                    "crashes": {"target": 0, "value": len(crashes), "pass": not crashes}},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="a random sample of this many files")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    doc = run(args)
    path = write_result("bench_graphs", doc)
    if args.json:
        print(json.dumps(doc))
        return 0
    f, t = doc["per_50_line_function_ms"], doc["targets"]
    rows = [
        ("files (skipped: libcst cannot parse)", f"{doc['files']} ({doc['files_skipped']})", "", ""),
        ("functions, mean nodes", f"{doc['functions']}, {doc['mean_nodes']}", "", ""),
        ("functions/s (parse included)", f"{doc['functions_per_s']}", "", ""),
        ("40-60-line function p50 / p95", f"{f['p50']} / {f['p95']} ms ({f['count']} functions)",
         f"<= {TARGET_MS:g} ms p95", verdict(t["p95_50_line_ms"]["pass"])),
        ("crashes", str(doc["crashes"]), "0", verdict(t["crashes"]["pass"])),
    ]
    print(table(rows, "bowerbird program graphs"))
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
