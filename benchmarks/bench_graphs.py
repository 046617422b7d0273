"""Program-graph construction speed over the standard library, and zero crashes.

    .venv/bin/python benchmarks/bench_graphs.py [--limit FILES] [--gc server|default] [--json]

For every file: libcst parse + metadata once (`parse_source`), then one graph per function
(`build_unit`). A function's cost is its own build time plus its share of the file's parse
(by lines). Reports functions/s over everything, and p50/p95 of the cost of 40-60-line
functions against the target (<= 5 ms per 50-line function). A file libcst cannot parse is
skipped and counted; any other exception is a crash (target: none).

`--gc server` (the default) measures under the garbage-collector policy the language server
applies to its process (`bowerbird.server.gc_policy`: everything alive frozen, a higher young
threshold), applied after the imports and a warm-up file; `--gc default` keeps CPython's
settings. The policy measured and the collections during the timed loop are reported.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time

from _util import environment, log, percentile, stdlib_root, table, verdict, write_result

TARGET_MS = 5.0
WARM_UP_FILE = "textwrap.py"  # untimed, before the policy is applied
GC_POLICIES = ("server", "default")
SKIP_PARTS = {"site-packages", "test", "tests", "idlelib", "lib2to3", "__pycache__"}


def run(args: argparse.Namespace) -> dict:
    root = stdlib_root()
    files = sorted(p for p in root.rglob("*.py") if not SKIP_PARTS & set(p.relative_to(root).parts[:-1]))
    if args.limit:
        files = sorted(random.Random(args.seed).sample(files, min(args.limit, len(files))))
    warm_up(root / WARM_UP_FILE)
    policy = apply_gc(args.gc)
    pauses = {0: [], 1: [], 2: []}
    callback = _pause_recorder(pauses)
    gc.callbacks.append(callback)
    try:
        doc = _measure(files)
    finally:
        gc.callbacks.remove(callback)
    doc["gc"] = {**policy, "collections": {f"gen{g}": {"count": len(p), "total_ms": round(sum(p), 1),
                                                       "max_ms": round(max(p, default=0.0), 1)}
                                           for g, p in pauses.items()}}
    return doc


def warm_up(path) -> None:
    """Build one file's graphs untimed, so that first-call costs are not measured."""
    from bowerbird.analysis.graphs.build import build_unit, parse_source

    parsed = parse_source(path.read_bytes(), str(path))
    for d in parsed.definitions:
        build_unit(parsed, d.node, d.own, d.node.name.value, d.qualname)


def apply_gc(name: str) -> dict:
    """The garbage-collector policy measured: the server's, or CPython's defaults untouched."""
    if name == "server":
        from bowerbird.server import gc_policy

        done = gc_policy.apply("bench_graphs")
        return {"policy": "server", "thresholds": list(done["thresholds"]), "frozen": done["frozen"]}
    return {"policy": "default", "thresholds": list(gc.get_threshold()), "frozen": gc.get_freeze_count()}


def _pause_recorder(pauses: dict[int, list[float]]):
    started: list[float] = []

    def record(phase: str, info: dict) -> None:
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            pauses[info["generation"]].append((time.perf_counter() - started[0]) * 1000)

    return record


def _measure(files: list) -> dict:
    from bowerbird.analysis.graphs import GraphError
    from bowerbird.analysis.graphs.build import build_unit, parse_source

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
    parser.add_argument("--gc", choices=GC_POLICIES, default="server",
                        help="garbage-collector policy: the language server's (default) or CPython's defaults")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    doc = run(args)
    path = write_result("bench_graphs", doc)
    if args.json:
        print(json.dumps(doc))
        return 0
    f, t, g = doc["per_50_line_function_ms"], doc["targets"], doc["gc"]
    collections = ", ".join(f"{c['count']}" for c in g["collections"].values())
    full = g["collections"]["gen2"]
    rows = [
        ("gc policy (thresholds, frozen objects)", f"{g['policy']} ({', '.join(map(str, g['thresholds']))}; {g['frozen']})", "", ""),
        ("gc passes gen0, gen1, gen2 (gen2 total/max)", f"{collections} ({full['total_ms']} / {full['max_ms']} ms)", "", ""),
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
