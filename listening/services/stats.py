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
# Above this many pairs (PostgreSQL), increments go through COPY into a temporary table: one
# multi-row VALUES statement with thousands of placeholders is slow for the driver to build.
COPY_ABOVE = 200
STATS_TABLE = UserTrackStats._meta.db_table
EVENTS_TABLE = ListeningEvent._meta.db_table
DELTA_TABLE = "musicrec_stats_delta"


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
    with transaction.atomic():
        if connection.vendor == "postgresql" and len(keys) > COPY_ABOVE:
            _upsert_increments_copy([(key, totals[key]) for key in keys])
        else:
            for start in range(0, len(keys), CHUNK):
                _upsert_increments([(key, totals[key]) for key in keys[start : start + CHUNK]])
    return len(keys)


def stats_recompute(pairs: Iterable[tuple[int, int]]) -> None:
    """Recompute the given (user, track) pairs from their events; drop pairs left with none."""
    wanted = sorted(set(pairs))
    for start in range(0, len(wanted), CHUNK):
        _recompute_chunk(wanted[start : start + CHUNK])


# How events count, in SQL (the same rule as stats_add): per (user_id, track_id) group.
PAIR_TOTALS_SQL = """
    user_id, track_id,
    SUM(CASE WHEN completed THEN play_count ELSE 0 END) AS completed,
    SUM(CASE WHEN completed OR skipped THEN 0 ELSE play_count END) AS partial,
    SUM(CASE WHEN skipped THEN play_count ELSE 0 END) AS skips,
    SUM(COALESCE(ms_played, 0)) AS ms,
    MIN(listened_at) AS first,
    MAX(listened_at) AS last
"""


@transaction.atomic
def stats_rebuild() -> int:
    """Recompute the whole aggregate from the events. Returns the number of pairs."""
    UserTrackStats.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {STATS_TABLE} (user_id, track_id, completed_plays, partial_plays, skips,
                                       ms_played, first_listened_at, last_listened_at)
            SELECT {PAIR_TOTALS_SQL}
            FROM {EVENTS_TABLE}
            WHERE NOT excluded AND play_count > 0
            GROUP BY user_id, track_id
            """
        )
    return UserTrackStats.objects.count()


def increments_upsert_sql(source: str) -> str:
    """PostgreSQL: add the rows of `source` (columns user_id, track_id, completed, partial,
    skips, ms, first, last) to the aggregate, in key order (no deadlocks between writers)."""
    return f"""
        INSERT INTO {STATS_TABLE} AS s (user_id, track_id, completed_plays, partial_plays,
                                        skips, ms_played, first_listened_at, last_listened_at)
        SELECT user_id, track_id, completed, partial, skips, ms, first, last
        FROM {source} ORDER BY user_id, track_id
        ON CONFLICT (user_id, track_id) DO UPDATE SET
        {_SET_INCREMENTS.format(earliest="LEAST", latest="GREATEST")}
    """


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


_SET_INCREMENTS = """
    completed_plays = s.completed_plays + excluded.completed_plays,
    partial_plays = s.partial_plays + excluded.partial_plays,
    skips = s.skips + excluded.skips,
    ms_played = s.ms_played + excluded.ms_played,
    first_listened_at = {earliest}(s.first_listened_at, excluded.first_listened_at),
    last_listened_at = {latest}(s.last_listened_at, excluded.last_listened_at)
"""


def _upsert_increments_copy(rows: list[tuple[tuple[int, int], list]]) -> None:
    """PostgreSQL, many pairs: COPY the increments into a session temporary table (emptied at
    commit), then one INSERT ... SELECT ... ON CONFLICT in key order."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {DELTA_TABLE} (user_id bigint, track_id bigint,"
            " completed int, partial int, skips int, ms bigint, first timestamptz,"
            " last timestamptz) ON COMMIT DELETE ROWS"
        )
        with cursor.cursor.copy(f"COPY {DELTA_TABLE} FROM STDIN") as copy:
            for (user_id, track_id), (completed, partial, skips, ms, first, last) in rows:
                copy.write_row((user_id, track_id, completed, partial, skips, ms, first, last))
        cursor.execute(increments_upsert_sql(DELTA_TABLE))
        cursor.execute(f"TRUNCATE {DELTA_TABLE}")


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
            {_SET_INCREMENTS.format(earliest=earliest, latest=latest)}
            """,
            params,
        )
