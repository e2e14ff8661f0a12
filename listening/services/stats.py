"""The per-(user, track) aggregate, kept in step with the events inside the caller's transaction.

New events add to it (one INSERT ... ON CONFLICT DO UPDATE per chunk, increments); exclusions and
replaced import totals recompute just their pairs from the events; `stats_rebuild` recomputes
everything. Each event counts `play_count` plays: completed, skipped, or else partial.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Case, IntegerField, Max, Min, Q, Sum, When
from django.db.models.functions import Coalesce

from listening.models import ListeningEvent, UserTrackStats

CHUNK = 1000
STATS_TABLE = UserTrackStats._meta.db_table
EVENTS_TABLE = ListeningEvent._meta.db_table


@dataclass(frozen=True)
class Contribution:
    """What one stored, non-excluded event adds to its pair."""

    user_id: int
    track_id: int
    listened_at: datetime
    completed: bool
    skipped: bool
    play_count: int
    ms_played: int | None


def stats_add(contributions: Iterable[Contribution]) -> int:
    """Add new events to their pairs. Returns how many pairs were touched.

    Call inside the transaction that stored the events. Pairs are written in key order, so two
    concurrent writers lock rows in the same order and cannot deadlock.
    """
    totals: dict[tuple[int, int], list] = {}
    for c in contributions:
        if c.play_count <= 0:
            continue
        key = (c.user_id, c.track_id)
        row = totals.get(key)
        if row is None:
            row = totals[key] = [0, 0, 0, 0, c.listened_at, c.listened_at]
        if c.completed:
            row[0] += c.play_count
        elif c.skipped:
            row[2] += c.play_count
        else:
            row[1] += c.play_count
        row[3] += c.ms_played or 0
        row[4] = min(row[4], c.listened_at)
        row[5] = max(row[5], c.listened_at)
    keys = sorted(totals)
    for start in range(0, len(keys), CHUNK):
        _upsert_increments([(key, totals[key]) for key in keys[start : start + CHUNK]])
    return len(keys)


def stats_recompute(pairs: Iterable[tuple[int, int]]) -> None:
    """Recompute the given (user, track) pairs from their events; drop pairs left with none."""
    wanted = sorted(set(pairs))
    for start in range(0, len(wanted), CHUNK):
        _recompute_chunk(wanted[start : start + CHUNK])


@transaction.atomic
def stats_rebuild() -> int:
    """Recompute the whole aggregate from the events. Returns the number of pairs."""
    UserTrackStats.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {STATS_TABLE} (user_id, track_id, completed_plays, partial_plays, skips,
                                       ms_played, first_listened_at, last_listened_at)
            SELECT user_id, track_id,
                   SUM(CASE WHEN completed THEN play_count ELSE 0 END),
                   SUM(CASE WHEN completed OR skipped THEN 0 ELSE play_count END),
                   SUM(CASE WHEN skipped THEN play_count ELSE 0 END),
                   SUM(COALESCE(ms_played, 0)),
                   MIN(listened_at), MAX(listened_at)
            FROM {EVENTS_TABLE}
            WHERE NOT excluded AND play_count > 0
            GROUP BY user_id, track_id
            """
        )
    return UserTrackStats.objects.count()


def aggregate_from_events(events) -> dict[tuple[int, int], dict]:
    """The aggregate the events imply, computed by the database (used by recompute and tests)."""
    counted = events.filter(excluded=False, play_count__gt=0)
    rows = counted.values("user_id", "track_id").annotate(
        completed_plays=Sum(
            Case(When(completed=True, then="play_count"), default=0, output_field=IntegerField())
        ),
        partial_plays=Sum(
            Case(
                When(Q(completed=False) & Q(skipped=False), then="play_count"),
                default=0,
                output_field=IntegerField(),
            )
        ),
        skips=Sum(
            Case(When(skipped=True, then="play_count"), default=0, output_field=IntegerField())
        ),
        ms_played=Sum(Coalesce("ms_played", 0)),
        first_listened_at=Min("listened_at"),
        last_listened_at=Max("listened_at"),
    )
    return {(r.pop("user_id"), r.pop("track_id")): r for r in rows}


def _recompute_chunk(pairs: list[tuple[int, int]]) -> None:
    users = {u for u, _ in pairs}
    tracks = {t for _, t in pairs}
    found = aggregate_from_events(
        ListeningEvent.objects.filter(user_id__in=users, track_id__in=tracks)
    )
    keep = [
        UserTrackStats(user_id=u, track_id=t, **found[(u, t)]) for u, t in pairs if (u, t) in found
    ]
    gone = [pair for pair in pairs if pair not in found]
    if keep:
        UserTrackStats.objects.bulk_create(
            keep,
            update_conflicts=True,
            unique_fields=["user", "track"],
            update_fields=[
                "completed_plays",
                "partial_plays",
                "skips",
                "ms_played",
                "first_listened_at",
                "last_listened_at",
            ],
        )
    if gone:
        condition = Q()
        for user_id, track_id in gone:
            condition |= Q(user_id=user_id, track_id=track_id)
        UserTrackStats.objects.filter(condition).delete()


def _upsert_increments(rows: list[tuple[tuple[int, int], list]]) -> None:
    earliest, latest = (
        ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")
    )
    adapt = connection.ops.adapt_datetimefield_value
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    params: list = []
    for (user_id, track_id), (completed, partial, skips, ms, first, last) in rows:
        params += [user_id, track_id, completed, partial, skips, ms, adapt(first), adapt(last)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {STATS_TABLE} AS s (user_id, track_id, completed_plays, partial_plays,
                                            skips, ms_played, first_listened_at,
                                            last_listened_at)
            VALUES {values}
            ON CONFLICT (user_id, track_id) DO UPDATE SET
                completed_plays = s.completed_plays + excluded.completed_plays,
                partial_plays = s.partial_plays + excluded.partial_plays,
                skips = s.skips + excluded.skips,
                ms_played = s.ms_played + excluded.ms_played,
                first_listened_at = {earliest}(s.first_listened_at, excluded.first_listened_at),
                last_listened_at = {latest}(s.last_listened_at, excluded.last_listened_at)
            """,
            params,
        )
