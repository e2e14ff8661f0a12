"""How often "similar sounding" finds the seed's own family of sound, on the labelled synthetic
set of tests/helpers/families.py (docs/features.md, "How well it works").

    python bench/similar_family.py            # {"similar_family_top3", ...} on the evaluation set
    python bench/similar_family.py --tune     # chooses GROUP_WEIGHTS on a separate tuning set
    python bench/similar_family.py --scale 100000   # index build and similar() on random tracks

The evaluation set (seed 0) is the one tests/catalog/test_sound_families.py builds; the tuning
set (seed 100) has other clips of the same families, so the weights are not fitted to the clips
they are judged on. BLAS at one thread.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog.similarity import SimilarityIndex
from catalog.similarity.embedding import GROUP_WEIGHTS
from tests.helpers.families import analysed_set, index_top3_rate

EVALUATION_SEED, TUNING_SEED = 0, 100
PER_FAMILY = 5
GRID = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)


def make_index(analysed, *, described: bool, weights: dict[str, float] | None = None):
    families, raw, description, music = analysed
    n = len(families)
    ids = np.arange(1, n + 1)
    index = SimilarityIndex(ids, ids + 1000, [f"a{i}|t{i}" for i in range(n)], raw,
                            description=description if described else None,
                            is_music=music if described else None,
                            weights=weights)  # fmt: skip
    return index


def measure(analysed) -> dict[str, float]:
    families = analysed[0]
    return {
        "similar_family_top3": index_top3_rate(families, make_index(analysed, described=True)),
        "similar_family_top3_16_numbers": index_top3_rate(
            families, make_index(analysed, described=False)
        ),
        "similar_family_clips": float(len(families)),
    }


def tune(analysed, passes: int = 4) -> tuple[dict[str, float], float]:
    """Coordinate ascent over the group weights, starting from equal weights: each group in turn
    takes the grid value with the best top-3 rate (ties: the value nearest 1, the least departure
    from equal weights), until a pass changes nothing."""
    families = analysed[0]
    weights = dict.fromkeys(GROUP_WEIGHTS, 1.0)

    def score(candidate):
        return index_top3_rate(families, make_index(analysed, described=True, weights=candidate))

    best = score(weights)
    for _ in range(passes):
        before = dict(weights)
        for group in weights:
            results = {value: score({**weights, group: value}) for value in GRID}
            value = max(GRID, key=lambda v: (round(results[v], 9), -abs(v - 1.0)))
            weights, best = {**weights, group: value}, results[value]
        if weights == before:
            break
    return weights, best


def scale(n: int, queries: int = 50) -> dict[str, float]:
    """Build seconds and mean similar(n=20) milliseconds (reasons included) at n random tracks,
    with and without sound descriptions."""
    from catalog.audio.description import DESCRIPTION_LENGTH

    rng = np.random.default_rng(0)
    raw = rng.normal(size=(n, 16))
    raw[:, 5] = rng.uniform(60, 200, n)
    raw[:, 12:] = rng.random((n, 4)) < 0.3
    ids = np.arange(1, n + 1)
    names = [f"a|{i}" for i in range(n)]
    out = {}
    for label, description in (
        ("16", None),
        ("described", rng.normal(size=(n, DESCRIPTION_LENGTH))),
    ):
        started = time.perf_counter()
        index = SimilarityIndex(ids, ids % 5000, names, raw, description=description,
                                is_music=rng.random(n) < 0.9)  # fmt: skip
        out[f"index_build_seconds_{label}"] = time.perf_counter() - started
        started = time.perf_counter()
        for seed in rng.integers(1, n, queries):
            index.similar(int(seed), 20)
        out[f"similar_ms_{label}"] = (time.perf_counter() - started) / queries * 1000
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--tune", action="store_true")
    parser.add_argument("--scale", type=int, metavar="TRACKS")
    args = parser.parse_args()
    with threadpool_limits(limits=1):
        if args.scale:
            print(json.dumps(scale(args.scale)))
        elif args.tune:
            weights, rate = tune(analysed_set(PER_FAMILY, seed=TUNING_SEED))
            evaluation = analysed_set(PER_FAMILY, seed=EVALUATION_SEED)
            held_out = index_top3_rate(
                evaluation[0], make_index(evaluation, described=True, weights=weights)
            )
            print(
                json.dumps({"weights": weights, "tuning_top3": rate, "evaluation_top3": held_out})
            )
        else:
            print(json.dumps(measure(analysed_set(PER_FAMILY, seed=EVALUATION_SEED))))
