#!/usr/bin/env python
"""Pool `bowerbird eval completion --json` results over packages, and compare two runs.

    python scripts/pool_evals.py RUN_DIR [--against OTHER_RUN_DIR] [--stdlib-only] [--json]

A run folder holds one JSON file per package (the eval's `--json` output). The pooled exact
match of each method is over all scored holes, with a bootstrap 95% interval over holes; with
`--against`, the holes scored in both runs are paired and the difference of each method
(this run minus the other) gets a paired bootstrap interval, so a change between two
checkpoints is read against the noise of the sample. It also reports fixed_best chosen as RLPG
chooses it, on other repositories: each package scored with the proposal best on the others;
and the single proposal that solves the most scored holes of all the runs (`best_proposal`):
run the sweep on training packages (`--methods in_file,oracle` is enough) and pass that id to
`bowerbird eval completion --fixed-best ID` on the held-out ones, RLPG's protocol.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

METHODS = ("in_file", "random", "retrieval", "fixed_best", "rlpg_h", "oracle")
SITE_PACKAGES = "site-packages"
IN_FILE_ID = 62  # learners.lm.evaluate.IN_FILE_ID


def load(folder: Path, stdlib_only: bool = False) -> list[dict]:
    runs = []
    for path in sorted(folder.glob("*.json")):
        try:
            run = json.loads(path.read_text())
        except (OSError, ValueError):
            print(f"{path}: not an eval result, skipped", file=sys.stderr)
            continue
        if not isinstance(run, dict) or "methods" not in run:
            print(f"{path}: not an eval result, skipped", file=sys.stderr)
            continue
        if stdlib_only and SITE_PACKAGES in run.get("repo", ""):
            continue
        runs.append(run)
    return runs


def holes(runs: list[dict]) -> dict[tuple, dict]:
    """Each scored hole with per-hole results, keyed by (package, path, line, col)."""
    return {(Path(r["repo"]).name, s["path"], s["line"], s["col"]): s
            for r in runs for s in r.get("scored", []) if "em" in s}


def bootstrap(values: list[float], rounds: int = 2000, seed: int = 0) -> list[float] | None:
    if not values:
        return None
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(values, k=len(values))) / len(values) for _ in range(rounds))
    return [round(means[int(0.025 * rounds)], 4), round(means[int(0.975 * rounds) - 1], 4)]


def pooled(runs: list[dict]) -> dict:
    """Pooled exact match and edit similarity per method (weighted by scored holes), with a
    bootstrap interval over holes when the runs carry per-hole results."""
    per_hole = holes(runs)
    total = sum(r["holes"] for r in runs)
    result = {"packages": [Path(r["repo"]).name for r in runs], "holes": total, "methods": {}}
    for method in METHODS:
        having = [r for r in runs if r["methods"].get(method, {}).get("em") is not None]
        if not having:
            continue
        n = sum(r["holes"] for r in having)
        em = sum(r["methods"][method]["em"] * r["holes"] for r in having) / n
        with_es = [r for r in having if r["methods"][method].get("es") is not None]
        es = (sum(r["methods"][method]["es"] * r["holes"] for r in with_es) / sum(r["holes"] for r in with_es)
              if with_es else None)
        values = [float(s["em"][method]) for s in per_hole.values() if method in s["em"]]
        result["methods"][method] = {"em": round(em, 4), "em_ci95": bootstrap(values) if len(values) == n else None,
                                     "es": round(es, 4) if es is not None else None}
    base = result["methods"].get("in_file", {}).get("em")
    for values in result["methods"].values():
        values["relative_to_in_file"] = round(values["em"] / base - 1, 4) if base else None
    return result


def paired(runs: list[dict], others: list[dict]) -> dict:
    """Per method: exact match here and there on the holes both runs scored, and the paired
    bootstrap interval of the difference."""
    mine, theirs = holes(runs), holes(others)
    common = sorted(set(mine) & set(theirs))
    result = {"holes": len(common), "methods": {}}
    for method in METHODS:
        keys = [k for k in common if method in mine[k]["em"] and method in theirs[k]["em"]]
        if not keys:
            continue
        differences = [float(mine[k]["em"][method]) - float(theirs[k]["em"][method]) for k in keys]
        result["methods"][method] = {
            "holes": len(keys),
            "em": round(sum(float(mine[k]["em"][method]) for k in keys) / len(keys), 4),
            "em_other": round(sum(float(theirs[k]["em"][method]) for k in keys) / len(keys), 4),
            "difference": round(sum(differences) / len(keys), 4),
            "difference_ci95": bootstrap(differences),
        }
    return result


def proposal_wins(holes: list[dict]) -> dict[int, int]:
    """How many of `holes` each proposal solves; in_file (the baseline) is not counted."""
    wins: dict[int, int] = {}
    for hole in holes:
        for pid in hole["solved_by"]:
            if pid != IN_FILE_ID:
                wins[pid] = wins.get(pid, 0) + 1
    return wins


def most_wins(wins: dict[int, int]) -> int:
    """The proposal with the most wins (ties: the lower id); in_file when none won."""
    return max(wins, key=lambda pid: (wins[pid], -pid)) if wins else IN_FILE_ID


def fixed_best_across_packages(runs: list[dict]) -> dict:
    """fixed_best as RLPG chooses it, on other repositories: for each package, the proposal that
    solves the most scored holes of the other packages, scored on this package's holes."""
    packages = {Path(r["repo"]).name: [s for s in r.get("scored", []) if "solved_by" in s] for r in runs}
    chosen, solved, total = {}, 0, 0
    for name, scored in packages.items():
        wins = proposal_wins([hole for other, others in packages.items() if other != name for hole in others])
        best = most_wins(wins)
        chosen[name] = best
        solved += sum(best in hole["solved_by"] for hole in scored)
        total += len(scored)
    return {"holes": total, "em": round(solved / total, 4) if total else None, "chosen": chosen}


def best_proposal(runs: list[dict]) -> dict:
    """The proposal that solves the most scored holes of all the runs (ties: the lower id; in_file,
    id 62, is the baseline, not a candidate), with in_file's count beside it."""
    scored = [s for r in runs for s in r.get("scored", []) if "solved_by" in s]
    wins = proposal_wins(scored)
    best = most_wins(wins)
    return {"id": best, "solved": wins.get(best, 0), "in_file_solved": sum(bool(h["em"].get("in_file")) for h in scored),
            "holes": len(scored), "ranking": sorted(wins.items(), key=lambda kv: (-kv[1], kv[0]))[:10]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="folder of per-package eval JSON files")
    parser.add_argument("--against", type=Path, default=None, help="another run's folder, on the same holes")
    parser.add_argument("--stdlib-only", action="store_true", help="leave out packages under site-packages")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    runs = load(args.run, args.stdlib_only)
    if not runs:
        print(f"{args.run}: no eval results", file=sys.stderr)
        return 2
    report = {"pooled": pooled(runs), "fixed_best_across_packages": fixed_best_across_packages(runs),
              "best_proposal": best_proposal(runs)}
    if args.against:
        others = load(args.against, args.stdlib_only)
        if not others:
            print(f"{args.against}: no eval results", file=sys.stderr)
            return 2
        report["paired"] = paired(runs, others)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    p = report["pooled"]
    print(f"{', '.join(p['packages'])}: {p['holes']} scored holes")
    print(f"{'method':<12} {'exact match':>12} {'95% CI':>17} {'vs in_file':>11} {'edit sim.':>10}")
    for name, m in p["methods"].items():
        ci = f"[{m['em_ci95'][0] * 100:.1f}, {m['em_ci95'][1] * 100:.1f}]" if m["em_ci95"] else "-"
        rel = f"{m['relative_to_in_file'] * 100:+.1f}%" if m["relative_to_in_file"] is not None else "-"
        es = f"{m['es']:.3f}" if m["es"] is not None else "-"
        print(f"{name:<12} {m['em'] * 100:>11.1f}% {ci:>17} {rel:>11} {es:>10}")
    across = report["fixed_best_across_packages"]
    if across["em"] is not None:
        print(f"fixed_best chosen on the other packages: {across['em'] * 100:.1f}% "
              f"(proposals {', '.join(f'{k}: {v}' for k, v in across['chosen'].items())})")
    best = report["best_proposal"]
    print(f"best single proposal: {best['id']} ({best['solved']} of {best['holes']} holes; in_file "
          f"{best['in_file_solved']}); next: {', '.join(f'{pid}: {n}' for pid, n in best['ranking'][1:6])}")
    if "paired" in report:
        q = report["paired"]
        print(f"\npaired with {args.against} on {q['holes']} common holes (this run minus the other):")
        for name, m in q["methods"].items():
            lo, hi = m["difference_ci95"]
            print(f"{name:<12} {m['em'] * 100:5.1f}% vs {m['em_other'] * 100:5.1f}%  "
                  f"difference {m['difference'] * 100:+.1f} points [{lo * 100:+.1f}, {hi * 100:+.1f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
