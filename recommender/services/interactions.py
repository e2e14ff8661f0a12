"""The listening aggregate and track feedback as training arrays, through listening's read API
(its COPY fast path on PostgreSQL) and the engine's feedback merge."""

from __future__ import annotations

from listening import selectors as listening
from recommender.engine.matrix import Interactions
from recommender.engine.taste import feedback_merge


def interactions_read() -> Interactions:
    """Every (user, track) pair with listening or track feedback, as parallel arrays."""
    rows = listening.listening_arrays()
    users, tracks, liked = listening.track_feedback_arrays()
    return feedback_merge(
        user_ids=rows.user_ids,
        track_ids=rows.track_ids,
        completed=rows.completed,
        partial=rows.partial,
        skips=rows.skips,
        last_listened=rows.last_listened,
        feedback_users=users,
        feedback_tracks=tracks,
        feedback_liked=liked,
    )
