"""`evaluate --json`'s figures on the synthetic heavy-tailed set (docs/recommender.md,
"Evaluation"), without a database.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/served_eval.py [--users N] [--tracks N]

bench/recommender_defaults.py's heavy-tailed listening; artists of four consecutive tracks (the
per-artist cap has something to do), no audio (so the blend is ALS alone). Prints the same JSON
object `manage.py evaluate --json` prints, with the training defaults.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.recommender_defaults import heavy_tailed
from recommender.engine.pipeline import evaluate, matrix_for
from recommender.engine.served import Catalogue
from recommender.engine.trainer import ImplicitAlsTrainer, Params


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--tracks", type=int, default=4000)
    args = parser.parse_args()
    data = heavy_tailed(0, args.users, args.tracks)
    params = Params()
    matrix = matrix_for(data, params)
    columns = matrix.shape[1]
    catalogue = Catalogue(artist_ids=np.arange(columns) // 4, capped=np.ones(columns, bool))
    result = evaluate(matrix, params, ImplicitAlsTrainer(), catalogue=catalogue)
    print(json.dumps(result.as_dict()))


if __name__ == "__main__":
    main()
