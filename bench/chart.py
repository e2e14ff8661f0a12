"""The cost-against-size chart of docs/performance.md (matplotlib, no display needed).

    python bench/chart.py docs/performance-run.json docs/performance-large.json docs/performance.png

redraws it from saved runs: the full run's curve (10,000 listeners, up to about a million events)
and, when given, the `--large` run's two stages (100,000 listeners, 1M and 10M events, with the
Spark local[2] fits beside implicit's).
"""

import json
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import ticker

LARGE = "#c9302f"


def large_points(run: dict) -> list[dict]:
    """The `--large` run's stages as curve points (what of them completed)."""
    context = run.get("context", {})
    points = []
    for stage, matrix, fits in ((1, context.get("matrix_1m"), context.get("fits_1m")),
                                (2, run, context.get("fits_10m"))):  # fmt: skip
        populated = context.get(f"populate_{stage}", {}).get("events", {})
        if not populated or not matrix or "matrix_build_seconds" not in matrix:
            continue
        point = {"events": populated["events"], "pairs": populated["pairs"],
                 "matrix_seconds": matrix["matrix_build_seconds"]}  # fmt: skip
        if fits:
            point.update(fit_seconds=fits["implicit"], spark_seconds=fits["spark"])
        points.append(point)
    return points


def draw(curves: list[dict], path: Path, large: list[dict] | None = None) -> None:
    large = large or []
    figure, axes = plt.subplots(1, 3, figsize=(12, 3.6), constrained_layout=True)
    panels = [
        ("matrix_seconds", "Interaction matrix build (s)"),
        ("import_100k_seconds", "import_listens of 100,000 rows (s)"),
        ("fit_seconds", "One ALS fit, 64 factors x 15 it. (s)"),
    ]
    for axis, (key, title) in zip(axes, panels, strict=True):
        axis.plot([p["events"] / 1e6 for p in curves], [p[key] for p in curves], marker="o",
                  color="#5b2fc9", label="10,000 listeners")  # fmt: skip
        mine = [p for p in large if key in p]
        if mine:
            axis.plot([p["events"] / 1e6 for p in mine], [p[key] for p in mine], marker="s",
                      color=LARGE, label="100,000 listeners (--large)")  # fmt: skip
        spark = [p for p in large if p.get("spark_seconds", math.nan) == p.get("spark_seconds")
                 and key == "fit_seconds"]  # a NaN is a fit left out  # fmt: skip
        if spark:
            axis.plot([p["events"] / 1e6 for p in spark], [p["spark_seconds"] for p in spark],
                      marker="^", linestyle="--", color=LARGE,
                      label="Spark local[2] (--large)")  # fmt: skip
        axis.set_title(title, fontsize=10)
        axis.set_xlabel("listening events in the database (millions)")
        if large:  # 0.1 to 10 million events: both axes logarithmic, plain numbers
            axis.set_xscale("log")
            axis.set_yscale("log" if key != "import_100k_seconds" else "linear")
            axis.set_ylim(bottom=0 if key == "import_100k_seconds" else None)
            for scale in (axis.xaxis, axis.yaxis):
                scale.set_major_formatter(ticker.FormatStrFormatter("%g"))
                scale.set_minor_formatter(ticker.NullFormatter())
            axis.legend(fontsize=7)
        else:
            axis.set_ylim(bottom=0)
        axis.grid(alpha=0.3)
    for point in [*curves, *large]:
        label = f"{point['pairs'] / 1e3:.0f}k pairs"
        axes[0].annotate(label, (point["events"] / 1e6, point["matrix_seconds"]),
                         textcoords="offset points", xytext=(0, 6), fontsize=7,
                         ha="center")  # fmt: skip
    figure.suptitle("musicrec: cost against size (2 cores, PostgreSQL 15)", fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


if __name__ == "__main__":
    full = json.loads(Path(sys.argv[1]).read_text())
    extra = large_points(json.loads(Path(sys.argv[2]).read_text())) if len(sys.argv) > 3 else []
    draw(full["context"]["curves"], Path(sys.argv[-1]), extra)
