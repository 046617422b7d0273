"""Indexing benchmark: full index, no-change re-run and one-file updates of a copy of the stdlib.

    .venv/bin/python benchmarks/bench_index.py [--workers N] [--root PATH] [--json]

The tree (by default the standard library of this interpreter, without site-packages and
__pycache__) is copied to a temporary folder first, so that the benchmark can edit a file.
Results go to benchmarks/results/bench_index.json.

Targets: full index <= 30 s, peak RSS <= 500 MB, one-file incremental update <= 20 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import _short, copy_tree, environment, log, stdlib_root, table, verdict, write_result  # noqa: E402

from bowerbird.analysis.indexer import IndexOptions, index_repository, update_files  # noqa: E402
from bowerbird.analysis.store import IndexStore, index_path_for  # noqa: E402
from bowerbird.analysis.walk import DEFAULT_EXCLUDED_DIRS  # noqa: E402

TARGET_FULL_S = 30.0
TARGET_RSS_MB = 500.0
TARGET_UPDATE_MS = 20.0
EDIT_LINE = b"x_bench = 1\n"
UPDATE_REPEATS = 5
INCREMENTAL_REPEATS = 3


def _maxrss_mb(who: int) -> float:
    kb = resource.getrusage(who).ru_maxrss  # kilobytes on Linux (bytes on macOS)
    return kb / (1024 * 1024) if sys.platform == "darwin" else kb / 1024


def _file_size_mb(path: Path) -> float:
    try:
        return path.stat().st_size / (1024 * 1024)
    except FileNotFoundError:
        return 0.0


def _count_lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _pick_edit_file(root: Path, paths: list[str]) -> str:
    """A mid-size module: the Python file whose size is the median of the indexed ones."""
    python = [p for p in paths if p.endswith(".py")] or paths
    by_size = sorted(python, key=lambda p: ((root / p).stat().st_size, p))
    return by_size[len(by_size) // 2]


def _pick_weighted_file(root: Path, paths: list[str]) -> str:
    """The line-weighted median Python file: half of all bytes are in files at most this big
    (the size of file a random line of code is in)."""
    python = [p for p in paths if p.endswith(".py")] or paths
    sizes = sorted(((root / p).stat().st_size, p) for p in python)
    half, total = sum(s for s, _ in sizes) / 2, 0
    for size, path in sizes:
        total += size
        if total >= half:
            return path
    return sizes[-1][1]


def _edit_benchmark(store: IndexStore, options: IndexOptions, tree: Path, edit: str, incremental: bool) -> dict:
    """Time `update_files` on one edited file (alternating edits, each a real change) and,
    when `incremental`, a whole `index_repository` run after an edit. The file is restored."""
    edit_abs = tree / edit
    original = edit_abs.read_bytes()
    edited = original + (b"" if original.endswith(b"\n") or not original else b"\n") + EDIT_LINE
    toggle = [edited, original]
    update_ms, update_parsed = [], []
    log(f"update_files on {edit} x{UPDATE_REPEATS} ...")
    try:
        for i in range(UPDATE_REPEATS):
            edit_abs.write_bytes(toggle[i % 2])
            start = time.perf_counter()
            report = update_files(store, [edit])
            update_ms.append((time.perf_counter() - start) * 1000)
            update_parsed.append(report.files_indexed)
        result = {
            "file": edit,
            "file_lines": _count_lines(original),
            "file_bytes": len(original),
            "update_files_ms_median": round(statistics.median(update_ms), 2),
            "update_files_ms": [round(v, 2) for v in update_ms],
            "update_files_parsed": update_parsed,
        }
        if incremental:
            incremental_s, incremental_parsed = [], []
            log(f"incremental index_repository after editing {edit} x{INCREMENTAL_REPEATS} ...")
            for i in range(UPDATE_REPEATS, UPDATE_REPEATS + INCREMENTAL_REPEATS):
                edit_abs.write_bytes(toggle[i % 2])
                start = time.perf_counter()
                report = index_repository(store, options)
                incremental_s.append(time.perf_counter() - start)
                incremental_parsed.append(report.files_indexed)
            result["incremental_index_s_median"] = round(statistics.median(incremental_s), 3)
            result["incremental_index_s"] = [round(v, 3) for v in incremental_s]
            result["incremental_index_parsed"] = incremental_parsed
    finally:
        edit_abs.write_bytes(original)
        update_files(store, [edit])
    return result


def _ctags(tree: Path) -> dict:
    exe = shutil.which("ctags")
    if exe is None:
        return {"available": False, "note": "ctags is absent; `apt-get install universal-ctags` enables the comparison"}
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.splitlines()
    if not version or "Universal Ctags" not in version[0]:
        return {"available": False, "note": f"{exe} is not Universal Ctags ({version[:1]}); "
                "`apt-get install universal-ctags` enables the comparison"}
    command = [exe, "-R", "-f", "/dev/null", "--languages=Python", str(tree)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    return {
        "available": True,
        "version": version[0],
        "command": " ".join(command),
        "returncode": done.returncode,
        "seconds": round(seconds, 3),
    }


def run(args: argparse.Namespace) -> dict:
    env = environment(args.workers or os.cpu_count())  # before running: the commit measured
    source = (args.root or stdlib_root()).resolve()
    skip = frozenset(DEFAULT_EXCLUDED_DIRS | {"site-packages"}) if args.root is None else DEFAULT_EXCLUDED_DIRS
    with tempfile.TemporaryDirectory(prefix="bowerbird-bench-") as temp:
        tree = Path(temp) / "tree"
        log(f"copying {source} to {tree} ...")
        start = time.perf_counter()
        copy_tree(source, tree, skip)
        copy_s = time.perf_counter() - start
        index_dir = Path(temp) / "index"
        index_path = index_path_for(tree, index_dir)
        store = IndexStore(index_path, tree)
        options = IndexOptions(workers=args.workers)
        try:
            # -- full index -------------------------------------------------------------
            log("full index ...")
            start = time.perf_counter()
            full = index_repository(store, options)
            full_s = time.perf_counter() - start
            rss_self = _maxrss_mb(resource.RUSAGE_SELF)
            rss_children = _maxrss_mb(resource.RUSAGE_CHILDREN)  # largest single worker
            db_mb = _file_size_mb(index_path)
            wal_mb = _file_size_mb(Path(f"{index_path}-wal"))
            paths = sorted(store.files())
            lines = sum(_count_lines((tree / p).read_bytes()) for p in paths)

            # -- no-change re-run (walk + stat only) -----------------------------------------
            log("no-change re-run ...")
            start = time.perf_counter()
            again = index_repository(store, options)
            nochange_s = time.perf_counter() - start

            # -- one-file edits ---------------------------------------------------------
            edit = args.edit_file or _pick_edit_file(tree, paths)
            one = _edit_benchmark(store, options, tree, edit, incremental=True)
            large = None
            if args.edit_file is None:
                heavy = _pick_weighted_file(tree, paths)
                if heavy != edit:
                    large = _edit_benchmark(store, options, tree, heavy, incremental=False)
        finally:
            store.close()

        # -- ctags (after the RSS readings: it is a child process too) -------------------
        log("ctags ...")
        ctags = _ctags(tree)

    peak_rss = max(rss_self, rss_children)
    update_median = one["update_files_ms_median"]
    document = {
        "benchmark": "bench_index",
        "environment": env,
        "tree": {
            "source": str(source),
            "copied_without": sorted(skip),
            "copy_seconds": round(copy_s, 3),
            "files_indexed": full.files_indexed,
            "files_total": full.files_total,
            "files_skipped": dict(sorted(full.files_skipped.items())),
            "lines": lines,
            "symbols": full.symbols,
        },
        "full_index": {
            "seconds": round(full_s, 3),
            "files_per_s": round(full.files_indexed / full_s, 1),
            "lines_per_s": round(lines / full_s),
            "peak_rss_mb": round(peak_rss, 1),
            "rss_self_mb": round(rss_self, 1),
            "rss_children_mb": round(rss_children, 1),
            "index_mb": round(db_mb + wal_mb, 2),
            "index_db_mb": round(db_mb, 2),
            "index_wal_mb": round(wal_mb, 2),
        },
        "no_change_rerun": {
            "seconds": round(nochange_s, 3),
            "files_parsed": again.files_indexed,
            "files_unchanged": again.files_unchanged,
        },
        "one_file_update": one,
        "one_file_update_large": large,
        "ctags": ctags,
        "targets": {
            "full_index_s": {"target": TARGET_FULL_S, "value": round(full_s, 3), "pass": full_s <= TARGET_FULL_S},
            "peak_rss_mb": {"target": TARGET_RSS_MB, "value": round(peak_rss, 1), "pass": peak_rss <= TARGET_RSS_MB},
            "one_file_update_ms": {
                "target": TARGET_UPDATE_MS, "value": round(update_median, 2), "pass": update_median <= TARGET_UPDATE_MS,
            },
        },
    }
    if ctags.get("available") and ctags.get("seconds"):
        document["ctags"]["ratio_bowerbird_over_ctags"] = round(full_s / ctags["seconds"], 2)
    return document


def render(doc: dict) -> str:
    tree, full, nochange, one, targets = (
        doc["tree"], doc["full_index"], doc["no_change_rerun"], doc["one_file_update"], doc["targets"]
    )
    env = doc["environment"]
    rows = [
        ("files indexed", f"{tree['files_indexed']} ({sum(tree['files_skipped'].values())} skipped)", "", ""),
        ("lines", f"{tree['lines']:,}", "", ""),
        ("symbols", f"{tree['symbols']:,}", "", ""),
        ("full index", f"{full['seconds']:.2f} s", f"<= {TARGET_FULL_S:g} s",
         verdict(targets["full_index_s"]["pass"])),
        ("  files/s", f"{full['files_per_s']:,.0f}", "", ""),
        ("  lines/s", f"{full['lines_per_s']:,}", "", ""),
        ("peak RSS (max of self, worker)", f"{full['peak_rss_mb']:.1f} MB", f"<= {TARGET_RSS_MB:g} MB",
         verdict(targets["peak_rss_mb"]["pass"])),
        ("  RSS self", f"{full['rss_self_mb']:.1f} MB", "", ""),
        ("  RSS largest worker", f"{full['rss_children_mb']:.1f} MB", "", ""),
        ("index size (db + wal)", f"{full['index_mb']:.2f} MB ({full['index_db_mb']:.2f} + {full['index_wal_mb']:.2f})",
         "", ""),
        ("no-change re-run", f"{nochange['seconds'] * 1000:.0f} ms ({nochange['files_parsed']} parsed)", "", ""),
        (f"update_files, 1 file (median of {len(one['update_files_ms'])})", f"{one['update_files_ms_median']:.2f} ms",
         f"<= {TARGET_UPDATE_MS:g} ms", verdict(targets["one_file_update_ms"]["pass"])),
        ("  samples", ", ".join(f"{v:.1f}" for v in one["update_files_ms"]) + " ms", "", ""),
        (f"incremental index_repository, 1 edit (median of {len(one['incremental_index_s'])})",
         f"{one['incremental_index_s_median'] * 1000:.0f} ms", "", ""),
    ]
    large = doc.get("one_file_update_large")
    if large:
        rows += [
            (f"update_files, large file (median of {len(large['update_files_ms'])})",
             f"{large['update_files_ms_median']:.2f} ms", "(info)", ""),
            ("  samples", ", ".join(f"{v:.1f}" for v in large["update_files_ms"]) + " ms", "", ""),
        ]
    ctags = doc["ctags"]
    if ctags.get("available"):
        rows.append(("ctags -R (Python)", f"{ctags['seconds']:.2f} s", "", ""))
        if "ratio_bowerbird_over_ctags" in ctags:
            rows.append(("  ratio bowerbird/ctags", f"{ctags['ratio_bowerbird_over_ctags']:.2f}x", "", ""))
    title = (
        f"bowerbird index benchmark: {tree['source']} "
        f"(Python {env['python']}, {env['cpu_count']} cores, {env['workers']} workers, commit {_short(env['git_commit'])})\n"
        f"edited file: {one['file']} ({one['file_lines']} lines, median size)"
        + (f"; large file: {large['file']} ({large['file_lines']} lines, line-weighted median)" if large else "")
    )
    text = table(rows, title)
    if not ctags.get("available"):
        text += f"\n{ctags['note']}"
    else:
        text += f"\nctags command: {ctags['command']} (exit {ctags['returncode']})"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=0, help="parser processes (default 0: one per core)")
    parser.add_argument("--root", type=Path, default=None,
                        help="benchmark a copy of this tree instead of the stdlib")
    parser.add_argument("--edit-file", default=None,
                        help="file to edit, relative to the root (default: the median-size Python file)")
    parser.add_argument("--output", type=Path, default=None,
                        help="JSON result file (default: benchmarks/results/bench_index.json)")
    parser.add_argument("--json", action="store_true", help="print the JSON document on stdout instead of the table")
    args = parser.parse_args()
    if args.root is not None and not args.root.is_dir():
        parser.error(f"{args.root}: not a directory")
    document = run(args)
    path = write_result("bench_index", document, args.output)
    if args.json:
        json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(render(document))
        print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
