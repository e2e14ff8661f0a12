"""Reproduce the evaluation behind the recommender's default parameters (docs/recommender.md).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/recommender_defaults.py [--quick]

Two kinds of data: heavy-tailed synthetic listening (Pareto play counts, 1% of listeners with
100,000 plays of one track) and the demo world's listening (listening/demo/world.py). Prints
ALS NDCG@10 for each confidence function and alpha, and the ratio to popularity.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from listening.demo.world import plan_catalogue, plan_listening, plan_users
from recommender.engine.matrix import Interactions
from recommender.engine.pipeline import evaluate, matrix_for
from recommender.engine.trainer import ImplicitAlsTrainer, Params

FUNCTIONS = ("log", "linear", "clipped", "binary")
ALPHAS = (1.0, 5.0, 10.0, 40.0)


def heavy_tailed(
    seed: int, users: int, items: int, groups: int = 12, mean_entries: float = 40.0
) -> Interactions:
    rng = np.random.default_rng(seed)
    item_group = rng.integers(0, groups, items)
    popularity = 1 / (rng.permutation(items) + 1.0) ** 0.9
    columns: dict[str, list] = defaultdict(list)
    for user in range(users):
        taste = rng.dirichlet([0.3] * groups)
        weights = popularity * taste[item_group] ** 2
        weights /= weights.sum()
        count = int(np.clip(rng.lognormal(np.log(mean_entries), 0.8), 5, 20 * mean_entries))
        chosen = np.unique(rng.choice(items, size=count, p=weights))
        plays = np.floor(rng.pareto(1.1, len(chosen)) * 2 + 1).astype(np.int64)
        if rng.random() < 0.01:
            plays[rng.integers(len(plays))] = 100_000
        columns["user"] += [user] * len(chosen)
        columns["track"] += chosen.tolist()
        columns["plays"] += np.minimum(plays, 10**7).tolist()
    n = len(columns["user"])
    zeros = np.zeros(n, dtype=np.int64)
    return Interactions(
        np.array(columns["user"]), np.array(columns["track"]), np.array(columns["plays"]),
        zeros, zeros, rng.uniform(0, 1e6, n), np.zeros(n, bool), np.zeros(n, bool),
    )  # fmt: skip


def demo_listening(seed: int) -> Interactions:
    rng = np.random.default_rng(seed)
    tracks = plan_catalogue(120, rng)
    users = plan_users(60, rng)
    listens, feedback = plan_listening(tracks, users, rng)
    pairs: dict[tuple[int, int], list] = defaultdict(lambda: [0, 0, 0, 0.0])
    for listen in listens:
        entry = pairs[(listen.user, listen.track)]
        entry[0 if listen.completed else 2 if listen.skipped else 1] += 1
        entry[3] = max(entry[3], 1e9 - listen.seconds_ago)
    likes = {(f.user, f.track) for f in feedback if f.kind == "like"}
    dislikes = {(f.user, f.track) for f in feedback if f.kind == "dislike"}
    keys = sorted(pairs)
    counts = np.array([pairs[k] for k in keys])
    return Interactions(
        np.array([k[0] for k in keys]), np.array([k[1] for k in keys]),
        counts[:, 0].astype(np.int64), counts[:, 1].astype(np.int64),
        counts[:, 2].astype(np.int64), counts[:, 3],
        np.array([k in likes for k in keys]), np.array([k in dislikes for k in keys]),
    )  # fmt: skip


def table(name: str, data: Interactions, regularization: float) -> None:
    trainer = ImplicitAlsTrainer()
    started = time.perf_counter()
    print(f"\n{name}: {len(data)} pairs, largest count {int(data.completed.max())}")
    print(f"{'f':8}" + "".join(f"alpha={a:<10g}" for a in ALPHAS))
    popularity = None
    for function in FUNCTIONS:
        cells = []
        for alpha in ALPHAS:
            params = Params(factors=64, regularization=regularization, alpha=alpha,
                            confidence=function)  # fmt: skip
            result = evaluate(matrix_for(data, params), params, trainer, seed=0)
            popularity = result.popularity.ndcg
            cells.append(f"{result.als.ndcg:.4f} {result.als.ndcg / popularity:4.1f}x ")
        print(f"{function:8}" + "".join(f"{c:16}" for c in cells))
    print(f"popularity NDCG@10 {popularity:.4f}; {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller heavy-tailed set")
    args = parser.parse_args()
    users, items = (800, 1200) if args.quick else (3000, 4000)
    table(f"heavy-tailed ({users} users, {items} tracks)", heavy_tailed(1, users, items), 0.1)
    for seed in (7, 11):
        table(f"demo world, seed {seed}", demo_listening(seed), 0.1)


if __name__ == "__main__":
    main()
