"""`eval reward --plot`: pairwise accuracy against the number of adaptation choices, one panel
per disagreement level (PNG)."""

from __future__ import annotations

from pathlib import Path

STYLE = {"pooled": ("#c44e52", "--"), "rfm": ("#4c72b0", "-"), "linear": ("#55a868", "-."),
         "oracle": ("#8c8c8c", ":")}  # fmt: skip


def plot_accuracy(result: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = list(dict.fromkeys(r["disagreement"] for r in result["results"]))
    figure, axes = plt.subplots(1, len(levels), figsize=(4.2 * len(levels), 3.6), sharey=True,
                                constrained_layout=True, squeeze=False)  # fmt: skip
    for axis, level in zip(axes[0], levels):
        for method, (color, line) in STYLE.items():
            rows = sorted((r["k"], r["accuracy"]) for r in result["results"]
                          if r["disagreement"] == level and r["method"] == method)  # fmt: skip
            if rows:
                axis.plot([k for k, _ in rows], [100 * a for _, a in rows], line, marker="o", color=color,
                          label=method, markersize=4)  # fmt: skip
        axis.set_title(f"{level} disagreement")
        axis.set_xlabel("choices used for adaptation (k)")
        axis.grid(alpha=0.3)
    axes[0][0].set_ylabel("pairwise accuracy, held-out developers (%)")
    axes[0][-1].legend(loc="lower right")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
