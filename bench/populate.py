"""Fill a benchmark database with a catalogue, listeners and listening events, fast (COPY).

    python bench/populate.py catalogue --users 10000 --tracks 100000 [--no-descriptions]
    python bench/populate.py descriptions
    python bench/populate.py events --events 1000000 --active-tracks 50000 [--seed 1]
    python bench/populate.py tokens --count 16
    python bench/populate.py sessions --count 16

Run by bench/run.py in a child process whose DATABASE_URL is the throwaway database. Events
follow a Zipf-like popularity over the `active` tracks and a lognormal activity per listener,
so a million events make roughly 470,000 distinct (listener, track) pairs, as in the issue.
Tracks get a sound description (the 91 numbers "similar sounding" compares, as `analyse`
stores them) unless --no-descriptions; `descriptions` gives one to every track that has none
(a catalogue populated before they existed). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")

import django

django.setup()

from django.db import connection  # noqa: E402

from accounts.models import User  # noqa: E402
from catalog.audio.description import DESCRIPTION_LENGTH  # noqa: E402
from catalog.models import Artist, AudioFeatures, Track  # noqa: E402
from listening.models import ListeningEvent  # noqa: E402
from listening.services import stats_rebuild  # noqa: E402

TRACKS_PER_ARTIST = 20
POPULARITY_EXPONENT = 1.05
POPULARITY_OFFSET = 30.0
TASTE_GROUPS = 7
CHUNK = 1_000_000
REPLAY = 0.52  # about 470,000 distinct pairs for 1,000,000 events by 10,000 listeners
# A description is a mix of a few "styles" (fixed directions) plus noise: correlated columns, as
# measured ones are, rather than 91 independent numbers (which no real catalogue has).
DESCRIPTION_STYLES = 8
DESCRIPTION_BLOCK = 50_000


def copy_rows(table: str, columns: list[str], rows) -> int:
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def description_rows(count: int, seed: int):
    """`count` descriptions as AudioFeatures stores them (little-endian float32 bytes), made a
    block at a time from their own generator (the other features stay as they were without)."""
    rng = np.random.default_rng(seed + 7919)
    styles = np.random.default_rng(7).normal(size=(DESCRIPTION_STYLES, DESCRIPTION_LENGTH))
    for start in range(0, count, DESCRIPTION_BLOCK):
        size = min(DESCRIPTION_BLOCK, count - start)
        mix = rng.normal(size=(size, DESCRIPTION_STYLES)) @ styles
        block = (mix + rng.normal(0, 0.5, (size, DESCRIPTION_LENGTH))).astype("<f4")
        yield from (row.tobytes() for row in block)


def catalogue(users: int, tracks: int, seed: int, described: bool = True) -> dict:
    """`tracks` more tracks (and their artists and features) and `users` more listeners: a second
    call grows the catalogue (bench/large.py: 100,000 tracks, then a million)."""
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    start = Track.objects.count()
    artists = max(1, tracks // TRACKS_PER_ARTIST)
    last_artist = Artist.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    last_track = Track.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    first_artist = start // TRACKS_PER_ARTIST
    copy_rows(
        Artist._meta.db_table,
        ["name", "name_key", "created_at"],
        ((f"Bench Artist {i}", f"bench artist {i}", now)
         for i in range(first_artist, first_artist + artists)),
    )  # fmt: skip
    artist_ids = np.array(Artist.objects.filter(pk__gt=last_artist).order_by("pk")
                          .values_list("pk", flat=True))  # fmt: skip
    copy_rows(
        Track._meta.db_table,
        ["title", "title_key", "artist_id", "duration_s", "audio", "audio_format", "mime_type",
         "original_filename", "status", "attempts", "error_code", "error_detail",
         "status_changed_at", "created_at", "updated_at"],
        ((f"Bench Track {start + i}", f"bench track {start + i}", int(artist_ids[i % artists]),
          200.0, "", "", "", "", "done", 1, "", "", now,
          now - timedelta(seconds=tracks - i), now)
         for i in range(tracks)),
    )  # fmt: skip
    track_ids = np.array(Track.objects.filter(pk__gt=last_track).order_by("pk")
                         .values_list("pk", flat=True))  # fmt: skip
    mfcc = rng.normal([-250, 90, -10, 30, -5], [60, 30, 20, 15, 10], size=(tracks, 5))
    moods = rng.random((tracks, 4)) < [0.35, 0.3, 0.3, 0.3]
    described_as = description_rows(tracks, seed) if described else iter(lambda: None, 0)
    copy_rows(
        AudioFeatures._meta.db_table,
        ["track_id", "extractor_version", *AudioFeatures.VECTOR_FIELDS, "key", "mode",
         "arousal", "valence", "description", "computed_at", "updated_at"],
        ((int(track_ids[i]), "bench", *map(float, mfcc[i]), float(rng.uniform(60, 200)),
          float(rng.uniform(0, 1)), float(rng.uniform(0, 1)), float(rng.uniform(-40, -5)),
          float(rng.uniform(500, 5000)), float(rng.uniform(0, 1)), float(rng.uniform(0, 0.6)),
          *map(bool, moods[i]), int(rng.integers(0, 12)), "major" if rng.random() < 0.6
          else "minor", float(rng.uniform(0, 1)), float(rng.uniform(-1, 1)),
          next(described_as), now, now)
         for i in range(tracks)),
    )  # fmt: skip
    first_user = User.objects.filter(username__startswith="bench").count()
    copy_rows(
        User._meta.db_table,
        ["password", "is_superuser", "username", "first_name", "last_name", "email", "is_staff",
         "is_active", "date_joined"],
        (("!", False, f"bench{i}", "", "", "", False, True, now)
         for i in range(first_user, first_user + users)),
    )  # fmt: skip
    return {"users": users, "tracks": tracks, "artists": artists, "descriptions": described}


def descriptions(seed: int) -> dict:
    """A description for every track that has none: COPY into a temporary table, one UPDATE."""
    table = AudioFeatures._meta.db_table
    track_ids = np.array(AudioFeatures.objects.filter(description__isnull=True).order_by("pk")
                         .values_list("pk", flat=True))  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_descriptions (track_id bigint, description bytea)")
    rows = zip(track_ids.tolist(), description_rows(len(track_ids), seed), strict=True)
    copy_rows("bench_descriptions", ["track_id", "description"], rows)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} f SET description = d.description, updated_at = now()"
            " FROM bench_descriptions d WHERE f.track_id = d.track_id"
        )
        cursor.execute("DROP TABLE bench_descriptions")
    return {"described": len(track_ids)}


def events(count: int, active_tracks: int, seed: int) -> dict:
    """Listening events: each play is a fresh draw from the (taste-shifted) popularity curve or,
    with probability REPLAY, a replay of one of the listener's earlier plays."""
    rng = np.random.default_rng(seed)
    user_ids = np.array(User.objects.filter(username__startswith="bench").order_by("pk")
                        .values_list("pk", flat=True))  # fmt: skip
    track_ids = np.array(Track.objects.order_by("pk").values_list("pk", flat=True))[:active_tracks]
    activity = rng.lognormal(0, 1.0, len(user_ids))
    per_user = rng.multinomial(count, activity / activity.sum())
    weights = 1.0 / (rng.permutation(len(track_ids)) + POPULARITY_OFFSET) ** POPULARITY_EXPONENT
    weights /= weights.sum()
    cdf = weights.cumsum()  # rng.choice(p=weights) draws exactly this way, without redoing the
    cdf /= cdf[-1]  # cumulative sum per listener (a million tracks x 100,000 listeners)
    shift = len(track_ids) // TASTE_GROUPS
    users, tracks = [], []
    for index, plays in enumerate(per_user):
        if plays == 0:
            continue
        drawn = cdf.searchsorted(rng.random(plays), side="right")
        chosen = (drawn + (index % TASTE_GROUPS) * shift) % len(track_ids)
        replay = rng.random(plays) < REPLAY
        replay[0] = False
        earlier = (rng.random(plays) * np.arange(plays)).astype(np.int64)
        for i in np.flatnonzero(replay):
            chosen[i] = chosen[earlier[i]]
        users.append(np.full(plays, user_ids[index]))
        tracks.append(track_ids[chosen])
    users, tracks = np.concatenate(users), np.concatenate(tracks)
    seconds_ago = rng.uniform(0, 90 * 86400, count).round(3)
    outcome = rng.random(count)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_events (user_id bigint, track_id bigint, seconds_ago float8,"
            " ms_played int, completed bool, skipped bool)"
        )
    for part in range(0, count, CHUNK):  # a chunk at a time: ten million rows as lists is GBs
        window = slice(part, part + CHUNK)
        share = outcome[window]
        copy_rows(
            "bench_events",
            ["user_id", "track_id", "seconds_ago", "ms_played", "completed", "skipped"],
            zip(users[window].tolist(), tracks[window].tolist(), seconds_ago[window].tolist(),
                (200_000 * np.minimum(1.0, share + 0.1)).astype(int).tolist(),
                (share < 0.8).tolist(), (share >= 0.9).tolist(), strict=True),
        )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ListeningEvent._meta.db_table} (user_id, track_id, listened_at,"
            " ms_played, completed, skipped, play_count, source, excluded, created_at)"
            " SELECT user_id, track_id, now() - make_interval(secs => seconds_ago), ms_played,"
            " completed, skipped, 1, 'api', false, now() FROM bench_events"
        )
        cursor.execute("DROP TABLE bench_events")
    copied = time.perf_counter() - started
    started = time.perf_counter()
    pairs = stats_rebuild()
    return {
        "events": ListeningEvent.objects.count(),
        "pairs": pairs,
        "copy_seconds": round(copied, 2),
        "aggregate_seconds": round(time.perf_counter() - started, 2),
    }


def tokens(count: int) -> dict:
    from rest_framework.authtoken.models import Token

    users = User.objects.filter(username__startswith="bench").order_by("pk")[:count]
    return {"tokens": [Token.objects.get_or_create(user=u)[0].key for u in users]}


def sessions(count: int) -> dict:
    """Signed-in browser sessions for the first `count` bench listeners (for page timings)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    engine = import_module(settings.SESSION_ENGINE)
    keys = []
    for user in User.objects.filter(username__startswith="bench").order_by("pk")[:count]:
        session = engine.SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    return {"sessions": keys}


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    c = sub.add_parser("catalogue")
    c.add_argument("--users", type=int, required=True)
    c.add_argument("--tracks", type=int, required=True)
    c.add_argument("--seed", type=int, default=1)
    c.add_argument(
        "--no-descriptions",
        action="store_true",
        help="tracks without a sound description (compared by the 16 numbers)",
    )
    d = sub.add_parser("descriptions")
    d.add_argument("--seed", type=int, default=1)
    e = sub.add_parser("events")
    e.add_argument("--events", type=int, required=True)
    e.add_argument("--active-tracks", type=int, required=True)
    e.add_argument("--seed", type=int, default=1)
    t = sub.add_parser("tokens")
    t.add_argument("--count", type=int, default=16)
    s = sub.add_parser("sessions")
    s.add_argument("--count", type=int, default=16)
    args = parser.parse_args()
    started = time.perf_counter()
    if args.what == "catalogue":
        result = catalogue(args.users, args.tracks, args.seed, not args.no_descriptions)
    elif args.what == "descriptions":
        result = descriptions(args.seed)
    elif args.what == "events":
        result = events(args.events, args.active_tracks, args.seed)
    elif args.what == "sessions":
        result = sessions(args.count)
    else:
        result = tokens(args.count)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would after a bulk load: planner statistics
    result["seconds"] = round(time.perf_counter() - started, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
