"""Reads of the recommender: for-you lists, "because you listened" shelves, "also played",
the active model. Every answer carries the model version it came from (None before the first)."""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from catalog.models import Track
from catalog.selectors import artist_and_status, tracks_by_ids
from catalog.serializers import TrackCompactSerializer
from listening.models import UserTrackStats
from recommender.models import ModelVersion
from recommender.personal import MAX_PER_ARTIST, PLAYABLE, Pick, choose, rank_personal, taste_of
from recommender.serving import served_model

POPULAR_DAYS = 30
POPULAR_CACHE_SECONDS = 300
NEW_EVERY = 4  # in a cold list, every fourth track is a new one
# A shelf claims "because you listened to X": only picks that score at least this (scores run
# 0..1 against the user's best) earn that claim. The plain list is filled up regardless.
MIN_SHELF_SCORE = 0.15
REASON_TEXT = {
    "popular": "Popular in the last 30 days",
    "new": "New in the catalogue",
}


def recommendations_for_user(*, user, n: int = 20, include_played: bool = False) -> dict:
    served = served_model()
    taste = taste_of(user.pk)
    picks: list[Pick] = []
    if served is not None and (taste.values(1.0, "linear") > 0).any():
        picks = rank_personal(
            user_id=user.pk, taste=taste, served=served, n=n, include_played=include_played
        )
    if len(picks) < n:
        picks += _cold_picks(taste=taste, n=n - len(picks), taken={p.track_id for p in picks},
                             include_played=include_played)  # fmt: skip
    return {
        "user_id": user.pk,
        "model_version": served.version if served else None,
        "trained_at": served.trained_at if served else None,
        "generated_at": timezone.now(),
        "results": _render(picks),
    }


def shelves_for_user(*, user, shelves: int = 3, n: int = 10) -> dict:
    """Recommendations grouped by the listened track each one is attributed to, best first."""
    served = served_model()
    body = {
        "model_version": served.version if served else None,
        "trained_at": served.trained_at if served else None,
        "shelves": [],
    }
    taste = taste_of(user.pk)
    if served is None or not (taste.values(1.0, "linear") > 0).any():
        return body
    picks = rank_personal(
        user_id=user.pk, taste=taste, served=served, n=shelves * n * 3, include_played=False
    )
    groups: dict[int, list[Pick]] = {}
    for pick in picks:
        if pick.seed_id is not None and pick.score >= MIN_SHELF_SCORE:
            groups.setdefault(pick.seed_id, []).append(pick)
    ranked = sorted(groups.items(), key=lambda item: -sum(p.score for p in item[1][:n]))
    chosen = ranked[:shelves]
    seeds = tracks_by_ids([seed for seed, _ in chosen])
    for seed_id, group in chosen:
        seed = seeds.get(seed_id)
        if seed is None:
            continue
        body["shelves"].append(
            {
                "seed": TrackCompactSerializer(seed).data,
                "title": f"Because you listened to {seed.title}",
                "results": [{"track": r["track"], "score": r["score"]} for r in _render(group[:n])],
            }
        )
    return body


def also_played(*, track: Track, n: int = 10) -> dict:
    """Tracks the same listeners played (item factors), the track itself removed."""
    served = served_model()
    body = {
        "model_version": served.version if served else None,
        "trained_at": served.trained_at if served else None,
        "results": [],
    }
    column = served.model.column_of(track.pk) if served else None
    if column is None:
        return body
    similar = served.model.similar_items(column, n * 5 + 20)
    ids = [int(served.model.track_ids[c]) for c, _ in similar]
    info = artist_and_status(ids)
    tracks = tracks_by_ids(ids)
    per_artist: dict[int, int] = {}
    for (_, score), track_id in zip(similar, ids, strict=True):
        artist, status = info.get(track_id, (None, None))
        if track_id == track.pk or status not in PLAYABLE:
            continue
        if per_artist.get(artist, 0) >= MAX_PER_ARTIST:
            continue
        per_artist[artist] = per_artist.get(artist, 0) + 1
        body["results"].append(
            {"track": TrackCompactSerializer(tracks[track_id]).data, "score": round(score, 4)}
        )
        if len(body["results"]) == n:
            break
    return body


def active_model() -> ModelVersion | None:
    return ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()


def active_model_version() -> int | None:
    return (
        ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE)
        .values_list("pk", flat=True)
        .first()
    )


def popular_track_ids(limit: int = 200) -> list[int]:
    """Tracks with the most listeners in the last 30 days (cached for 5 minutes)."""
    key = f"recommender:popular:{limit}"
    ids = cache.get(key)
    if ids is None:
        since = timezone.now() - timedelta(days=POPULAR_DAYS)
        ids = list(
            UserTrackStats.objects.filter(last_listened_at__gte=since, track__status__in=PLAYABLE)
            .values("track_id")
            .annotate(listeners=Count("user_id"))
            .order_by("-listeners", "track_id")
            .values_list("track_id", flat=True)[:limit]
        )
        cache.set(key, ids, POPULAR_CACHE_SECONDS)
    return ids


def new_track_ids(limit: int = 50) -> list[int]:
    return list(
        Track.objects.filter(status=Track.Status.DONE)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)[:limit]
    )


def _cold_picks(*, taste, n: int, taken: set[int], include_played: bool) -> list[Pick]:
    """Popular and new tracks (every fourth one new), for users the model cannot score yet."""
    popular = [t for t in popular_track_ids() if t not in taken]
    new = [t for t in new_track_ids() if t not in taken and t not in popular[: n * 2]]
    merged: list[Pick] = []
    while popular or new:
        if new and (len(merged) % NEW_EVERY == NEW_EVERY - 1 or not popular):
            merged.append(Pick(new.pop(0), 0.0, "popular", "new"))
        elif popular:
            merged.append(Pick(popular.pop(0), 0.0, "popular", "popular"))
    chosen = choose(merged, taste=taste, n=n, include_played=include_played)
    for rank, pick in enumerate(chosen):
        pick.score = round(0.5 * (1 - rank / max(len(chosen), 1)), 4)
    return chosen


def _render(picks: list[Pick]) -> list[dict]:
    tracks = tracks_by_ids([p.track_id for p in picks] + [p.seed_id for p in picks if p.seed_id])
    results = []
    for pick in picks:
        track = tracks.get(pick.track_id)
        if track is None:
            continue
        seed = tracks.get(pick.seed_id) if pick.seed_id else None
        if pick.reason_type == "listened" and seed is not None:
            text = f"Because you listened to {seed.title}"
        elif pick.reason_type == "sounds_like" and seed is not None:
            text = f"Sounds like {seed.title}"
        else:
            text = REASON_TEXT.get(pick.reason_type, REASON_TEXT["popular"])
            seed = None
            if pick.reason_type not in REASON_TEXT:
                pick.reason_type = "popular"
        results.append(
            {
                "track": TrackCompactSerializer(track).data,
                "score": round(float(pick.score), 4),
                "source": pick.source,
                "reason": {
                    "type": pick.reason_type,
                    "track": TrackCompactSerializer(seed).data if seed else None,
                    "text": text,
                },
            }
        )
    return results
