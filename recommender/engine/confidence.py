"""From listening counts to the values stored in the users x items matrix.

implicit's ALS reads a stored value v as the confidence itself (c = alpha * v; we construct it
with alpha = 1.0) and a negative value as "preference 0 with confidence |v|". To train the
paper's c = 1 + alpha * f(r) we store exactly that: docs/recommender.md has the formula, a worked
example and why the defaults are what they are.
"""

from __future__ import annotations

import numpy as np

CONFIDENCE_FUNCTIONS = ("log", "linear", "clipped", "binary")
PARTIAL_WEIGHT = 0.5  # a play heard in part counts half a completed play
SKIP_WEIGHT = 1.0  # each skip takes away one completed play's worth
LIKE_BONUS = 3.0  # a like counts as three more completed plays
DISLIKE_STRENGTH = 5.0  # a dislike: preference 0, with the confidence of five skips (at least)
CLIP_AT = 20.0  # `clipped`: evidence beyond 20 plays adds nothing


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
) -> np.ndarray:
    """The stored matrix values, as float32.

    - liked on balance (r > 0): 1 + alpha * f(r): preference 1 with that confidence;
    - skipped on balance (r < 0): -(1 + alpha * f(-r)): preference 0 with that confidence;
    - as many skips as plays (r = 0): -1: preference 0, confidence 1 (as unobserved, but the
      track counts as heard and is not recommended back);
    - disliked: -(1 + alpha * f(max(-r, 5))) whatever was played.
    """
    r = net_preference(completed, partial, skips, liked)
    disliked = np.asarray(disliked, dtype=bool)
    evidence = np.where(disliked, np.maximum(-r, DISLIKE_STRENGTH), np.abs(r))
    value = 1.0 + alpha * strength(evidence, function)
    negative = disliked | (r <= 0)
    return np.where(negative, -value, value).astype(np.float32)
