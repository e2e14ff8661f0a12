"""What the weekly tune costs (docs/performance.md, "The tune"), against one fit of the defaults.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/tune_cost.py [--users N] [--tracks N]
        [--entries N] [--json]

Heavy-tailed synthetic listening (bench/recommender_defaults.py's generator: Zipf-like track
popularity, taste groups, Pareto play counts) of the given size, in memory (no database: the
tune's cost is its fits and scoring). Runs the tune exactly as `retrain --tune` and the weekly
beat entry do (pipeline.tune on TUNING_GRID, the defaults as its start) and, in the same run, one
fit of the defaults: prints `tune_seconds`, `default_fit_seconds`, their ratio
`tune_vs_default_fit`, the cells tried and the winner.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.recommender_defaults import heavy_tailed
from recommender.engine.pipeline import TUNING_GRID, matrix_for, tune
from recommender.engine.trainer import ImplicitAlsTrainer, Params


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000, help="(user, track) pairs, about")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data = heavy_tailed(0, args.users, args.tracks, mean_entries=args.entries / args.users)
    trainer = ImplicitAlsTrainer()
    defaults = Params()
    started = time.perf_counter()
    fit = trainer.train(matrix_for(data, defaults).user_items, defaults)
    default_fit = time.perf_counter() - started
    started = time.perf_counter()
    tuning = tune(data, defaults, trainer, grid=TUNING_GRID)
    tune_seconds = time.perf_counter() - started
    body = {
        "users": args.users,
        "tracks": args.tracks,
        "entries": len(data),
        "default_fit_seconds": round(default_fit, 2),
        "als_fit_seconds": round(fit.fit_seconds, 2),
        "tune_seconds": round(tune_seconds, 1),
        "tune_vs_default_fit": round(tune_seconds / default_fit, 1),
        "cells": len(tuning.results),
        "winner": {k: getattr(tuning.best, k) for k in ("factors", "regularization", "alpha",
                                                         "confidence")},
        "validation_ndcg": {"defaults": round(tuning.base.ndcg, 4),
                            "winner": round(tuning.won.ndcg, 4)},
    }  # fmt: skip
    print(json.dumps(body) if args.json else json.dumps(body, indent=1))


if __name__ == "__main__":
    main()
