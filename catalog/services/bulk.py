"""Creating many metadata-only tracks at once (imported listening histories name thousands)."""

from __future__ import annotations

from django.db import transaction

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
        tracks = Track.objects.bulk_create(
            [
                Track(
                    title=title,
                    title_key=title_key,
                    artist_id=artists[artist_key],
                    status=Track.Status.NO_AUDIO,
                )
                for (artist_key, title_key), (_, title) in wanted.items()
            ],
            batch_size=1000,
        )
    return {key: track.pk for key, track in zip(wanted, tracks, strict=True)}


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
