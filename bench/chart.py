"""The cost-against-size chart of docs/performance.md (matplotlib, no display needed)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def draw(curves: list[dict], path: Path) -> None:
    events = [point["events"] / 1e6 for point in curves]
    figure, axes = plt.subplots(1, 3, figsize=(12, 3.6), constrained_layout=True)
    panels = [
        ("matrix_seconds", "Interaction matrix build (s)"),
        ("import_100k_seconds", "import_listens of 100,000 rows (s)"),
        ("fit_seconds", "One ALS fit, 64 factors x 15 it. (s)"),
    ]
    for axis, (key, title) in zip(axes, panels, strict=True):
        axis.plot(events, [point[key] for point in curves], marker="o", color="#5b2fc9")
        axis.set_title(title, fontsize=10)
        axis.set_xlabel("listening events in the database (millions)")
        axis.set_ylim(bottom=0)
        axis.grid(alpha=0.3)
    for point, x in zip(curves, events, strict=True):
        label = f"{point['pairs'] / 1e3:.0f}k pairs"
        axes[0].annotate(label, (x, point["matrix_seconds"]), textcoords="offset points",
                         xytext=(0, 6), fontsize=7, ha="center")  # fmt: skip
    figure.suptitle("musicrec: cost against size (2 cores, PostgreSQL 15)", fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
