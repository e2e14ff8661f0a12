"""Reads on listening history: the pages' querysets, and the read API other apps use.

The recommender reads listening only through the functions below (never the models or the
table names), so a listening migration changes this module and nothing else. The fast paths
(a binary COPY, one-query stamps) live here for the same reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.db import connection
from django.db.models import Count, QuerySet
from django.utils import timezone

from listening.models import Feedback, ListeningEvent, UserTrackStats

STATS = UserTrackStats._meta.db_table
FEEDBACK = Feedback._meta.db_table
COLUMNS = ("user_id", "track_id", "completed_plays", "partial_plays", "skips")
CHUNK_ROWS = 50_000
_PGCOPY_HEADER = 19  # signature (11) + flags (4) + header extension length (4, zero)


def history_for_user(*, user) -> QuerySet[ListeningEvent]:
    """The user's own listens, newest first (served by the `event_history` index)."""
    return (
        ListeningEvent.objects.filter(user=user)
        .select_related("track__artist")
        .order_by("-listened_at", "-id")
    )


def feedback_for_user(*, user) -> QuerySet[Feedback]:
    return Feedback.objects.filter(user=user).order_by("-updated_at", "-id")


@dataclass(frozen=True)
class ListeningArrays:
    """The per-(user, track) aggregate as parallel int64 arrays, one entry per pair."""

    user_ids: np.ndarray
    track_ids: np.ndarray
    completed: np.ndarray
    partial: np.ndarray
    skips: np.ndarray
    last_listened: np.ndarray  # Unix seconds

    def __len__(self) -> int:
        return len(self.user_ids)


@dataclass(frozen=True)
class FeedbackRow:
    """One piece of feedback: on a track (artist_id None) or on an artist (track_id None).
    `kind` is "like", "dislike" or "dont_recommend"."""

    track_id: int | None
    artist_id: int | None
    kind: str
    updated_at: datetime


@dataclass(frozen=True)
class UserListening:
    """One user's aggregate rows and every piece of their feedback, as of now."""

    listening: ListeningArrays
    feedback: list[FeedbackRow]
    newest: datetime | None  # the latest last listen or feedback change


def listening_arrays() -> ListeningArrays:
    """Every (user, track) pair of the aggregate, in one streamed pass.

    PostgreSQL: `COPY (SELECT ...) TO STDOUT (FORMAT BINARY)` parsed straight into a numpy
    structured array (every column a non-null int8, so every row has the same width). Elsewhere
    (SQLite): a chunked cursor filling preallocated arrays. Never a Python list of all rows.
    """
    columns = listening_columns_copy() if connection.vendor == "postgresql" else _read_chunked()
    return ListeningArrays(*columns)


def listening_columns_copy() -> tuple[np.ndarray, ...]:
    """PostgreSQL only: the aggregate's columns (COLUMNS, then last listen) by binary COPY."""
    fields = len(COLUMNS) + 1
    dtype = np.dtype(
        [("count", ">i2")] + [item for i in range(fields) for item in ((f"len{i}", ">i4"),
                                                                       (f"v{i}", ">i8"))]
    )  # fmt: skip
    select = ", ".join(f"{c}::int8" for c in COLUMNS)
    sql = (
        f"COPY (SELECT {select}, EXTRACT(EPOCH FROM last_listened_at)::int8 FROM {STATS}) "
        "TO STDOUT (FORMAT BINARY)"
    )
    buffer = bytearray()
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
        for block in copy:
            buffer += block
    body = memoryview(buffer)[_PGCOPY_HEADER : len(buffer) - 2]  # trailer: int16 -1
    rows = np.frombuffer(body, dtype=dtype)
    return tuple(rows[f"v{i}"].astype(np.int64) for i in range(fields))


def _read_chunked() -> tuple[np.ndarray, ...]:
    total = UserTrackStats.objects.count()
    arrays = [np.empty(total, dtype=np.int64) for _ in range(len(COLUMNS) + 1)]
    filled = 0
    with connection.cursor() as cursor:
        # The format is a parameter: with none, Django hands the SQL to SQLite as written, and
        # a doubled '%%s' would read every time as 0.
        cursor.execute(
            f"SELECT {', '.join(COLUMNS)}, CAST(strftime(%s, last_listened_at) AS INTEGER) "
            f"FROM {STATS}",
            ["%s"],
        )
        while rows := cursor.fetchmany(CHUNK_ROWS):
            block = np.asarray(rows, dtype=np.int64)
            stop = min(total, filled + len(block))  # rows added since the count are skipped
            for i, array in enumerate(arrays):
                array[filled:stop] = block[: stop - filled, i]
            filled = stop
    return tuple(array[:filled] for array in arrays)


def track_feedback_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every like or dislike of a track: (user ids, track ids, liked) as arrays."""
    rows = np.array(
        Feedback.objects.filter(
            track__isnull=False, kind__in=[Feedback.Kind.LIKE, Feedback.Kind.DISLIKE]
        ).values_list("user_id", "track_id", "kind"),
        dtype=object,
    ).reshape(-1, 3)
    return (
        rows[:, 0].astype(np.int64),
        rows[:, 1].astype(np.int64),
        (rows[:, 2] == Feedback.Kind.LIKE).astype(bool),
    )


def listening_for_user(*, user_id: int) -> UserListening:
    """The user's aggregate rows and feedback, now (two indexed queries)."""
    stats = list(
        UserTrackStats.objects.filter(user_id=user_id).values_list(
            "track_id", "completed_plays", "partial_plays", "skips", "last_listened_at"
        )
    )
    rows = np.array([s[:4] for s in stats], dtype=np.int64).reshape(-1, 4)
    newest = max((s[4] for s in stats), default=None)
    feedback = [
        FeedbackRow(track_id=track_id, artist_id=artist_id, kind=kind, updated_at=updated)
        for track_id, artist_id, kind, updated in Feedback.objects.filter(
            user_id=user_id
        ).values_list("track_id", "artist_id", "kind", "updated_at")
    ]
    for row in feedback:
        newest = max(newest, row.updated_at) if newest else row.updated_at
    zeros = np.zeros(len(rows), dtype=np.int64)
    listening = ListeningArrays(
        user_ids=np.full(len(rows), user_id, dtype=np.int64),
        track_ids=rows[:, 0].copy(),
        completed=rows[:, 1].copy(),
        partial=rows[:, 2].copy(),
        skips=rows[:, 3].copy(),
        last_listened=zeros,  # not needed to serve; the newest listen is `newest`
    )
    return UserListening(listening=listening, feedback=feedback, newest=newest)


def taste_stamp(*, user_id: int) -> str:
    """Changes whenever the user's listening aggregate or feedback changes (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT (SELECT CAST(COUNT(*) AS TEXT) || '.'
                           || CAST(COALESCE(SUM(completed_plays + partial_plays + skips), 0)
                                   AS TEXT)
                           || '.' || COALESCE(CAST(MAX(last_listened_at) AS TEXT), '')
                    FROM {STATS} WHERE user_id = %s),
                   (SELECT CAST(COUNT(*) AS TEXT) || '.'
                           || COALESCE(CAST(MAX(updated_at) AS TEXT), '')
                    FROM {FEEDBACK} WHERE user_id = %s)
            """,
            [user_id, user_id],
        )
        listening, feedback = cursor.fetchone()
    return hashlib.sha1(f"{listening}|{feedback}".encode()).hexdigest()[:16]


def popular_track_ids(*, days: int, limit: int, statuses=None) -> list[int]:
    """Tracks (of these catalogue statuses; None: any) with the most listeners whose last listen
    is within `days`, most first (ties by id)."""
    since = timezone.now() - timedelta(days=days)
    rows = UserTrackStats.objects.filter(last_listened_at__gte=since)
    if statuses is not None:
        rows = rows.filter(track__status__in=list(statuses))
    return list(
        rows.values("track_id")
        .annotate(listeners=Count("user_id"))
        .order_by("-listeners", "track_id")
        .values_list("track_id", flat=True)[:limit]
    )


def _shares_a_listener(candidate: str, seed: str) -> str:
    """PostgreSQL: someone other than %(me)s played both tracks (two SQL expressions), at least
    in part. The listeners both tracks have are a merge of two ranges of the (track_id, user_id)
    index, read from the index alone where the visibility map allows (OFFSET 0 keeps the play
    counts out of that step); the play counts are then read for the shared listeners only, and
    the first that passes ends it. No more than two tracks' index entries and their shared
    listeners' rows, whatever the size of the catalogue."""
    return (
        f"EXISTS (SELECT 1 FROM (SELECT a.user_id FROM {STATS} a JOIN {STATS} b "
        f"ON b.user_id = a.user_id AND b.track_id = {candidate} "
        f"WHERE a.track_id = {seed} AND a.user_id <> %(me)s OFFSET 0) u "
        f"JOIN {STATS} pa ON pa.user_id = u.user_id AND pa.track_id = {seed} "
        f"JOIN {STATS} pb ON pb.user_id = u.user_id AND pb.track_id = {candidate} "
        "WHERE pa.completed_plays + pa.partial_plays > 0 "
        "AND pb.completed_plays + pb.partial_plays > 0)"
    )


# For each candidate, its seeds in the order given: the ordered subquery is kept apart from the
# outer one (OFFSET 0), so the probe runs on its rows in order and LIMIT 1 stops at the first
# that shares a listener. Arrays as parameters: one statement text whatever the counts.
_FIRST_SHARED_PG = (
    "WITH pair AS MATERIALIZED (SELECT owner, seed, rank "
    "FROM unnest(%(owners)s::int8[], %(seeds)s::int8[]) WITH ORDINALITY AS p(owner, seed, rank)) "
    "SELECT c.track_id, (SELECT s.seed FROM (SELECT p.seed FROM pair p WHERE p.owner = c.owner "
    f"ORDER BY p.rank OFFSET 0) s WHERE {_shares_a_listener('c.track_id', 's.seed')} LIMIT 1) "
    "FROM unnest(%(candidates)s::int8[]) WITH ORDINALITY AS c(track_id, owner)"
)
# Elsewhere (SQLite, small): the same question asked plainly, one pair at a time.
_SHARED_PAIR = (
    f"SELECT EXISTS (SELECT 1 FROM {STATS} a JOIN {STATS} b ON b.user_id = a.user_id "
    "AND b.track_id = %(candidate)s WHERE a.track_id = %(seed)s AND a.user_id <> %(me)s "
    "AND a.completed_plays + a.partial_plays > 0 AND b.completed_plays + b.partial_plays > 0)"
)


def first_co_listened(
    *, seeds_of: dict[int, list[int]], exclude_user_id: int | None = None
) -> dict[int, int]:
    """For each candidate track (a key of `seeds_of`), the first of its seed tracks, in the order
    given, that some listener other than `exclude_user_id` has played along with it, at least in
    part; candidates with no such seed are left out.

    PostgreSQL: one statement; for each candidate the seeds are tried in order and the first
    hit ends the search. Elsewhere (SQLite): the same probe, one pair at a time.
    """
    me = -1 if exclude_user_id is None else int(exclude_user_id)
    wanted = {int(c): [int(s) for s in seeds] for c, seeds in seeds_of.items() if seeds}
    if not wanted:
        return {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return _first_shared_at_once(cursor, wanted, me)
        return _first_shared_pair_by_pair(cursor, wanted, me)


def _first_shared_at_once(cursor, wanted: dict[int, list[int]], me: int) -> dict[int, int]:
    candidates = list(wanted)
    cursor.execute(
        _FIRST_SHARED_PG,
        {
            "candidates": candidates,
            "owners": [owner for owner, c in enumerate(candidates, 1) for _ in wanted[c]],
            "seeds": [seed for c in candidates for seed in wanted[c]],
            "me": me,
        },
    )
    return {int(c): int(seed) for c, seed in cursor.fetchall() if seed is not None}


def _first_shared_pair_by_pair(cursor, wanted: dict[int, list[int]], me: int) -> dict[int, int]:
    found = {}
    for candidate, seeds in wanted.items():
        for seed in seeds:
            cursor.execute(_SHARED_PAIR, {"candidate": candidate, "seed": seed, "me": me})
            if cursor.fetchone()[0]:
                found[candidate] = seed
                break
    return found


def user_has_listened(*, user_id: int) -> bool:
    """Whether the user has any listen counted in their taste."""
    return UserTrackStats.objects.filter(user_id=user_id).exists()
