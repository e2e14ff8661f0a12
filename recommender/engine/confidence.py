"""From listening counts to the values stored in the users x items matrix.

implicit's ALS reads a stored value v as the confidence itself (c = alpha * v; we construct it
with alpha = 1.0) and a negative value as "preference 0 with confidence |v|". To train the
paper's c = 1 + alpha * f(r) we store exactly that: docs/recommender.md has the formula, a worked
example and why the defaults are what they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CONFIDENCE_FUNCTIONS = ("log", "linear", "clipped", "binary", "bm25")
PARTIAL_WEIGHT = 0.5  # a play heard in part counts half a completed play
SKIP_WEIGHT = 1.0  # each skip takes away one completed play's worth
LIKE_BONUS = 3.0  # a like counts as three more completed plays
DISLIKE_STRENGTH = 5.0  # a dislike: preference 0, with the confidence of five skips (at least)
CLIP_AT = 20.0  # `clipped`: evidence beyond 20 plays adds nothing
# `bm25`: implicit.nearest_neighbours.bm25_weight's defaults (K1, B), applied to the users x
# tracks matrix of positive r: a play of a track everyone plays, by someone who plays a lot,
# counts less. It needs the whole matrix (each track's listener count, each user's total, their
# mean), so it is computed from Bm25 inputs; skips and dislikes keep `log`.
BM25_K1 = 100.0
BM25_B = 0.8


@dataclass(frozen=True)
class Bm25:
    """What bm25 needs besides one entry's r: per entry, its track's listeners (positive
    entries) and its user's total positive r; for the matrix, its rows and their mean total."""

    item_df: np.ndarray
    row_length: np.ndarray
    n_users: int
    average_length: float

    def strength(self, r: np.ndarray) -> np.ndarray:
        idf = np.log(float(self.n_users)) - np.log1p(np.asarray(self.item_df, np.float64))
        norm = (1.0 - BM25_B) + BM25_B * np.asarray(self.row_length, np.float64) / max(
            self.average_length, 1e-12
        )
        return np.maximum(0.0, r * (BM25_K1 + 1.0) / (BM25_K1 * norm + r) * idf)


def net_preference(
    completed: np.ndarray,
    partial: np.ndarray,
    skips: np.ndarray,
    liked: np.ndarray,
) -> np.ndarray:
    """r = completed + 0.5 partial - skips + 3 (if liked). Positive: evidence of liking."""
    return (
        np.asarray(completed, dtype=np.float64)
        + PARTIAL_WEIGHT * np.asarray(partial, dtype=np.float64)
        - SKIP_WEIGHT * np.asarray(skips, dtype=np.float64)
        + LIKE_BONUS * np.asarray(liked, dtype=np.float64)
    )


def strength(r: np.ndarray, function: str) -> np.ndarray:
    """f(r) for r >= 0."""
    r = np.asarray(r, dtype=np.float64)
    if function == "log":
        return np.log1p(r)
    if function == "linear":
        return r
    if function == "clipped":
        return np.minimum(r, CLIP_AT)
    if function == "binary":
        return (r > 0).astype(np.float64)
    if function == "bm25":
        raise ValueError("bm25 needs the whole matrix: call confidence_values with bm25=")
    raise ValueError(f"unknown confidence function {function!r}; use one of {CONFIDENCE_FUNCTIONS}")


def confidence_values(
    completed: np.ndarray,
    partial: np.ndarray,
    skips: np.ndarray,
    liked: np.ndarray,
    disliked: np.ndarray,
    *,
    alpha: float,
    function: str,
    bm25: Bm25 | None = None,
) -> np.ndarray:
    """The stored matrix values, as float32.

    - liked on balance (r > 0): 1 + alpha * f(r): preference 1 with that confidence;
    - skipped on balance (r < 0): -(1 + alpha * f(-r)): preference 0 with that confidence;
    - as many skips as plays (r = 0): -1: preference 0, confidence 1 (as unobserved, but the
      track counts as heard and is not recommended back);
    - disliked: -(1 + alpha * f(max(-r, 5))) whatever was played.

    `bm25` (for f = bm25): the matrix statistics (see Bm25); negative entries then use log.
    """
    r = net_preference(completed, partial, skips, liked)
    disliked = np.asarray(disliked, dtype=bool)
    evidence = np.where(disliked, np.maximum(-r, DISLIKE_STRENGTH), np.abs(r))
    negative = disliked | (r <= 0)
    if function == "bm25":
        if bm25 is None:
            raise ValueError("bm25 needs the whole matrix: pass bm25=Bm25(...)")
        value = 1.0 + alpha * np.where(
            negative, strength(evidence, "log"), bm25.strength(np.where(negative, 0.0, r))
        )
    else:
        value = 1.0 + alpha * strength(evidence, function)
    return np.where(negative, -value, value).astype(np.float32)


def bm25_for(
    user_ids: np.ndarray,
    track_ids: np.ndarray,
    completed: np.ndarray,
    partial: np.ndarray,
    skips: np.ndarray,
    liked: np.ndarray,
    disliked: np.ndarray,
    counted: np.ndarray | None = None,
) -> Bm25:
    """Bm25 inputs for a whole set of entries (training): the matrix of positive r, as
    implicit's bm25_weight reads it (every user a row, every track's positive entries its df).
    `counted`: only these entries count towards the statistics (a split's training part), so a
    held-out play does not weigh the training values."""
    r = net_preference(completed, partial, skips, liked)
    positive = (r > 0) & ~np.asarray(disliked, dtype=bool)
    if counted is not None:
        positive = positive & np.asarray(counted, dtype=bool)
    users, user_row = np.unique(np.asarray(user_ids), return_inverse=True)
    tracks, track_column = np.unique(np.asarray(track_ids), return_inverse=True)
    df = np.bincount(track_column[positive], minlength=len(tracks))
    totals = np.bincount(user_row, weights=np.where(positive, r, 0.0), minlength=len(users))
    return Bm25(
        item_df=df[track_column],
        row_length=totals[user_row],
        n_users=len(users),
        average_length=float(totals.mean()) if len(users) else 0.0,
    )
