"""Writes on the catalogue. Import from here: `from catalog.services import track_import`."""

from catalog.services.analysis import (
    MAX_ATTEMPTS,
    track_analyse,
    tracks_reanalyse,
    tracks_requeue_stuck,
)
from catalog.services.bulk import tracks_create_metadata_only
from catalog.services.editing import album_save, artist_save, track_save_metadata
from catalog.services.imports import (
    DUPLICATE,
    IMPORTED,
    REJECTED,
    ImportResult,
    album_get_or_create,
    artist_get_or_create,
    track_import,
    track_metadata_only,
    upload_import,
)

__all__ = [
    "DUPLICATE",
    "IMPORTED",
    "MAX_ATTEMPTS",
    "REJECTED",
    "ImportResult",
    "album_get_or_create",
    "album_save",
    "artist_get_or_create",
    "artist_save",
    "track_analyse",
    "track_import",
    "track_metadata_only",
    "track_save_metadata",
    "tracks_create_metadata_only",
    "tracks_reanalyse",
    "tracks_requeue_stuck",
    "upload_import",
]
