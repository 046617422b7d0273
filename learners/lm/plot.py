"""A bar chart of `bowerbird eval completion` results (PNG), as RLPG's Table 3 in a picture."""

from __future__ import annotations

from pathlib import Path


def plot_methods(summary: dict, path: Path) -> Path:
    """Exact match per method with its bootstrap 95% interval, and edit similarity beside it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary["methods"])
    em = [(summary["methods"][n]["em"] or 0.0) * 100 for n in names]
    ci = [summary["methods"][n]["em_ci95"] or [0.0, 0.0] for n in names]
    low = [max(0.0, e - c[0] * 100) for e, c in zip(em, ci)]
    high = [max(0.0, c[1] * 100 - e) for e, c in zip(em, ci)]
    es = [(summary["methods"][n]["es"] or 0.0) * 100 for n in names]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    left.bar(names, em, yerr=[low, high], capsize=4, color="#4c72b0")
    left.set_ylabel("exact match (%)")
    left.set_title("exact match, 95% interval")
    right.bar(names, es, color="#55a868")
    right.set_ylabel("edit similarity (%)")
    right.set_title("edit similarity")
    for axis in (left, right):
        axis.tick_params(axis="x", rotation=30)
        axis.set_ylim(bottom=0)
    figure.suptitle(f"{Path(summary['repo']).name}: {summary['holes']} scored holes, "
                    f"fixed_best = proposal {summary['fixed_best_id']} ({Path(str(summary['model'])).name})")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
