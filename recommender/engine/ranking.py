"""Ranking maths of a personal list: top-k, normalisation, the ALS and sound blend, filters and
the per-artist cap (docs/recommender.md, "Serving"). No Django: the glue in
`recommender/personal.py` feeds it arrays and cards."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Sound lifts a track by (1 - w) of what it adds over ALS, w = listeners / (listeners + 5).
BLEND_LISTENERS = 5.0
MAX_PER_ARTIST = 2
NEUTRAL_SIMILARITY = 0.5  # audio similarity at or below this says nothing


@dataclass
class Pick:
    track_id: int
    score: float
    source: str  # als | content | popular
    reason_type: str  # listened | sounds_like | popular | new
    seed_id: int | None = None
    card: object | None = None  # the track's card, set when it is chosen


def top_indices(scores: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` highest scores, highest first (a partial sort)."""
    if count >= len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(scores, len(scores) - count)[len(scores) - count :]
    return part[np.argsort(-scores[part], kind="stable")]


def best_recommendable(scores: np.ndarray, hidden: np.ndarray) -> float:
    """The highest score among the candidates that may be recommended (never below 1e-9).

    Played tracks score highest (the model fits them) and would make every new candidate look
    weak next to its sound, so they do not set the scale."""
    eligible = scores[~hidden]
    return float(max(eligible.max() if len(eligible) else 0.0, 1e-9))


def sound_score(similarity: np.ndarray) -> np.ndarray:
    """Audio similarity 0..1 mapped from [0.5, 1] to [0, 1] (0.5 and below: nothing alike)."""
    return np.maximum(0.0, (np.asarray(similarity, np.float64) - NEUTRAL_SIMILARITY) * 2)


def blend(
    *,
    track_ids: np.ndarray,
    als_scores: np.ndarray,
    top_score: float,
    listeners: np.ndarray,
    similarity: np.ndarray,
    sound_seeds: list[int | None],
) -> list[Pick]:
    """One pick per candidate: `als + (1 - w) * max(0, sound - als)`, `w = listeners /
    (listeners + 5)`, `als` the score over the best recommendable one.

    Sound can lift a track few people have played towards how much it sounds like the user's
    seeds; it never pulls a track below its ALS score, and a track without a sound vector (NaN
    similarity: no audio, or no seed with audio) is ranked by ALS alone. Led by ALS ("listened")
    or, when the lift is the larger part, by sound ("sounds_like", naming the seed)."""
    listeners = np.asarray(listeners, np.float64)
    weight = listeners / (listeners + BLEND_LISTENERS)
    als = np.maximum(0.0, np.asarray(als_scores, np.float64) / top_score)
    similarity = np.asarray(similarity, np.float64)
    content = np.where(np.isnan(similarity), 0.0, sound_score(np.nan_to_num(similarity)))
    lift = np.where(np.isnan(similarity), 0.0, (1 - weight) * np.maximum(0.0, content - als))
    picks = []
    for i, track_id in enumerate(np.asarray(track_ids).tolist()):
        score = float(als[i] + lift[i])
        if als[i] >= lift[i]:
            picks.append(Pick(int(track_id), score, "als", "listened", None))
        else:
            picks.append(Pick(int(track_id), score, "content", "sounds_like", sound_seeds[i]))
    return picks


def by_score(picks: list[Pick]) -> list[Pick]:
    return sorted(picks, key=lambda p: -p.score)


class Selection:
    """Picks accepted in order until `n`: none hidden (played, blocked), none by a blocked
    artist, at most MAX_PER_ARTIST by one artist (`capped=False`: an unknown artist, which is
    not one artist). Tracks without audio are taken like any other (the answer says
    `playable`)."""

    def __init__(self, *, n: int, hidden: set[int], blocked_artists: set[int]):
        self.n = n
        self.hidden = hidden
        self.blocked_artists = blocked_artists
        self.per_artist: dict[int, int] = {}
        self.chosen: list[Pick] = []

    @property
    def full(self) -> bool:
        return len(self.chosen) >= self.n

    def offer(self, pick: Pick, card, *, artist_id, capped: bool = True) -> bool:
        """Take `pick` (with its card) if it passes; True when taken."""
        if (
            card is None
            or self.full
            or pick.track_id in self.hidden
            or artist_id in self.blocked_artists
            or (capped and self.per_artist.get(artist_id, 0) >= MAX_PER_ARTIST)
        ):
            return False
        if capped:
            self.per_artist[artist_id] = self.per_artist.get(artist_id, 0) + 1
        pick.card = card
        self.chosen.append(pick)
        return True


def cold_picks(*, popular: list[int], new: list[int], every: int) -> list[Pick]:
    """Popular tracks with every `every`-th one new (for users the model cannot score yet)."""
    popular, new = list(popular), list(new)
    merged: list[Pick] = []
    while popular or new:
        if new and (len(merged) % every == every - 1 or not popular):
            merged.append(Pick(new.pop(0), 0.0, "popular", "new"))
        elif popular:
            merged.append(Pick(popular.pop(0), 0.0, "popular", "popular"))
    return merged


def cold_scores(picks: list[Pick]) -> None:
    """Descending scores 0.5 .. 0 by rank (a cold list has no model score)."""
    for rank, pick in enumerate(picks):
        pick.score = round(0.5 * (1 - rank / max(len(picks), 1)), 4)


def shelf_groups(
    picks: list[Pick], *, shelves: int, n: int, min_score: float
) -> list[tuple[int, list[Pick]]]:
    """Picks grouped by the listened track they are attributed to (only those scoring at least
    `min_score` earn the claim), the `shelves` groups with the best top-`n` sums first."""
    groups: dict[int, list[Pick]] = {}
    for pick in picks:
        if pick.seed_id is not None and pick.score >= min_score:
            groups.setdefault(pick.seed_id, []).append(pick)
    ranked = sorted(groups.items(), key=lambda item: -sum(p.score for p in item[1][:n]))
    return [(seed, group[:n]) for seed, group in ranked[:shelves]]
