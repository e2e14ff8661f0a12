"""Read the listening aggregate and track feedback into numpy arrays in one streamed pass.

PostgreSQL: `COPY (SELECT ...) TO STDOUT (FORMAT BINARY)` straight into a numpy structured array
(every column is a non-null int8, so every row has the same width). Elsewhere (SQLite): a
chunked cursor filling preallocated arrays. Never a Python list of all rows.
"""

from __future__ import annotations

import numpy as np
from django.db import connection

from listening.models import Feedback, UserTrackStats
from recommender.engine.matrix import Interactions

STATS = UserTrackStats._meta.db_table
COLUMNS = ("user_id", "track_id", "completed_plays", "partial_plays", "skips")
CHUNK_ROWS = 50_000
_PGCOPY_HEADER = 19  # signature (11) + flags (4) + header extension length (4, zero)
_KEY_SHIFT = np.int64(1 << 32)


def interactions_read() -> Interactions:
    """Every (user, track) pair with listening or track feedback, as parallel arrays."""
    if connection.vendor == "postgresql":
        users, tracks, completed, partial, skips, last = _read_copy()
    else:
        users, tracks, completed, partial, skips, last = _read_chunked()
    return _with_feedback(users, tracks, completed, partial, skips, last)


def _read_copy():
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


def _read_chunked():
    total = UserTrackStats.objects.count()
    arrays = [np.empty(total, dtype=np.int64) for _ in range(len(COLUMNS) + 1)]
    filled = 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(COLUMNS)}, CAST(strftime('%%s', last_listened_at) AS INTEGER) "
            f"FROM {STATS}"
        )
        while rows := cursor.fetchmany(CHUNK_ROWS):
            block = np.asarray(rows, dtype=np.int64)
            stop = min(total, filled + len(block))  # rows added since the count are skipped
            for i, array in enumerate(arrays):
                array[filled:stop] = block[: stop - filled, i]
            filled = stop
    return tuple(array[:filled] for array in arrays)


def _with_feedback(users, tracks, completed, partial, skips, last) -> Interactions:
    """Mark liked / disliked pairs; feedback on a track never played adds its own pair."""
    feedback = np.array(
        Feedback.objects.filter(
            track__isnull=False, kind__in=[Feedback.Kind.LIKE, Feedback.Kind.DISLIKE]
        ).values_list("user_id", "track_id", "kind"),
        dtype=object,
    ).reshape(-1, 3)
    liked = np.zeros(len(users), dtype=bool)
    disliked = np.zeros(len(users), dtype=bool)
    if len(feedback):
        keys = users * _KEY_SHIFT + tracks
        order = np.argsort(keys, kind="stable")
        fb_keys = feedback[:, 0].astype(np.int64) * _KEY_SHIFT + feedback[:, 1].astype(np.int64)
        fb_like = feedback[:, 2] == Feedback.Kind.LIKE
        position = np.searchsorted(keys[order], fb_keys)
        found = (position < len(keys)) & (
            keys[order][np.minimum(position, len(keys) - 1)] == fb_keys
        )
        rows = order[np.minimum(position, len(keys) - 1)]
        liked[rows[found & fb_like]] = True
        disliked[rows[found & ~fb_like]] = True
        extra = ~found
        if extra.any():
            count = int(extra.sum())
            users = np.concatenate([users, feedback[extra, 0].astype(np.int64)])
            tracks = np.concatenate([tracks, feedback[extra, 1].astype(np.int64)])
            zeros = np.zeros(count, dtype=np.int64)
            completed, partial, skips = (np.concatenate([a, zeros]) for a in
                                         (completed, partial, skips))  # fmt: skip
            last = np.concatenate([last, np.full(count, int(last.max()) if len(last) else 0)])
            liked = np.concatenate([liked, fb_like[extra]])
            disliked = np.concatenate([disliked, ~fb_like[extra]])
    return Interactions(
        user_ids=users,
        track_ids=tracks,
        completed=completed,
        partial=partial,
        skips=skips,
        last_listened=last,
        liked=liked,
        disliked=disliked,
    )
