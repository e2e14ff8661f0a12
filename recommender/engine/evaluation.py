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
    score_rows: Callable[[np.ndarray], np.ndarray], split: Split, *, k: int = 10
) -> Metrics:
    """Mean precision@k, MAP@k and NDCG@k of the ranking `score_rows` gives each scored user.

    `score_rows(rows)` returns a (len(rows), items) array of scores.
    """
    if len(split.users) == 0:
        return Metrics(0.0, 0.0, 0.0)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    precision = average_precision = ndcg = 0.0
    for start in range(0, len(split.users), CHUNK_USERS):
        rows = split.users[start : start + CHUNK_USERS]
        scores = np.array(score_rows(rows), dtype=np.float64, copy=True)
        for i, row in enumerate(rows):
            seen = split.train.indices[split.train.indptr[row] : split.train.indptr[row + 1]]
            scores[i, seen] = -np.inf
        top = _top_k(scores, k)
        for i, held in enumerate(split.held_out[start : start + CHUNK_USERS]):
            hits = np.isin(top[i], held)
            precision += hits.sum() / k
            if hits.any():
                precision_at = np.cumsum(hits) / np.arange(1, k + 1)
                average_precision += (precision_at * hits).sum() / min(k, len(held))
                ideal = discounts[: min(k, len(held))].sum()
                ndcg += (discounts * hits).sum() / ideal
    users = len(split.users)
    return Metrics(precision / users, average_precision / users, ndcg / users)


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """The k best columns per row, best first; padded with -1 when there are fewer items."""
    available = min(k, scores.shape[1])
    part = np.argpartition(-scores, available - 1, axis=1)[:, :available]
    order = np.take_along_axis(scores, part, axis=1).argsort(axis=1)[:, ::-1]
    top = np.take_along_axis(part, order, axis=1)
    if available < k:
        top = np.pad(top, ((0, 0), (0, k - available)), constant_values=-1)
    return top
