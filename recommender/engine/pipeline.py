"""Evaluation and tuning of ALS parameters on interaction arrays. No Django."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace

from recommender.engine.confidence import confidence_values
from recommender.engine.evaluation import (
    Metrics,
    Split,
    popularity_scores,
    protocol_text,
    ranking_metrics,
    split_by_time,
    top_by_factors,
    top_by_popularity,
)
from recommender.engine.matrix import InteractionMatrix, Interactions, build_matrix
from recommender.engine.trainer import Params, Trainer

TUNING_GRID = {
    "factors": (32, 64),
    "regularization": (0.01, 0.1),
    "alpha": (2.0, 10.0, 40.0),
    "confidence": ("log", "linear", "clipped"),
}


@dataclass(frozen=True)
class Evaluation:
    k: int
    protocol: str
    n_users: int
    als: Metrics
    popularity: Metrics
    fit_seconds: float

    def as_dict(self) -> dict:
        return {
            "k": self.k,
            "protocol": self.protocol,
            "n_users": self.n_users,
            "als": self.als.as_dict(),
            "popularity": self.popularity.as_dict(),
        }


def matrix_for(interactions: Interactions, params: Params) -> InteractionMatrix:
    values = confidence_values(
        interactions.completed,
        interactions.partial,
        interactions.skips,
        interactions.liked,
        interactions.disliked,
        alpha=params.alpha,
        function=params.confidence,
    )
    return build_matrix(interactions, values)


def evaluate(
    matrix: InteractionMatrix,
    params: Params,
    trainer: Trainer,
    *,
    k: int = 10,
    seed: int = 0,
    on_iteration: Callable[[int], None] | None = None,
) -> Evaluation:
    """Held-out evaluation of `params` against popularity on the same split."""
    split = split_by_time(matrix.user_items, matrix.times, seed=seed)
    als, fit_seconds = _score_als(split, params, trainer, k, on_iteration)
    popularity = popularity_scores(split.train)
    popular = ranking_metrics(lambda rows, seen: top_by_popularity(popularity, seen, k), split, k=k)
    return Evaluation(k, protocol_text(k), len(split.users), als, popular, fit_seconds)


def tune(
    interactions: Interactions,
    base: Params,
    trainer: Trainer,
    *,
    grid: dict | None = None,
    k: int = 10,
    seed: int = 0,
    on_candidate: Callable[[Params, Metrics], None] | None = None,
) -> tuple[Params, list[tuple[Params, Metrics]]]:
    """Choose parameters by NDCG@k on a validation split carved out of the training part of the
    test split (so the test split never chooses), from a small grid around `base`."""
    grid = grid or TUNING_GRID
    results: list[tuple[Params, Metrics]] = []
    names = list(grid)
    for combination in itertools.product(*(grid[name] for name in names)):
        params = replace(base, **dict(zip(names, combination, strict=True)))
        matrix = matrix_for(interactions, params)
        outer = split_by_time(matrix.user_items, matrix.times, seed=seed)
        inner = split_by_time(outer.train, _times_like(outer.train, matrix), seed=seed + 1)
        metrics, _ = _score_als(inner, params, trainer, k, None)
        results.append((params, metrics))
        if on_candidate is not None:
            on_candidate(params, metrics)
    best = max(results, key=lambda item: (item[1].ndcg, item[1].map))[0]
    return best, results


def _score_als(
    split: Split,
    params: Params,
    trainer: Trainer,
    k: int,
    on_iteration: Callable[[int], None] | None,
) -> tuple[Metrics, float]:
    factors = trainer.train(split.train, params, on_iteration=on_iteration)
    metrics = ranking_metrics(
        lambda rows, seen: top_by_factors(
            factors.item_factors, factors.user_factors[rows], seen, k
        ),
        split,
        k=k,
    )
    return metrics, factors.fit_seconds


def _times_like(train, matrix: InteractionMatrix):
    """The last-listened times of the entries left in `train` (same structure, fewer entries)."""
    times = matrix.times.multiply(train != 0).tocsr()
    times.sort_indices()
    return times
