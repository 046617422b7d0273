"""GFSA layer training-step cost per absorbing-chain solver, on standard-library functions.

    .venv/bin/python benchmarks/bench_gfsa.py [--functions N] [--states S] [--solvers dense,sparse,auto]
                                              [--sources targets|all] [--same-variable] [--view V]
                                              [--threads T] [--json]

Functions of the training packages (at most 256 AST nodes, as `train gfsa` uses them) in the
`accesses` view (`--view` another GFSA view); one training step each (3 edge types: CFG_NEXT,
LAST_READ, LAST_WRITE; forward, edge loss, backward) with a freshly initialised layer, per solver. The layer starts walks at
the node types that start an edge in these functions' targets (`--sources targets`, the
default of `train gfsa`) unless `--sources all`. Reports the mean step (what a training run
pays), p50 / p95, the largest function's step, and each solver's speed-up over the first.
Every solver computes the same adjacency: the largest difference in edge probability between
the solvers is reported too. Not a target of the issue: it backs the README's figures.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from _util import environment, log, percentile, table, write_result

KINDS = ("CFG_NEXT", "LAST_READ", "LAST_WRITE")


def examples(count: int, seed: int, view: str) -> list:
    from bowerbird.analysis.graphs import EdgeType
    from bowerbird.commands.graph_data import collect_graphs, training_files
    from bowerbird.learners.gfsa.targets import make_examples

    files, _ = training_files(None, None)
    graphs, _ = collect_graphs(files, count, 256, seed, 8, "reading functions")
    return make_examples(graphs, [EdgeType[k] for k in KINDS], 256, view)


def step_seconds(layer, example) -> tuple[float, object]:
    from bowerbird.learners.gfsa.train import edge_loss

    layer.zero_grad(set_to_none=True)
    started = time.perf_counter()
    logits = layer.edge_logits(example.encoding)
    edge_loss(logits, example.target).backward()
    return time.perf_counter() - started, logits.detach()


def run(args: argparse.Namespace) -> dict:
    import torch

    from bowerbird.learners.gfsa.layer import GfsaConfig, GfsaLayer
    from bowerbird.learners.gfsa.targets import edge_sources

    torch.set_num_threads(args.threads)
    data = examples(args.functions, args.seed, args.view)
    random.Random(args.seed).shuffle(data)
    sources = edge_sources(data, args.view) if args.sources == "targets" else None
    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    per_solver: dict[str, list[float]] = {}
    outputs: dict[str, list] = {}
    for solver in solvers:
        torch.manual_seed(0)
        layer = GfsaLayer(GfsaConfig(num_edge_types=len(KINDS), num_states=args.states, solver=solver,
                                     platt_scale=True, view=args.view, sources=sources,
                                     same_variable=args.same_variable))  # fmt: skip
        step_seconds(layer, data[0])  # warm-up (imports, first allocations)
        times, logits = [], []
        for i, example in enumerate(data):
            seconds, out = step_seconds(layer, example)
            times.append(seconds)
            logits.append(torch.sigmoid(out))
            if (i + 1) % 10 == 0:
                log(f"{solver}: {i + 1}/{len(data)} steps")
        per_solver[solver], outputs[solver] = times, logits
    largest = max(range(len(data)), key=lambda i: data[i].encoding.num_positions)
    first = solvers[0]
    results = {}
    for solver, times in per_solver.items():
        ordered = sorted(times)
        results[solver] = {
            "mean_ms": round(1000 * statistics.fmean(times), 1),
            "p50_ms": round(1000 * percentile(ordered, 50), 1),
            "p95_ms": round(1000 * percentile(ordered, 95), 1),
            "largest_ms": round(1000 * times[largest], 1),
            "speedup_vs_" + first: round(statistics.fmean(per_solver[first]) / statistics.fmean(times), 2),
            "max_probability_difference_vs_" + first: max(
                float((a - b).abs().max()) for a, b in zip(outputs[first], outputs[solver], strict=True)
            ),
        }
    return {
        "benchmark": "bench_gfsa", "environment": environment(), "threads": args.threads,
        "functions": len(data), "states": args.states, "sources": args.sources,
        "same_variable": args.same_variable, "view": args.view,
        "transient_states": {"mean": round(statistics.fmean(e.encoding.num_positions * args.states for e in data)),
                             "largest": data[largest].encoding.num_positions * args.states},
        "solvers": results,
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=40, help="training-package functions drawn")
    parser.add_argument("--states", type=int, default=4, help="finite states of the layer")
    parser.add_argument("--solvers", default="dense,sparse,auto",
                        help="comma-separated: dense, sparse, fixed_point, auto (what training uses)")
    parser.add_argument("--sources", choices=("targets", "all"), default="targets")
    parser.add_argument("--same-variable", action="store_true")
    parser.add_argument("--view", default="accesses", help="the GFSA view (gfsa_view.VIEWS; default accesses)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (train gfsa's default is 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.functions < 1 or args.states < 1 or args.threads < 1:
        parser.error("--functions, --states and --threads must be at least 1")
    doc = run(args)
    path = write_result("bench_gfsa", doc)
    if args.json:
        print(json.dumps(doc))
        return 0
    rows = [("functions, transient states mean / largest",
             f"{doc['functions']}, {doc['transient_states']['mean']} / {doc['transient_states']['largest']}", "", "")]
    for solver, r in doc["solvers"].items():
        speedup = next(v for k, v in r.items() if k.startswith("speedup"))
        diff = next(v for k, v in r.items() if k.startswith("max_probability"))
        rows.append((f"{solver}: step mean / p50 / p95 / largest",
                     f"{r['mean_ms']} / {r['p50_ms']} / {r['p95_ms']} / {r['largest_ms']} ms", "", ""))
        rows.append((f"{solver}: speed-up, max |dp|", f"{speedup}x, {diff:.1e}", "", ""))
    print(table(rows, f"bowerbird GFSA training step ({doc['states']} states, sources {doc['sources']}, "
                      f"same variable {doc['same_variable']}, view {doc['view']}, {doc['threads']} thread)"))  # fmt: skip
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
