"""Reads of the recommender: for-you lists, "because you listened" shelves, "also played",
the active model. Every answer carries the model version it came from (None before the first);
answers are objects (recommender/results.py), rendered at the edge."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from catalog.models import Track
from catalog.selectors import track_cards
from listening import selectors as listening
from recommender.engine.ranking import MAX_PER_ARTIST, Pick, cold_picks, cold_scores, shelf_groups
from recommender.models import ModelVersion
from recommender.personal import choose, rank_personal, taste_of
from recommender.results import (
    AlsoPlayed,
    Reason,
    Recommendation,
    Recommendations,
    ScoredTrack,
    Shelf,
    Shelves,
)
from recommender.serving import served_model

POPULAR_DAYS = 30
POPULAR_CACHE_SECONDS = 300
NEW_EVERY = 4  # in a cold list, every fourth track is a new one
# A shelf claims "because you listened to X": only picks that score at least this (scores run
# 0..1 against the user's best) earn that claim. The plain list is filled up regardless.
MIN_SHELF_SCORE = 0.15
REASON_TEXT = {
    "listened": "Played by listeners with your taste",  # no listened track shares a listener
    "popular": "Popular in the last 30 days",
    "new": "New in the catalogue",
}


def recommendations_for_user(*, user, n: int = 20, include_played: bool = False) -> Recommendations:
    """The user's personal list: ALS and sound for a user with liked history, filled up with
    popular and new tracks (cached per model version and state of the user's taste)."""
    served = served_model()
    return _cached(
        f"for-you:{user.pk}:{int(include_played)}:{n}",
        served,
        user.pk,
        lambda: _recommendations(user, served, n, include_played),
    )


def _recommendations(user, served, n: int, include_played: bool) -> Recommendations:
    taste = taste_of(user.pk)
    picks: list[Pick] = []
    if served is not None and taste.likes_anything():
        picks = rank_personal(
            user_id=user.pk, taste=taste, served=served, n=n, include_played=include_played
        )
    if len(picks) < n:
        picks += _cold_picks(taste=taste, n=n - len(picks), taken={p.track_id for p in picks},
                             include_played=include_played)  # fmt: skip
    return Recommendations(
        model_version=served.version if served else None,
        trained_at=served.trained_at if served else None,
        user_id=user.pk,
        generated_at=timezone.now(),
        results=_recommendations_of(picks),
    )


def shelves_for_user(*, user, shelves: int = 3, n: int = 10) -> Shelves:
    """Recommendations grouped by the listened track each one is attributed to, best first."""
    served = served_model()
    return _cached(
        f"shelves:{user.pk}:{shelves}:{n}",
        served,
        user.pk,
        lambda: _shelves(user, served, shelves, n),
    )


def _shelves(user, served, shelves: int, n: int) -> Shelves:
    stamp = {
        "model_version": served.version if served else None,
        "trained_at": served.trained_at if served else None,
    }
    taste = taste_of(user.pk)
    if served is None or not taste.likes_anything():
        return Shelves(**stamp, shelves=[])
    picks = rank_personal(
        user_id=user.pk, taste=taste, served=served, n=shelves * n * 3, include_played=False
    )
    groups = shelf_groups(picks, shelves=shelves, n=n, min_score=MIN_SHELF_SCORE)
    chosen = [pick for _, group in groups for pick in group]
    seeds = track_cards({seed for seed, _ in groups})  # the seed cards, read once
    results = {r.track.id: r for r in _recommendations_of(chosen, seeds)}
    found = []
    for seed_id, group in groups:
        seed = seeds.get(seed_id)
        if seed is not None:
            found.append(
                Shelf(
                    seed=seed,
                    title=f"Because you listened to {seed.title}",
                    results=[results[p.track_id] for p in group if p.track_id in results],
                )
            )
    return Shelves(**stamp, shelves=found)


def also_played(*, track: Track, n: int = 10) -> AlsoPlayed:
    """Tracks the same listeners played (item factors), the track itself removed."""
    served = served_model()
    stamp = {
        "model_version": served.version if served else None,
        "trained_at": served.trained_at if served else None,
    }
    column = served.model.column_of(track.pk) if served else None
    if column is None:
        return AlsoPlayed(**stamp, results=[])
    similar = served.model.similar_items(column, n * 5 + 20)
    ids = [int(served.model.track_ids[c]) for c, _ in similar]
    cards = track_cards(ids)
    per_artist: dict[int, int] = {}
    results: list[ScoredTrack] = []
    for (_, score), track_id in zip(similar, ids, strict=True):
        card = cards.get(track_id)
        if track_id == track.pk or card is None:
            continue
        if not card.artist_unknown:  # untagged files are not one artist
            if per_artist.get(card.artist_id, 0) >= MAX_PER_ARTIST:
                continue
            per_artist[card.artist_id] = per_artist.get(card.artist_id, 0) + 1
        results.append(ScoredTrack(track=card, score=round(score, 4)))
        if len(results) == n:
            break
    return AlsoPlayed(**stamp, results=results)


def _cached(name: str, served, user_id: int, compute):
    """An answer computed at most once per model version and state of the user's taste.

    The key holds the model version and a stamp of everything the answer depends on about the
    user (listening's taste_stamp): a new listen, an exclusion or new feedback changes it, so the
    next request computes afresh; repeated requests in between (reloads, home and for-you) are
    served from the cache (Redis in production) for MUSICREC_RECOMMENDATION_CACHE_SECONDS.
    """
    seconds = settings.MUSICREC_RECOMMENDATION_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    version = served.version if served else 0
    key = f"recommender:{name}:{version}:{listening.taste_stamp(user_id=user_id)}"
    body = cache.get(key)
    if body is None:
        body = compute()
        cache.set(key, body, seconds)
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
    """Tracks with the most listeners in the last 30 days, with audio or not (cached for 5
    minutes)."""
    key = f"recommender:popular:{limit}"
    ids = cache.get(key)
    if ids is None:
        ids = listening.popular_track_ids(days=POPULAR_DAYS, limit=limit)
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
    merged = cold_picks(popular=popular, new=new, every=NEW_EVERY)
    chosen = choose(merged, taste=taste, n=n, include_played=include_played)
    cold_scores(chosen)
    return chosen


def _recommendations_of(picks: list[Pick], seeds: dict | None = None) -> list[Recommendation]:
    """Each chosen pick with its reason. `seeds`: cards already read (of some seed ids)."""
    seeds = dict(seeds or {})
    missing = {p.seed_id for p in picks if p.seed_id and p.seed_id not in seeds}
    if missing:
        seeds.update(track_cards(missing))
    results = []
    for pick in picks:
        if pick.card is None:
            continue
        seed = seeds.get(pick.seed_id) if pick.seed_id else None
        kind = pick.reason_type
        if kind == "listened" and seed is not None:
            text = f"Because you listened to {seed.title}"
        elif kind == "sounds_like" and seed is not None:
            text = f"Sounds like {seed.title}"
        else:
            text = REASON_TEXT.get(kind, REASON_TEXT["popular"])
            seed = None
            if kind not in REASON_TEXT:
                kind = pick.reason_type = "popular"
        results.append(
            Recommendation(
                track=pick.card,
                score=round(float(pick.score), 4),
                source=pick.source,
                reason=Reason(type=kind, track=seed, text=text),
            )
        )
    return results
