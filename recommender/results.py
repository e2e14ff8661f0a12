"""What the recommender's selectors return: small objects, rendered as JSON by
`recommender/serializers.py` and as HTML by the templates (docs/recommender.md, "Serving")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from catalog.selectors import TrackCard


@dataclass(frozen=True)
class Reason:
    type: str  # listened | sounds_like | popular | new
    track: TrackCard | None  # the listened track it is attributed to
    text: str


@dataclass(frozen=True)
class Recommendation:
    track: TrackCard
    score: float
    source: str  # als | content | popular
    reason: Reason


@dataclass(frozen=True)
class ScoredTrack:
    track: TrackCard
    score: float


@dataclass(frozen=True)
class Shelf:
    """ "Because you listened to <seed>": the picks attributed to one listened track."""

    seed: TrackCard
    title: str
    results: list[Recommendation]


@dataclass(frozen=True)
class ModelStamp:
    """Which model an answer came from (None before the first)."""

    model_version: int | None
    trained_at: datetime | None


@dataclass(frozen=True)
class Recommendations(ModelStamp):
    user_id: int
    generated_at: datetime
    results: list[Recommendation]


@dataclass(frozen=True)
class Shelves(ModelStamp):
    shelves: list[Shelf]


@dataclass(frozen=True)
class AlsoPlayed(ModelStamp):
    results: list[ScoredTrack]
