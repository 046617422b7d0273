"""Helpers shared by the benchmark scripts (not part of the product)."""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
REPO_ROOT = BENCH_DIR.parent


def stdlib_root() -> Path:
    """The pure-Python standard library of the running interpreter."""
    return Path(sysconfig.get_paths()["stdlib"]).resolve()


def copy_tree(source: Path, destination: Path, skip_names: frozenset[str]) -> None:
    """Copy `source` to `destination` (must not exist), leaving out folders named in `skip_names`.

    Symbolic links are copied as links (the indexer follows those that stay inside the root),
    file times are kept (copy2), so unchanged files look old to the racy-mtime check.
    """

    def ignore(directory: str, names: list[str]) -> set[str]:
        return {n for n in names if n in skip_names and os.path.isdir(os.path.join(directory, n))}

    shutil.copytree(source, destination, symlinks=True, ignore=ignore, ignore_dangling_symlinks=True)


def embedded_model(parser) -> Path:
    """The installed embedded model's folder (the benchmarks' default model), or a usage error."""
    from bowerbird.learners.lm.loading import embedded_checkpoint

    folder = embedded_checkpoint()
    if folder is None:
        parser.error("no embedded model in this installation: pass --model")
    return folder


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def environment(workers: int | None = None) -> dict:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "workers": workers,
        "git_commit": _git_commit(),
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    commit = out.stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True, text=True, timeout=10,
    ).stdout.strip()
    return commit + ("-dirty" if dirty else "")


def _short(commit: str | None) -> str:
    """A commit id as printed in the tables: 12 hex digits, `-dirty` kept."""
    if not commit:
        return "unknown"
    return commit[:12] + ("-dirty" if commit.endswith("-dirty") else "")


def write_result(name: str, document: dict, output: Path | None = None) -> Path:
    path = output or RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("PASS" if ok else "FAIL")


def table(rows: list[tuple[str, str, str, str]], title: str) -> str:
    """Rows of (metric, value, target, verdict) as aligned text."""
    header = ("metric", "value", "target", "")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    rule = "-" * len(line(tuple("-" * w for w in widths)))
    return "\n".join([title, rule, line(header), rule, *(line(r) for r in rows), rule])


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * q // 100))  # ceil(n * q / 100)
    return sorted_values[int(rank) - 1]
