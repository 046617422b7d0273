"""Proposal-building benchmark: time `build_proposals` on random holes of the stdlib.

    .venv/bin/python benchmarks/bench_proposals.py [--holes N] [--seed S] [--index-dir DIR] [--json]

The standard library of this interpreter (without site-packages and __pycache__) is indexed
where it is (read only; site-packages is left out with an exclude pattern), into a temporary
index folder, or into --index-dir, which is reused (brought up to date) on later runs. Holes
are drawn uniformly from all candidate lines (`extract_holes`: non-blank, non-comment lines,
cut in the middle of the stripped text), seeded. One `RepoView` serves all holes (its facts
cache is part of the design); the first --warmup holes are built untimed. Only the
`build_proposals` call is timed, twice per hole: cold (the document is parsed in the call) and
warm (the same request again, with the document's parse cached as the server keeps it between
edits). Results go to benchmarks/results/bench_proposals.json.

Target: p95 <= 20 ms per hole. When the target fails (or with --profile), the timed holes
are built again under cProfile with a fresh RepoView and the hotspots are printed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import (  # noqa: E402
    REPO_ROOT, RESULTS_DIR, _short, environment, log, percentile, stdlib_root, table, verdict, write_result,
)

from bowerbird.analysis.holes import Hole, extract_holes, hole_at  # noqa: E402
from bowerbird.analysis.indexer import IndexOptions, index_repository  # noqa: E402
from bowerbird.analysis.proposals.build import build_proposals  # noqa: E402
from bowerbird.analysis.proposals.catalog import IN_FILE, SOURCES  # noqa: E402
from bowerbird.analysis.repo import RepoView  # noqa: E402
from bowerbird.analysis.store import IndexStore, index_path_for  # noqa: E402
from bowerbird.analysis.walk import read_source  # noqa: E402

TARGET_P95_MS = 20.0
STDLIB_EXCLUDE = ("site-packages/",)


def sample_holes(root: Path, exclude: tuple[str, ...], count: int, seed: int) -> list[Hole]:
    """`count` holes drawn uniformly (reservoir sampling) from every hole `extract_holes` yields."""
    rng = random.Random(seed)
    reservoir: list[dict] = []
    for seen, hole in enumerate(extract_holes(root, seed=seed, split="middle", exclude=exclude)):
        if seen < count:
            reservoir.append(hole)
        else:
            j = rng.randrange(seen + 1)
            if j < count:
                reservoir[j] = hole
    rng.shuffle(reservoir)
    texts: dict[str, str] = {}
    holes = []
    for spec in reservoir:
        if spec["path"] not in texts:
            data, _ = read_source(str(root / spec["path"]))
            texts[spec["path"]] = data.decode("utf-8", "replace")
        holes.append(hole_at(spec["path"], texts[spec["path"]], spec["line"], spec["col"]))
    return holes


def time_holes(repo: RepoView, warmup: list[Hole], holes: list[Hole]) -> tuple[list[tuple[float, list]], list[float]]:
    """Per hole: the cold time (the document is parsed in the call) with its proposals, and
    the warm time (the same request again: the document's parse is cached, as the server keeps
    it between edits)."""
    for hole in warmup:
        build_proposals(repo, hole)
    results, warm = [], []
    for hole in holes:
        repo.forget_document(hole.path)
        start = time.perf_counter()
        proposals = build_proposals(repo, hole)
        results.append(((time.perf_counter() - start) * 1000, proposals))
        start = time.perf_counter()
        build_proposals(repo, hole)
        warm.append((time.perf_counter() - start) * 1000)
    return results, warm


def _shorten_paths(text: str) -> str:
    """Profile listings with repository-relative paths (analysis/...) and short library paths."""
    prefixes = sorted({str(REPO_ROOT) + "/", *(p + "/" for p in sys.path if p.startswith("/"))}, key=len, reverse=True)
    for prefix in prefixes:
        text = text.replace(prefix, "")
    return text


def profile_holes(store: IndexStore, warmup: list[Hole], holes: list[Hole], top: int) -> dict:
    repo = RepoView(store)
    for hole in warmup:
        build_proposals(repo, hole)
    profiler = cProfile.Profile()
    profiler.enable()
    for hole in holes:
        build_proposals(repo, hole)
    profiler.disable()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    dump = RESULTS_DIR / "bench_proposals.prof"
    profiler.dump_stats(str(dump))
    texts = {}
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(top)
        texts[key] = _shorten_paths(out.getvalue())
    return {"file": str(dump), "by_cumtime": texts["cumulative"], "by_tottime": texts["tottime"]}


def run(args: argparse.Namespace) -> dict:
    env = environment()  # before running: the commit measured
    root = (args.root or stdlib_root()).resolve()
    exclude = STDLIB_EXCLUDE if args.root is None else ()
    with tempfile.TemporaryDirectory(prefix="bowerbird-bench-") as temp:
        index_dir = (args.index_dir.expanduser().resolve() if args.index_dir else Path(temp))
        store = IndexStore(index_path_for(root, index_dir), root)
        try:
            log(f"indexing {root} into {store.path} ...")
            report = index_repository(store, IndexOptions(exclude=exclude, workers=args.workers))
            log(f"  {report.files_total} files ({report.files_indexed} parsed) in {report.seconds:.2f} s")
            log(f"drawing {args.warmup} + {args.holes} holes (seed {args.seed}) ...")
            start = time.perf_counter()
            drawn = sample_holes(root, exclude, args.warmup + args.holes, args.seed)
            sample_s = time.perf_counter() - start
            warmup, holes = drawn[: args.warmup], drawn[args.warmup :]
            log(f"building proposals for {len(holes)} holes ...")
            repo = RepoView(store)
            results, warm = time_holes(repo, warmup, holes)
            times = sorted(ms for ms, _ in results)
            warm_times = sorted(warm)
            p95 = percentile(times, 95)
            profile = None
            if args.profile or p95 > TARGET_P95_MS:
                log("profiling ...")
                profile = profile_holes(store, warmup, holes, args.profile_top)
        finally:
            store.close()

    counts = [len(proposals) for _, proposals in results]
    per_source = Counter()
    for _, proposals in results:
        per_source.update({p.kind.source for p in proposals})
    slowest = sorted(zip(results, holes), key=lambda x: -x[0][0])[:10]
    document = {
        "benchmark": "bench_proposals",
        "environment": env,
        "index": {
            "root": str(root),
            "exclude": list(exclude),
            "index_path": str(store.path) if args.index_dir else None,
            "files": report.files_total,
            "files_parsed": report.files_indexed,
            "symbols": report.symbols,
            "seconds": round(report.seconds, 3),
        },
        "holes": {"count": len(holes), "warmup": len(warmup), "seed": args.seed, "split": "middle",
                  "sample_seconds": round(sample_s, 3), "files": len({h.path for h in holes})},
        "time_ms": {
            "p50": round(percentile(times, 50), 3),
            "p95": round(p95, 3),
            "max": round(times[-1], 3),
            "mean": round(statistics.fmean(times), 3),
            "total": round(sum(times), 1),
        },
        "warm_time_ms": {
            "p50": round(percentile(warm_times, 50), 3),
            "p95": round(percentile(warm_times, 95), 3),
            "max": round(warm_times[-1], 3),
            "mean": round(statistics.fmean(warm_times), 3),
        },
        "proposals_per_hole": {
            "mean": round(statistics.fmean(counts), 2),
            "mean_without_in_file": round(statistics.fmean(counts) - 1, 2),
            "min": min(counts),
            "max": max(counts),
        },
        "source_applicable": {s: round(per_source[s] / len(holes), 3) for s in (*SOURCES, IN_FILE)},
        "slowest": [
            {"path": h.path, "line": h.line, "col": h.col, "ms": round(ms, 2), "proposals": len(p)}
            for (ms, p), h in slowest
        ],
        "per_hole": [
            {"path": h.path, "line": h.line, "col": h.col, "ms": round(ms, 3), "proposals": len(p)}
            for (ms, p), h in zip(results, holes)
        ],
        "targets": {
            "p95_ms": {"target": TARGET_P95_MS, "value": round(p95, 3), "pass": p95 <= TARGET_P95_MS},
            "warm_p95_ms": {"target": TARGET_P95_MS, "value": round(percentile(warm_times, 95), 3),
                            "pass": percentile(warm_times, 95) <= TARGET_P95_MS},
        },
        "profile": profile,
    }
    return document


def render(doc: dict) -> str:
    t, n, idx, holes = doc["time_ms"], doc["proposals_per_hole"], doc["index"], doc["holes"]
    env = doc["environment"]
    rows = [
        ("index", f"{idx['files']} files, {idx['symbols']:,} symbols ({idx['files_parsed']} parsed, "
                  f"{idx['seconds']:.2f} s)", "", ""),
        ("holes timed", f"{holes['count']} in {holes['files']} files (+{holes['warmup']} warm-up, "
                        f"seed {holes['seed']})", "", ""),
        ("build_proposals p50", f"{t['p50']:.2f} ms", "", ""),
        ("build_proposals p95", f"{t['p95']:.2f} ms", f"<= {TARGET_P95_MS:g} ms",
         verdict(doc["targets"]["p95_ms"]["pass"])),
        ("build_proposals max", f"{t['max']:.2f} ms", "", ""),
        ("build_proposals mean", f"{t['mean']:.2f} ms", "", ""),
        ("warm (document parse cached) p50", f"{doc['warm_time_ms']['p50']:.2f} ms", "", ""),
        ("warm p95", f"{doc['warm_time_ms']['p95']:.2f} ms", f"<= {TARGET_P95_MS:g} ms",
         verdict(doc["targets"]["warm_p95_ms"]["pass"])),
        ("warm max", f"{doc['warm_time_ms']['max']:.2f} ms", "", ""),
        ("applicable proposals/hole", f"{n['mean']:.2f} (incl. in_file; min {n['min']}, max {n['max']})", "", ""),
    ]
    rows += [(f"  applicable: {s}", f"{frac * 100:.1f}% of holes", "", "")
             for s, frac in doc["source_applicable"].items()]
    title = (f"bowerbird proposals benchmark: {idx['root']} "
             f"(Python {env['python']}, {env['cpu_count']} cores, commit {_short(env['git_commit'])})")
    text = table(rows, title)
    text += "\nslowest holes:\n" + "\n".join(
        f"  {s['ms']:8.2f} ms  {s['path']}:{s['line'] + 1}:{s['col']}  ({s['proposals']} proposals)"
        for s in doc["slowest"]
    )
    if doc["profile"]:
        text += (f"\n\ncProfile of the {holes['count']} timed holes (fresh RepoView), "
                 f"saved to {doc['profile']['file']}\n" + doc["profile"]["by_cumtime"])
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--holes", type=int, default=500, help="number of timed holes (default 500)")
    parser.add_argument("--seed", type=int, default=0, help="random seed for drawing holes (default 0)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed holes built first (default 10)")
    parser.add_argument("--index-dir", type=Path, default=None,
                        help="index folder to reuse (default: a temporary one, rebuilt every run)")
    parser.add_argument("--root", type=Path, default=None, help="repository to draw holes from (default: the stdlib)")
    parser.add_argument("--workers", type=int, default=0, help="indexer processes (default 0: one per core)")
    parser.add_argument("--profile", action="store_true", help="profile even when the target passes")
    parser.add_argument("--profile-top", type=int, default=30, help="functions to list in the profile (default 30)")
    parser.add_argument("--output", type=Path, default=None,
                        help="JSON result file (default: benchmarks/results/bench_proposals.json)")
    parser.add_argument("--json", action="store_true", help="print the JSON document on stdout instead of the table")
    args = parser.parse_args()
    if args.holes < 1 or args.warmup < 0:
        parser.error("--holes must be >= 1 and --warmup >= 0")
    if args.root is not None and not args.root.is_dir():
        parser.error(f"{args.root}: not a directory")
    document = run(args)
    path = write_result("bench_proposals", document, args.output)
    if args.json:
        json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(render(document))
        print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
