"""Evaluating the list as served, not only the model (docs/recommender.md, "Evaluation"). No
Django: the catalogue (artists, sound) comes in as arrays and a function.

The served list of a scored user is what `recommender/personal.py` serves them, on the split's
training data: the model's candidates blended with sound (ranking.blend), the user's training
tracks and disliked tracks left out, at most MAX_PER_ARTIST per artist (unknown artists
uncapped), the first k.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from recommender.engine.ranking import Pick, Selection, best_recommendable, blend, top_indices
from recommender.engine.taste import SEEDS

SoundMatches = Callable[[list[int], list[int]], dict[int, tuple[float, int]]]


@dataclass(frozen=True)
class Catalogue:
    """Per matrix column: its artist and whether the per-artist cap counts it (False for an
    unknown artist); `sound(seed track ids, candidate track ids)` gives each candidate with a
    sound vector its best similarity 0..1 to a seed and that seed (catalog.content_matches)."""

    artist_ids: np.ndarray
    capped: np.ndarray
    sound: SoundMatches | None = None


def served_top(
    item_factors: np.ndarray,
    user_factors: np.ndarray,
    seen: csr_matrix,
    track_ids: np.ndarray,
    listeners: np.ndarray,
    catalogue: Catalogue,
    k: int,
) -> np.ndarray:
    """(len(user_factors), k) columns of the served lists, best first, -1 where short."""
    out = np.full((len(user_factors), k), -1, dtype=np.int64)
    want = k * 4 + 40
    for i, vector in enumerate(user_factors):
        scores = item_factors @ vector
        row = seen[i]
        played = set(row.indices.tolist())
        order = top_indices(scores, want + len(played))
        hidden = np.isin(order, row.indices)
        top = best_recommendable(scores[order], hidden)
        liked = row.indices[row.data > 0]
        strongest = liked[np.argsort(-row.data[row.data > 0], kind="stable")[:SEEDS]]
        candidates = track_ids[order]
        matches = {}
        if catalogue.sound is not None and len(strongest):
            matches = catalogue.sound(track_ids[strongest].tolist(), candidates.tolist())
        found = [matches.get(int(t), (np.nan, None)) for t in candidates]
        picks = blend(
            track_ids=order,  # columns stand in for track ids here
            als_scores=scores[order],
            top_score=top,
            listeners=listeners[order],
            similarity=np.array([s for s, _ in found], dtype=np.float64),
            sound_seeds=[seed for _, seed in found],
        )
        picks.sort(key=lambda p: -p.score)
        selection = Selection(n=k, hidden=played, blocked_artists=set())
        for pick in picks:
            column = pick.track_id
            selection.offer(pick, True, artist_id=int(catalogue.artist_ids[column]),
                            capped=bool(catalogue.capped[column]))  # fmt: skip
            if selection.full:
                break
        chosen: list[Pick] = selection.chosen
        out[i, : len(chosen)] = [p.track_id for p in chosen]
    return out


def coverage(tops: list[np.ndarray], n_items: int) -> float:
    """Share of the matrix's tracks that appear in anyone's list."""
    if n_items == 0 or not tops:
        return 0.0
    everything = np.concatenate([t.ravel() for t in tops])
    return float(len(np.unique(everything[everything >= 0])) / n_items)


def niche_rows(train: csr_matrix, listeners: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The rows whose liked training tracks are mostly (more than half) low-popularity: below
    the median listener count of all liked entries (at least half of all liking is on tracks
    that popular or more)."""
    positive = train.data > 0
    entry_columns = train.indices[positive]
    if not len(entry_columns):
        return np.array([], dtype=np.int64)
    threshold = np.median(listeners[entry_columns])
    niche = []
    for row in rows:
        start, stop = train.indptr[row], train.indptr[row + 1]
        columns = train.indices[start:stop][train.data[start:stop] > 0]
        if len(columns) and (listeners[columns] < threshold).mean() > 0.5:
            niche.append(row)
    return np.array(niche, dtype=np.int64)


def popularity_lift(
    model_tops: np.ndarray, served_tops: np.ndarray, listeners: np.ndarray
) -> float | None:
    """Median listeners of the served lists' tracks over the model lists' (pooled over the
    given users). Above 1: serving is more mainstream than the model. None with no tracks or
    a model median of 0."""
    model = listeners[model_tops[model_tops >= 0]]
    served = listeners[served_tops[served_tops >= 0]]
    if not len(model) or not len(served) or np.median(model) == 0:
        return None
    return float(np.median(served) / np.median(model))
