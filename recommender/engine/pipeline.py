"""Evaluation and tuning of ALS parameters on interaction arrays. No Django."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from recommender.engine.confidence import Bm25, bm25_for, confidence_values
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
from recommender.engine.served import (
    Catalogue,
    coverage,
    niche_rows,
    popularity_lift,
    served_top,
)
from recommender.engine.trainer import Params, Trainer

# The tune's grid (docs/recommender.md, "Defaults that tune themselves"). Not its full product
# (320 fits): f x alpha at 16 factors, then one parameter at a time (`tune`), about 30 fits.
TUNING_GRID = {
    "confidence": ("log", "linear", "clipped", "binary", "bm25"),
    "factors": (16, 32, 64, 128),
    "alpha": (1.0, 5.0, 10.0, 40.0),
    "regularization": (0.01, 0.1, 1.0),
}


@dataclass(frozen=True)
class Tuning:
    best: Params  # the winner, or `base` when nothing beat it
    base: Metrics  # the defaults, on the validation split
    won: Metrics  # the winner's
    results: list[tuple[Params, Metrics]]  # every cell tried, in order

    @property
    def wins(self) -> bool:
        """Whether the winner beats the defaults on the validation split (strictly)."""
        return bool(self.won.ndcg > self.base.ndcg)


@dataclass(frozen=True)
class Evaluation:
    k: int
    protocol: str
    n_users: int
    als: Metrics
    popularity: Metrics
    fit_seconds: float
    served: Served | None = None

    def as_dict(self) -> dict:
        body = {
            "k": self.k,
            "protocol": self.protocol,
            "n_users": self.n_users,
            "als": self.als.as_dict(),
            "popularity": self.popularity.as_dict(),
        }
        if self.served is not None:
            body.update(self.served.as_dict())
        return body


@dataclass(frozen=True)
class Served:
    """The list as served (engine/served.py), on the same split and factors as `als`."""

    metrics: Metrics
    coverage: float  # share of the matrix's tracks in anyone's served list
    popularity_lift: float | None  # served over model median listeners, niche users
    niche_users: int

    def as_dict(self) -> dict:
        return {
            "served": self.metrics.as_dict(),
            "coverage": self.coverage,
            "served_popularity_lift": self.popularity_lift,
            "n_niche_users": self.niche_users,
        }


def matrix_for(
    interactions: Interactions, params: Params, *, counted: np.ndarray | None = None
) -> InteractionMatrix:
    """The matrix of stored values; for bm25, statistics of the `counted` entries (all)."""
    i = interactions
    bm25 = bm25_of(i, counted) if params.confidence == "bm25" else None
    values = confidence_values(
        i.completed, i.partial, i.skips, i.liked, i.disliked,
        alpha=params.alpha, function=params.confidence, bm25=bm25,
    )  # fmt: skip
    return build_matrix(interactions, values)


def bm25_of(i: Interactions, counted: np.ndarray | None = None) -> Bm25:
    return bm25_for(i.user_ids, i.track_ids, i.completed, i.partial, i.skips, i.liked,
                    i.disliked, counted)  # fmt: skip


def train_values(interactions: Interactions, params: Params, split: Split) -> Split:
    """`split` with the training values of `params` (same entries, its alpha and f); bm25's
    statistics from the training entries only."""
    counted = None
    if params.confidence == "bm25":
        _, rows = np.unique(interactions.user_ids, return_inverse=True)
        _, columns = np.unique(interactions.track_ids, return_inverse=True)
        train = split.train.tocoo()
        width = np.int64(split.train.shape[1])
        counted = np.isin(rows.astype(np.int64) * width + columns,
                          train.row.astype(np.int64) * width + train.col)  # fmt: skip
    values = matrix_for(interactions, params, counted=counted).user_items
    train = values.multiply(split.train != 0).tocsr()
    train.sort_indices()
    return Split(train=train, users=split.users, held_out=split.held_out)


def evaluate(
    matrix: InteractionMatrix,
    params: Params,
    trainer: Trainer,
    *,
    k: int = 10,
    seed: int = 0,
    on_iteration: Callable[[int], None] | None = None,
    catalogue: Catalogue | None = None,
    interactions: Interactions | None = None,
) -> Evaluation:
    """Held-out evaluation of `params` against popularity on the same split; with `catalogue`,
    the served list too (blend, filters, caps), its coverage and its popularity lift. For bm25,
    pass the `interactions` the matrix came from: the training values are then weighed with
    statistics of the training entries alone."""
    split = split_by_time(matrix.user_items, matrix.times, seed=seed)
    if interactions is not None and params.confidence == "bm25":
        split = train_values(interactions, params, split)
    factors = trainer.train(split.train, params, on_iteration=on_iteration)
    model_tops: list[tuple[np.ndarray, np.ndarray]] = []

    def model_top(rows, seen):
        top = top_by_factors(factors.item_factors, factors.user_factors[rows], seen, k)
        model_tops.append((rows, top))
        return top

    als = ranking_metrics(model_top, split, k=k)
    popularity = popularity_scores(split.train)
    popular = ranking_metrics(lambda rows, seen: top_by_popularity(popularity, seen, k), split, k=k)
    served = None
    if catalogue is not None:
        served = _served(split, factors, matrix, popularity, catalogue, model_tops, k)
    return Evaluation(k, protocol_text(k), len(split.users), als, popular, factors.fit_seconds,
                      served)  # fmt: skip


def _served(split, factors, matrix, listeners, catalogue, model_tops, k) -> Served:
    served_tops: list[tuple[np.ndarray, np.ndarray]] = []

    def served_of(rows, seen):
        top = served_top(factors.item_factors, factors.user_factors[rows], seen,
                         matrix.track_ids, listeners, catalogue, k)  # fmt: skip
        served_tops.append((rows, top))
        return top

    metrics = ranking_metrics(served_of, split, k=k)
    niche = niche_rows(split.train, listeners, split.users)

    def of_niche(tops):
        rows = np.concatenate([r for r, _ in tops]) if tops else np.zeros(0, np.int64)
        stacked = np.concatenate([t[:, :k] for _, t in tops]) if tops else np.zeros((0, k))
        return stacked[np.isin(rows, niche)].astype(np.int64)

    lift = popularity_lift(of_niche(model_tops), of_niche(served_tops), listeners)
    return Served(
        metrics=metrics,
        coverage=coverage([t for _, t in served_tops], matrix.shape[1]),
        popularity_lift=lift,
        niche_users=len(niche),
    )


def validation_split(interactions: Interactions, base: Params, *, seed: int = 0) -> Split:
    """The split a tune chooses on: the test split's training part, split again by time (so the
    test split never chooses). Which entries are positive does not depend on alpha or f, so one
    split serves every cell (`train_values` gives a cell its own values on it)."""
    matrix = matrix_for(interactions, base)
    outer = split_by_time(matrix.user_items, matrix.times, seed=seed)
    return split_by_time(outer.train, _times_like(outer.train, matrix), seed=seed + 1)


def score_cell(interactions, params: Params, split: Split, trainer: Trainer, k: int) -> Metrics:
    return _score_als(train_values(interactions, params, split), params, trainer, k, None)[0]


def tune(
    interactions: Interactions,
    base: Params,
    trainer: Trainer,
    *,
    grid: dict | None = None,
    k: int = 10,
    seed: int = 0,
    on_candidate: Callable[[Params, Metrics], None] | None = None,
) -> Tuning:
    """Choose parameters by NDCG@k on the validation split: from `base`, every (f, alpha) pair at
    the fewest factors, then factors, regularization, f and alpha one at a time, keeping each
    value that does better. The winner replaces `base` only if it beats it there."""
    grid = grid or TUNING_GRID
    split = validation_split(interactions, base, seed=seed)
    tried: dict[Params, Metrics] = {}

    def score(params: Params) -> Metrics:
        if params not in tried:
            tried[params] = score_cell(interactions, params, split, trainer, k)
            if on_candidate is not None:
                on_candidate(params, tried[params])
        return tried[params]

    best, best_metrics = base, score(base)

    def consider(params: Params) -> None:
        nonlocal best, best_metrics
        metrics = score(params)
        if (metrics.ndcg, metrics.map) > (best_metrics.ndcg, best_metrics.map):
            best, best_metrics = params, metrics

    # f and alpha act together (alpha means something else under each f): every pair, at the
    # fewest factors (the cheapest fits); then one parameter at a time from the best so far.
    fewest = min(grid.get("factors", (base.factors,)))
    pairs = itertools.product(grid.get("confidence", ()), grid.get("alpha", ()))
    for confidence, alpha in pairs:
        consider(replace(base, factors=fewest, confidence=confidence, alpha=alpha))
    for name in ("factors", "regularization", "confidence", "alpha"):
        start = best
        for value in grid.get(name, ()):
            consider(replace(start, **{name: value}))
    base_metrics = tried[base]
    if not best_metrics.ndcg > base_metrics.ndcg:
        best, best_metrics = base, base_metrics
    return Tuning(best, base_metrics, best_metrics, list(tried.items()))


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
