"""Metadata edits that keep the matching keys in step with the names people see."""

from catalog.models import Album, Artist, Track
from catalog.text import clean_name, name_key


def track_save_metadata(*, track: Track) -> Track:
    """Save a track whose title, artist or album was edited (admin), refreshing its title key."""
    track.title = clean_name(track.title) or track.title
    track.title_key = name_key(track.title)
    track.save()
    return track


def artist_save(*, artist: Artist) -> Artist:
    """Save an edited artist, refreshing its name key (unique: check it before calling)."""
    artist.name = clean_name(artist.name) or artist.name
    artist.name_key = name_key(artist.name)
    artist.save()
    return artist


def album_save(*, album: Album) -> Album:
    album.title = clean_name(album.title) or album.title
    album.title_key = name_key(album.title)
    album.save()
    return album
