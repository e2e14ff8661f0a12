"""Listening counts and feedback merged into one set of (user, track) entries. No Django.

The same merge serves training (every user at once) and serving (one user, now): a like or
dislike marks its (user, track) entry; one on a track never played adds an entry of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from recommender.engine.confidence import Bm25, confidence_values, net_preference
from recommender.engine.matrix import Interactions

LIKE, DISLIKE, DONT_RECOMMEND = "like", "dislike", "dont_recommend"
SEEDS = 10  # the user's strongest tracks, for "sounds like"
_KEY_SHIFT = np.int64(1 << 32)


def feedback_merge(
    *,
    user_ids: np.ndarray,
    track_ids: np.ndarray,
    completed: np.ndarray,
    partial: np.ndarray,
    skips: np.ndarray,
    last_listened: np.ndarray,
    feedback_users: np.ndarray,
    feedback_tracks: np.ndarray,
    feedback_liked: np.ndarray,
) -> Interactions:
    """Mark liked / disliked pairs; feedback on a track never played adds its own pair (with no
    plays, and the newest listening time, so a time split treats it as recent)."""
    users, tracks = np.asarray(user_ids, np.int64), np.asarray(track_ids, np.int64)
    last = np.asarray(last_listened, np.int64)
    liked = np.zeros(len(users), dtype=bool)
    disliked = np.zeros(len(users), dtype=bool)
    fb_users = np.asarray(feedback_users, np.int64)
    fb_tracks = np.asarray(feedback_tracks, np.int64)
    fb_like = np.asarray(feedback_liked, bool)
    if len(fb_users):
        keys = users * _KEY_SHIFT + tracks
        order = np.argsort(keys, kind="stable")
        fb_keys = fb_users * _KEY_SHIFT + fb_tracks
        position = np.minimum(np.searchsorted(keys[order], fb_keys), max(len(keys) - 1, 0))
        found = (keys[order][position] == fb_keys) if len(keys) else np.zeros(len(fb_keys), bool)
        rows = order[position] if len(keys) else position
        liked[rows[found & fb_like]] = True
        disliked[rows[found & ~fb_like]] = True
        extra = ~found
        if extra.any():
            count = int(extra.sum())
            zeros = np.zeros(count, dtype=np.int64)
            users = np.concatenate([users, fb_users[extra]])
            tracks = np.concatenate([tracks, fb_tracks[extra]])
            completed, partial, skips = (np.concatenate([np.asarray(a, np.int64), zeros])
                                         for a in (completed, partial, skips))  # fmt: skip
            last = np.concatenate([last, np.full(count, int(last.max()) if len(last) else 0)])
            liked = np.concatenate([liked, fb_like[extra]])
            disliked = np.concatenate([disliked, ~fb_like[extra]])
    return Interactions(
        user_ids=users,
        track_ids=tracks,
        completed=np.asarray(completed, np.int64),
        partial=np.asarray(partial, np.int64),
        skips=np.asarray(skips, np.int64),
        last_listened=last,
        liked=liked,
        disliked=disliked,
    )


@dataclass
class Taste:
    """What one user has done, now (not as of training): their entries and what they block."""

    entries: Interactions
    blocked_tracks: set[int] = field(default_factory=set)
    blocked_artists: set[int] = field(default_factory=set)
    newest: datetime | None = None

    @property
    def track_ids(self) -> np.ndarray:
        return self.entries.track_ids

    @property
    def played(self) -> set[int]:
        return set(self.entries.track_ids.tolist())

    def values(
        self, alpha: float, function: str, *, item_df=None, bm25_stats: dict | None = None
    ) -> np.ndarray:
        """The stored values of the user's entries. For f = bm25: `item_df`, each entry's
        track's listeners in training, and `bm25_stats` {"n_users", "average_length"} of it."""
        e = self.entries
        bm25 = None
        if function == "bm25":
            r = net_preference(e.completed, e.partial, e.skips, e.liked)
            total = float(np.where((r > 0) & ~e.disliked, r, 0.0).sum())
            stats = bm25_stats or {}
            bm25 = Bm25(
                item_df=np.asarray(item_df if item_df is not None else np.zeros(len(r))),
                row_length=np.full(len(r), total),
                n_users=int(stats.get("n_users", 1)),
                average_length=float(stats.get("average_length", total or 1.0)),
            )
        return confidence_values(
            e.completed, e.partial, e.skips, e.liked, e.disliked, alpha=alpha, function=function,
            bm25=bm25,
        )  # fmt: skip

    def likes_anything(self) -> bool:
        return bool((self.values(1.0, "linear") > 0).any())

    def seeds(self) -> list[int]:
        """The user's strongest liked tracks, strongest first."""
        strength = self.values(1.0, "linear")
        order = np.argsort(-strength, kind="stable")
        return [int(self.track_ids[i]) for i in order[:SEEDS] if strength[i] > 0]


def taste_build(
    *,
    user_id: int,
    track_ids: np.ndarray,
    completed: np.ndarray,
    partial: np.ndarray,
    skips: np.ndarray,
    feedback: list[tuple[int | None, int | None, str]],
    newest: datetime | None = None,
) -> Taste:
    """One user's taste from their aggregate rows and their feedback as (track id, artist id,
    kind): likes and dislikes of tracks merge as in training; a dislike or "don't recommend"
    blocks its track or artist."""
    blocked_tracks: set[int] = set()
    blocked_artists: set[int] = set()
    marks: list[tuple[int, bool]] = []
    for track_id, artist_id, kind in feedback:
        negative = kind in (DISLIKE, DONT_RECOMMEND)
        if artist_id is not None:
            if negative:
                blocked_artists.add(int(artist_id))
            continue
        if negative:
            blocked_tracks.add(int(track_id))
        if kind != DONT_RECOMMEND:
            marks.append((int(track_id), kind == LIKE))
    count = len(track_ids)
    entries = feedback_merge(
        user_ids=np.full(count, user_id, dtype=np.int64),
        track_ids=track_ids,
        completed=completed,
        partial=partial,
        skips=skips,
        last_listened=np.zeros(count, dtype=np.int64),
        feedback_users=np.full(len(marks), user_id, dtype=np.int64),
        feedback_tracks=np.array([t for t, _ in marks], dtype=np.int64),
        feedback_liked=np.array([like for _, like in marks], dtype=bool),
    )
    return Taste(entries, blocked_tracks, blocked_artists, newest)
