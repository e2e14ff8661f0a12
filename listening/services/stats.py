"""The per-(user, track) aggregate, kept in step with the events inside the caller's transaction.

New events add to it (increments, INSERT ... ON CONFLICT DO UPDATE); exclusions and replaced
import totals recompute just their pairs from the events; `stats_rebuild` recomputes everything.

How events count is written once, in PAIR_TOTALS_SQL: each event counts `play_count` plays,
completed if `completed`, a skip if `skipped`, else partial. Every path (increments, recompute,
rebuild, the import's COPY statement, and the tests' recomputation) aggregates through it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q

from listening.models import ListeningEvent, UserTrackStats
from listening.services.sql import adapt_time, as_datetime, copy_staged, values_execute

CHUNK = 1000
# Above this many contributions (PostgreSQL), increments go through COPY into a temporary table:
# one multi-row VALUES statement with thousands of placeholders is slow for the driver to build.
COPY_ABOVE = 200
STATS_TABLE = UserTrackStats._meta.db_table
EVENTS_TABLE = ListeningEvent._meta.db_table
CONTRIBUTIONS_TABLE = "musicrec_stats_contributions"
# The columns every source of events has for PAIR_TOTALS_SQL, and their PostgreSQL types.
EVENT_COLUMNS = "user_id, track_id, listened_at, ms_played, completed, skipped, play_count"
_EVENT_TYPES = ("bigint", "bigint", "timestamptz", "integer", "boolean", "boolean", "integer")

# The counting rule, per (user_id, track_id) group of events.
PAIR_TOTALS_SQL = """
    user_id, track_id,
    SUM(CASE WHEN completed THEN play_count ELSE 0 END) AS completed,
    SUM(CASE WHEN completed OR skipped THEN 0 ELSE play_count END) AS partial,
    SUM(CASE WHEN skipped THEN play_count ELSE 0 END) AS skips,
    SUM(COALESCE(ms_played, 0)) AS ms,
    MIN(listened_at) AS first,
    MAX(listened_at) AS last
"""
_AGGREGATE_FIELDS = (
    "completed_plays",
    "partial_plays",
    "skips",
    "ms_played",
    "first_listened_at",
    "last_listened_at",
)


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
    rows = [
        (c.user_id, c.track_id, adapt_time(c.listened_at), c.ms_played, c.completed, c.skipped,
         c.play_count)
        for c in contributions
        if c.play_count > 0
    ]  # fmt: skip
    if not rows:
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql" and len(rows) > COPY_ABOVE:
            names = EVENT_COLUMNS.split(", ")
            columns = ", ".join(f"{n} {t}" for n, t in zip(names, _EVENT_TYPES, strict=True))
            with copy_staged(table=CONTRIBUTIONS_TABLE, columns=columns, data=rows) as cursor:
                cursor.execute(increments_upsert_sql(CONTRIBUTIONS_TABLE))
        else:
            values_execute(
                statement=f"WITH contributions ({EVENT_COLUMNS}) AS (VALUES {{values}}) "
                + increments_upsert_sql("contributions"),
                rows=rows,
                casts=_EVENT_TYPES,
            )
    return len({(row[0], row[1]) for row in rows})


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
            f"INSERT INTO {STATS_TABLE} (user_id, track_id, {', '.join(_AGGREGATE_FIELDS)}) "
            + _totals_select(EVENTS_TABLE, "NOT excluded")
        )
    return UserTrackStats.objects.count()


def increments_upsert_sql(source: str) -> str:
    """Add the events in `source` (a table or CTE with EVENT_COLUMNS) to the aggregate, pair by
    pair in key order (no deadlocks between writers)."""
    earliest, latest = (
        ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")
    )
    increments = ",\n".join(
        f"{name} = s.{name} + excluded.{name}" for name in _AGGREGATE_FIELDS[:4]
    )
    return f"""
        INSERT INTO {STATS_TABLE} AS s (user_id, track_id, {", ".join(_AGGREGATE_FIELDS)})
        {_totals_select(source)}
        ON CONFLICT (user_id, track_id) DO UPDATE SET
        {increments},
        first_listened_at = {earliest}(s.first_listened_at, excluded.first_listened_at),
        last_listened_at = {latest}(s.last_listened_at, excluded.last_listened_at)
    """


def aggregate_from_events(events) -> dict[tuple[int, int], dict]:
    """The aggregate a queryset of events implies, computed by the database with the counting
    rule (used by recompute and by the tests that check the stored aggregate)."""
    sql, params = (
        events.order_by().values(*EVENT_COLUMNS.split(", "), "excluded").query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(_totals_select(f"({sql}) AS events", "NOT excluded"), params)
        found = cursor.fetchall()
    return {
        (user_id, track_id): {
            "completed_plays": completed,
            "partial_plays": partial,
            "skips": skips,
            "ms_played": ms,
            "first_listened_at": as_datetime(first),
            "last_listened_at": as_datetime(last),
        }
        for user_id, track_id, completed, partial, skips, ms, first, last in found
    }


def _totals_select(source: str, condition: str = "TRUE") -> str:
    # The WHERE is needed on SQLite too: an upsert's SELECT without one is ambiguous there.
    return (
        f"SELECT {PAIR_TOTALS_SQL} FROM {source} WHERE play_count > 0 AND {condition} "
        "GROUP BY user_id, track_id ORDER BY user_id, track_id"
    )


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
            update_fields=list(_AGGREGATE_FIELDS),
        )
    if gone:
        condition = Q()
        for user_id, track_id in gone:
            condition |= Q(user_id=user_id, track_id=track_id)
        UserTrackStats.objects.filter(condition).delete()
