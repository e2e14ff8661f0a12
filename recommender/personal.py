"""Ranking one user's recommendations: ALS on their current history, audio features for tracks
the model has not seen, popularity and novelty for users with no history (docs/recommender.md,
"Serving")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from catalog import selectors as catalog
from catalog.models import Track
from listening.models import Feedback, UserTrackStats
from recommender.engine.confidence import confidence_values
from recommender.serving import Served

# A track's ALS score counts w = listeners / (listeners + BLEND_LISTENERS); audio the rest.
BLEND_LISTENERS = 5.0
MAX_PER_ARTIST = 2
SEEDS = 10  # the user's strongest tracks, for "sounds like"
CONTENT_SEEDS = 5  # of those, the ones searched for across the whole catalogue
PLAYABLE = (Track.Status.DONE, Track.Status.PENDING, Track.Status.PROCESSING)


@dataclass
class Taste:
    """What the user has done, now (not as of training)."""

    track_ids: np.ndarray
    completed: np.ndarray
    partial: np.ndarray
    skips: np.ndarray
    liked: np.ndarray
    disliked: np.ndarray
    blocked_tracks: set[int] = field(default_factory=set)
    blocked_artists: set[int] = field(default_factory=set)
    newest: datetime | None = None

    @property
    def played(self) -> set[int]:
        return set(self.track_ids.tolist())

    def values(self, alpha: float, function: str) -> np.ndarray:
        return confidence_values(
            self.completed, self.partial, self.skips, self.liked, self.disliked,
            alpha=alpha, function=function,
        )  # fmt: skip

    def seeds(self) -> list[int]:
        """The user's strongest liked tracks, strongest first."""
        strength = self.values(1.0, "linear")
        order = np.argsort(-strength, kind="stable")
        return [int(self.track_ids[i]) for i in order[:SEEDS] if strength[i] > 0]


@dataclass
class Pick:
    track_id: int
    score: float
    source: str  # als | content | popular
    reason_type: str  # listened | sounds_like | popular | new
    seed_id: int | None = None
    card: catalog.TrackCard | None = None  # set by choose()


def taste_of(user_id: int) -> Taste:
    stats = list(
        UserTrackStats.objects.filter(user_id=user_id).values_list(
            "track_id", "completed_plays", "partial_plays", "skips", "last_listened_at"
        )
    )
    rows = np.array([s[:4] for s in stats], dtype=np.int64).reshape(-1, 4)
    newest = max((s[4] for s in stats), default=None)
    tracks = rows[:, 0].tolist()
    liked = np.zeros(len(tracks), dtype=bool)
    disliked = np.zeros(len(tracks), dtype=bool)
    position = {t: i for i, t in enumerate(tracks)}
    blocked_tracks, blocked_artists, extra_likes = set(), set(), []
    for track_id, artist_id, kind, updated in Feedback.objects.filter(user_id=user_id).values_list(
        "track_id", "artist_id", "kind", "updated_at"
    ):
        newest = max(newest, updated) if newest else updated
        negative = kind in (Feedback.Kind.DISLIKE, Feedback.Kind.DONT_RECOMMEND)
        if artist_id is not None:
            if negative:
                blocked_artists.add(artist_id)
            continue
        if negative:
            blocked_tracks.add(track_id)
        if kind == Feedback.Kind.DONT_RECOMMEND:
            continue
        if track_id in position:
            (liked if kind == Feedback.Kind.LIKE else disliked)[position[track_id]] = True
        elif kind == Feedback.Kind.LIKE:
            extra_likes.append(track_id)
        else:
            extra_likes.append(-track_id)  # a dislike of a track never played
    if extra_likes:
        count = len(extra_likes)
        rows = np.vstack([rows, np.column_stack([np.abs(extra_likes), np.zeros((count, 3))])])
        liked = np.concatenate([liked, np.array(extra_likes) > 0])
        disliked = np.concatenate([disliked, np.array(extra_likes) < 0])
    return Taste(
        track_ids=rows[:, 0].astype(np.int64),
        completed=rows[:, 1],
        partial=rows[:, 2],
        skips=rows[:, 3],
        liked=liked,
        disliked=disliked,
        blocked_tracks=blocked_tracks,
        blocked_artists=blocked_artists,
        newest=newest,
    )


def rank_personal(
    *, user_id: int, taste: Taste, served: Served, n: int, include_played: bool
) -> list[Pick]:
    """ALS candidates blended with audio similarity, plus unseen tracks by audio alone."""
    model = served.model
    alpha, function = model.params.get("alpha", 10.0), model.params.get("confidence", "log")
    values = taste.values(alpha, function)
    columns = np.array([model.column_of(t) for t in taste.track_ids], dtype=object)
    known = np.array([c is not None for c in columns], dtype=bool)
    row = model.user_row(columns[known].astype(np.int64), values[known])
    listened_since = taste.newest is not None and (
        served.trained_at is None or taste.newest > served.trained_at
    )
    vector = model.user_vector(user_id, row, recalculate=listened_since)
    scores = model.scores(vector)

    want = n * 4 + 40  # enough to survive the filters and the per-artist cap
    order = _top(scores, want + len(taste.track_ids))
    als_tracks = [int(model.track_ids[c]) for c in order]
    # Normalise by the best track that may be recommended: played tracks score highest (the
    # model fits them) and would make every new candidate look weak next to its sound.
    hidden = set() if include_played else set(taste.played)
    eligible = [scores[c] for c, t in zip(order, als_tracks, strict=True) if t not in hidden]
    top_score = float(max(max(eligible, default=0.0), 1e-9))
    seeds = taste.seeds()
    matches = catalog.content_matches(seed_ids=seeds, candidate_ids=als_tracks)
    hidden |= taste.blocked_tracks

    picks: dict[int, Pick] = {}
    for column, track_id in zip(order, als_tracks, strict=True):
        if track_id in hidden:
            continue
        listeners = float(model.item_users[column])
        weight = listeners / (listeners + BLEND_LISTENERS)
        als = max(0.0, float(scores[column]) / top_score)
        similarity, seed = matches.get(track_id, (0.5, None))
        content = max(0.0, (similarity - 0.5) * 2)
        score = weight * als + (1 - weight) * content
        if weight * als >= (1 - weight) * content:
            picks[track_id] = Pick(track_id, score, "als", "listened", None)
        else:
            picks[track_id] = Pick(track_id, score, "content", "sounds_like", seed)
    for track_id, similarity, seed in catalog.content_top(
        seed_ids=seeds[:CONTENT_SEEDS],
        n=n * 2 + 10,
        exclude_ids=model.track_ids,
        exclude_key=served.version,
    ):
        score = max(0.0, (similarity - 0.5) * 2)
        if track_id not in picks and track_id not in hidden:
            picks[track_id] = Pick(track_id, score, "content", "sounds_like", seed)

    ranked = sorted(picks.values(), key=lambda p: -p.score)
    chosen = choose(ranked, taste=taste, n=n, include_played=include_played)
    _explain(chosen, model, row)
    return chosen


def _top(scores: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` highest scores, highest first (a partial sort)."""
    if count >= len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(scores, len(scores) - count)[len(scores) - count :]
    return part[np.argsort(-scores[part], kind="stable")]


def choose(picks: list[Pick], *, taste: Taste, n: int, include_played: bool) -> list[Pick]:
    """Drop blocked, played (unless asked) and unplayable tracks; at most 2 per artist.

    Cards are read a chunk at a time, best picks first: the first chunk almost always fills the
    list, and reading 50 tracks instead of 200 is most of a request's database time.
    """
    played = set() if include_played else taste.played
    per_artist: dict[int, int] = {}
    chosen: list[Pick] = []
    chunk = 2 * n + 10
    for start in range(0, len(picks), chunk):
        batch = picks[start : start + chunk]
        cards = catalog.track_cards(p.track_id for p in batch)
        for pick in batch:
            card = cards.get(pick.track_id)
            artist = card.artist_id if card else None
            if (
                card is None
                or card.status not in PLAYABLE
                or pick.track_id in played
                or pick.track_id in taste.blocked_tracks
                or artist in taste.blocked_artists
                or per_artist.get(artist, 0) >= MAX_PER_ARTIST
            ):
                continue
            per_artist[artist] = per_artist.get(artist, 0) + 1
            pick.card = card
            chosen.append(pick)
            if len(chosen) == n:
                return chosen
    return chosen


def _explain(picks: list[Pick], model, row) -> None:
    """Attribute each ALS pick to the listened track that contributes most to its score."""
    als = [pick for pick in picks if pick.source == "als"]
    best = model.explain_many(row, [model.column_of(pick.track_id) for pick in als])
    for pick, column in zip(als, best, strict=True):
        if column is None:
            pick.reason_type = "popular"
        else:
            pick.seed_id = int(model.track_ids[column])
