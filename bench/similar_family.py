"""How often "similar sounding" finds the seed's own family of sound, on the labelled synthetic
set of tests/helpers/families.py (docs/features.md, "How well it works").

    python bench/similar_family.py            # {"similar_family_top3", ...} on the evaluation set
    python bench/similar_family.py --tune     # chooses GROUP_WEIGHTS on a separate tuning set

The evaluation set (seed 0) is the one tests/catalog/test_sound_families.py builds; the tuning
set (seed 100) has other clips of the same families, so the weights are not fitted to the clips
they are judged on. BLAS at one thread.
"""

from __future__ import annotations

import argparse
import json
import sys
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
                            is_music=music if described else None)  # fmt: skip
    if weights is not None:
        from catalog.similarity.embedding import embed

        index.unit = embed(raw, description, weights=weights).unit
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--tune", action="store_true")
    args = parser.parse_args()
    with threadpool_limits(limits=1):
        if args.tune:
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
