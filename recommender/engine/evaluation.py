"""Held-out evaluation of ALS against popularity (docs/recommender.md, "Evaluation").

Protocol: among users with at least MIN_POSITIVES liked tracks, sample up to MAX_USERS; for each,
hold out the most recent HOLDOUT share of their liked tracks (at least one). Train on the rest
(every other user's row untouched, negatives kept). Rank every track for each sampled user,
leaving out the tracks in their training row, for ALS and for popularity (users with a liked
training entry per track), and compare the top K with the held-out tracks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

HOLDOUT = 0.2
MIN_POSITIVES = 3
MAX_USERS = 2000
CHUNK_USERS = 256


@dataclass(frozen=True)
class Split:
    train: csr_matrix
    users: np.ndarray  # rows that were scored
    held_out: list[np.ndarray]  # per scored row: held-out columns


@dataclass(frozen=True)
class Metrics:
    precision: float
    map: float
    ndcg: float

    def as_dict(self) -> dict:
        return {"precision": self.precision, "map": self.map, "ndcg": self.ndcg}


def protocol_text(k: int) -> str:
    return (
        f"per user with >= {MIN_POSITIVES} liked tracks (up to {MAX_USERS} sampled): the most "
        f"recent {HOLDOUT:.0%} of liked tracks held out; ALS and popularity rank all tracks not "
        f"in the user's training row; precision, MAP and NDCG at {k}"
    )


def split_by_time(
    user_items: csr_matrix,
    times: csr_matrix,
    *,
    holdout: float = HOLDOUT,
    max_users: int = MAX_USERS,
    seed: int = 0,
) -> Split:
    """Hold out each sampled user's most recent liked tracks (ties broken at random)."""
    rng = np.random.default_rng(seed)
    values, stamps = user_items.tocsr(copy=True), times.tocsr(copy=True)
    if not (
        np.array_equal(values.indptr, stamps.indptr)
        and np.array_equal(values.indices, stamps.indices)
    ):
        raise ValueError("times must have exactly the entries of user_items")
    positives = np.diff((values > 0).astype(np.int8).tocsr().indptr)
    eligible = np.flatnonzero(positives >= MIN_POSITIVES)
    if len(eligible) > max_users:
        eligible = np.sort(rng.choice(eligible, size=max_users, replace=False))
    held_out: list[np.ndarray] = []
    removed: list[np.ndarray] = []  # positions in the CSR data array
    for row in eligible:
        start, stop = values.indptr[row], values.indptr[row + 1]
        columns = values.indices[start:stop]
        liked = values.data[start:stop] > 0
        when = stamps.data[start:stop] + rng.random(stop - start) * 1e-3  # random tie-break
        candidates = np.flatnonzero(liked)
        count = max(1, round(holdout * len(candidates)))
        newest = candidates[np.argsort(-when[candidates], kind="stable")[:count]]
        held_out.append(np.sort(columns[newest]))
        removed.append(start + newest)
    train = values
    if removed:
        train.data[np.concatenate(removed)] = 0
        train.eliminate_zeros()
    return Split(train=train, users=eligible, held_out=held_out)


def popularity_scores(train: csr_matrix) -> np.ndarray:
    """Per item: how many users have a liked (positive) training entry."""
    return np.asarray((train > 0).sum(axis=0), dtype=np.float64).ravel()


def ranking_metrics(
    top_items: Callable[[np.ndarray, csr_matrix], np.ndarray], split: Split, *, k: int = 10
) -> Metrics:
    """Mean precision@k, MAP@k and NDCG@k of the rankings `top_items` gives the scored users.

    `top_items(rows, seen)` returns a (len(rows), k) array of the best columns per row, best
    first, never a column stored in `seen` (those rows of the training matrix), -1 for none.
    """
    if len(split.users) == 0:
        return Metrics(0.0, 0.0, 0.0)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ranks = np.arange(1, k + 1)
    precision = average_precision = ndcg = 0.0
    for start in range(0, len(split.users), CHUNK_USERS):
        rows = split.users[start : start + CHUNK_USERS]
        top = top_items(rows, split.train[rows])
        for i, held in enumerate(split.held_out[start : start + CHUNK_USERS]):
            hits = np.isin(top[i, :k], held)
            precision += hits.sum() / k
            if hits.any():
                average_precision += (np.cumsum(hits) / ranks * hits).sum() / min(k, len(held))
                ndcg += (discounts * hits).sum() / discounts[: min(k, len(held))].sum()
    users = len(split.users)
    return Metrics(precision / users, average_precision / users, ndcg / users)


def top_by_factors(
    item_factors: np.ndarray, user_factors: np.ndarray, seen: csr_matrix, k: int
) -> np.ndarray:
    """The k best items per user by dot product, the `seen` ones left out (implicit's fused,
    multi-threaded matrix product and selection; -1 where fewer than k remain)."""
    from implicit.cpu.topk import topk

    ids, scores = topk(
        np.ascontiguousarray(item_factors, dtype=np.float32),
        np.ascontiguousarray(user_factors, dtype=np.float32),
        k,
        filter_query_items=seen,
        num_threads=0,
    )
    return np.where(np.isfinite(scores), ids, -1)


def top_by_popularity(popularity: np.ndarray, seen: csr_matrix, k: int) -> np.ndarray:
    """The k most popular items per user, the `seen` ones left out (popularity as one factor)."""
    ones = np.ones((seen.shape[0], 1), dtype=np.float32)
    return top_by_factors(popularity.astype(np.float32)[:, None], ones, seen, k)
