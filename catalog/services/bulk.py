"""Creating many metadata-only tracks at once (imported listening histories name thousands)."""

from __future__ import annotations

from django.db import connection, transaction

from catalog.models import Artist, Track
from catalog.services.imports import UNKNOWN_ARTIST, UNTITLED
from catalog.text import clean_name, name_key
from core.postgresql.lookups import exact_key_lookups


def tracks_create_metadata_only(*, names: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """A `no_audio` track for each (artist name, title) pair, in sets: artists are matched by
    name key (created when missing), one track is created per distinct (artist key, title key).
    Returns the new tracks' ids by (artist key, title key). The caller makes sure none of the
    pairs exists yet (the listening import holds its lock); names are cleaned as
    `track_metadata_only` cleans them."""
    wanted: dict[tuple[str, str], tuple[str, str]] = {}
    for artist_name, title in names:
        artist_name = clean_name(artist_name) or UNKNOWN_ARTIST
        title = clean_name(title) or UNTITLED
        wanted.setdefault((name_key(artist_name), name_key(title)), (artist_name, title))
    if not wanted:
        return {}
    with transaction.atomic(), exact_key_lookups():
        artists = _artists_get_or_create(
            {artist_key: artist for (artist_key, _), (artist, _) in wanted.items()}
        )
        ids = _tracks_insert(
            [
                Track(
                    title=title,
                    title_key=title_key,
                    artist_id=artists[artist_key],
                    status=Track.Status.NO_AUDIO,
                )
                for (artist_key, title_key), (_, title) in wanted.items()
            ]
        )
    return dict(zip(wanted, ids, strict=True))


# The fields in which new metadata-only tracks differ; every other column is the same for all.
_VARYING = ("title", "title_key", "artist")
_INSERT_ROWS = 10_000


def _tracks_insert(tracks: list[Track]) -> list[int]:
    """Insert `tracks` (alike but for _VARYING) and return their ids in order. On PostgreSQL one
    INSERT ... SELECT FROM unnest(arrays) per 10,000 tracks, with the shared columns computed
    once by their Django fields: bulk_create builds and psycopg parses one placeholder per value
    (20 columns), which was the largest part of an import's CPU when it creates thousands of
    tracks (docs/performance.md)."""
    if connection.vendor != "postgresql":
        return [track.pk for track in Track.objects.bulk_create(tracks, batch_size=1000)]
    fields = [f for f in Track._meta.concrete_fields if not f.primary_key]
    shared = [f for f in fields if f.name not in _VARYING]
    varying = [f for f in fields if f.name in _VARYING]
    first = tracks[0]
    constants = [f.get_db_prep_save(f.pre_save(first, add=True), connection) for f in shared]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in shared + varying)
    select = ", ".join(f"%s::{f.db_type(connection)}" for f in shared)
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in varying)
    names = ", ".join(f"v{i}" for i in range(len(varying)))
    sql = (
        f"INSERT INTO {Track._meta.db_table} ({columns}) SELECT {select}, {names}"
        f" FROM unnest({arrays}) AS u({names}) RETURNING id, artist_id, title_key"
    )
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(tracks), _INSERT_ROWS):
            chunk = tracks[start : start + _INSERT_ROWS]
            columns_of = [
                [f.get_db_prep_save(getattr(t, f.attname), connection) for t in chunk]
                for f in varying
            ]
            cursor.execute(sql, [*constants, *columns_of])
            # (artist, title key) is unique among new tracks: map back without trusting order
            by_key = {(artist_id, key): pk for pk, artist_id, key in cursor.fetchall()}
            ids += [by_key[(t.artist_id, t.title_key)] for t in chunk]
    return ids


def _artists_get_or_create(names: dict[str, str]) -> dict[str, int]:
    keys = list(names)
    by_key = Artist.objects.order_by().values_list("name_key", "pk")
    found = dict(by_key.filter(name_key__in=keys))
    missing = [key for key in keys if key not in found]
    if missing:
        Artist.objects.bulk_create(
            [Artist(name=names[key], name_key=key) for key in missing],
            batch_size=1000,
            ignore_conflicts=True,  # a concurrent upload may create the same artist
        )
        found.update(by_key.filter(name_key__in=missing))
    return found
