"""Reads of the recommender: for-you lists, "because you listened" shelves, "also played",
the active model. Every answer carries the model version it came from (None before the first)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from catalog.models import Track
from catalog.selectors import track_cards
from listening.models import Feedback, UserTrackStats
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
    return _cached(
        f"for-you:{user.pk}:{int(include_played)}:{n}",
        served,
        user.pk,
        lambda: _recommendations(user, served, n, include_played),
    )


def _recommendations(user, served, n: int, include_played: bool) -> dict:
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
    return _cached(
        f"shelves:{user.pk}:{shelves}:{n}",
        served,
        user.pk,
        lambda: _shelves(user, served, shelves, n),
    )


def _shelves(user, served, shelves: int, n: int) -> dict:
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
    seeds = track_cards(seed for seed, _ in chosen)
    for seed_id, group in chosen:
        seed = seeds.get(seed_id)
        if seed is None:
            continue
        body["shelves"].append(
            {
                "seed": seed.compact,
                "title": f"Because you listened to {seed.compact['title']}",
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
    cards = track_cards(ids)
    per_artist: dict[int, int] = {}
    for (_, score), track_id in zip(similar, ids, strict=True):
        card = cards.get(track_id)
        if track_id == track.pk or card is None or card.status not in PLAYABLE:
            continue
        if per_artist.get(card.artist_id, 0) >= MAX_PER_ARTIST:
            continue
        per_artist[card.artist_id] = per_artist.get(card.artist_id, 0) + 1
        body["results"].append({"track": card.compact, "score": round(score, 4)})
        if len(body["results"]) == n:
            break
    return body


def _cached(name: str, served, user_id: int, compute):
    """An answer computed at most once per model version and state of the user's taste.

    The key holds the model version and a stamp of everything the answer depends on about the
    user (taste_stamp): a new listen, an exclusion or new feedback changes it, so the next
    request computes afresh; repeated requests in between (reloads, home and for-you) are served
    from the cache (Redis in production) for MUSICREC_RECOMMENDATION_CACHE_SECONDS.
    """
    seconds = settings.MUSICREC_RECOMMENDATION_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    version = served.version if served else 0
    key = f"recommender:{name}:{version}:{taste_stamp(user_id)}"
    body = cache.get(key)
    if body is None:
        body = compute()
        cache.set(key, body, seconds)
    return body


def taste_stamp(user_id: int) -> str:
    """Changes whenever the user's listening aggregate or feedback changes (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT (SELECT CAST(COUNT(*) AS TEXT) || '.'
                           || CAST(COALESCE(SUM(completed_plays + partial_plays + skips), 0)
                                   AS TEXT)
                           || '.' || COALESCE(CAST(MAX(last_listened_at) AS TEXT), '')
                    FROM {UserTrackStats._meta.db_table} WHERE user_id = %s),
                   (SELECT CAST(COUNT(*) AS TEXT) || '.'
                           || COALESCE(CAST(MAX(updated_at) AS TEXT), '')
                    FROM {Feedback._meta.db_table} WHERE user_id = %s)
            """,
            [user_id, user_id],
        )
        listening, feedback = cursor.fetchone()
    return hashlib.sha1(f"{listening}|{feedback}".encode()).hexdigest()[:16]


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
    seeds = track_cards({p.seed_id for p in picks if p.seed_id})
    results = []
    for pick in picks:
        if pick.card is None:
            continue
        seed = seeds.get(pick.seed_id) if pick.seed_id else None
        if pick.reason_type == "listened" and seed is not None:
            text = f"Because you listened to {seed.compact['title']}"
        elif pick.reason_type == "sounds_like" and seed is not None:
            text = f"Sounds like {seed.compact['title']}"
        else:
            text = REASON_TEXT.get(pick.reason_type, REASON_TEXT["popular"])
            seed = None
            if pick.reason_type not in REASON_TEXT:
                pick.reason_type = "popular"
        results.append(
            {
                "track": pick.card.compact,
                "score": round(float(pick.score), 4),
                "source": pick.source,
                "reason": {
                    "type": pick.reason_type,
                    "track": seed.compact if seed else None,
                    "text": text,
                },
            }
        )
    return results
