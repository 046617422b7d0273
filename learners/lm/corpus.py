"""The training corpus: the standard library of the running interpreter and the pure-Python
packages installed beside it, split by package (never by file) so evaluation repos are unseen.

Tests are left out (`test/`, `tests/`, `test_*.py`), as are files over 200 kB.
"""

from __future__ import annotations

import sysconfig
from dataclasses import dataclass
from pathlib import Path

# Held out of training, for evaluation: standard-library packages and one installed package.
HELD_OUT = frozenset({"email", "json", "http", "logging", "rich"})
MAX_FILE_BYTES = 200_000
SKIP_DIRS = frozenset({"test", "tests", "testing", "__pycache__", "idle_test", "site-packages", "dist-packages"})


@dataclass(frozen=True)
class CorpusFile:
    package: str  # top-level package (or module) name: the unit of the split
    path: Path
    root: Path  # the folder the package lives in (stdlib or site-packages)


def corpus_files(include_site_packages: bool = True) -> list[CorpusFile]:
    """All corpus files in a deterministic order."""
    roots = [Path(sysconfig.get_paths()["stdlib"])]
    if include_site_packages:
        roots.append(Path(sysconfig.get_paths()["purelib"]))
    files = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            relative = path.relative_to(root)
            if any(part in SKIP_DIRS or part.endswith((".dist-info", ".egg-info")) for part in relative.parts[:-1]):
                continue
            if path.name.startswith("test_") or path.name.endswith("_test.py"):
                continue
            try:
                if path.stat().st_size > MAX_FILE_BYTES:
                    continue
            except OSError:
                continue
            package = relative.parts[0].removesuffix(".py")
            files.append(CorpusFile(package, path, root))
    return files


def split(files: list[CorpusFile]) -> tuple[list[CorpusFile], list[CorpusFile]]:
    """(training, held-out) by package."""
    train = [f for f in files if f.package not in HELD_OUT]
    held = [f for f in files if f.package in HELD_OUT]
    return train, held


def cap_per_package(files: list[CorpusFile], max_bytes: int, seed: int = 0) -> list[CorpusFile]:
    """At most about `max_bytes` of each package (a random, seeded choice of its files), so a
    few huge packages (transformers, torch, sympy) do not make up most of the corpus. Order kept."""
    import random

    by_package: dict[str, list[CorpusFile]] = {}
    for file in files:
        by_package.setdefault(file.package, []).append(file)
    kept: set[Path] = set()
    rng = random.Random(seed)
    for package_files in by_package.values():
        total = 0
        for file in rng.sample(package_files, len(package_files)):
            size = file.path.stat().st_size
            if total and total + size > max_bytes:
                continue
            kept.add(file.path)
            total += size
    return [f for f in files if f.path in kept]
