"""A ListenBrainz export (docs/listening.md): listens as JSON lines or a JSON array, each with
`listened_at` (Unix seconds) and `track_metadata` (`artist_name`, `track_name`, `release_name`,
`additional_info.duration_ms`). A listen is a play: neither completed nor skipped (ListenBrainz
takes a listen after half the track or four minutes, and does not say which)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from listening.services.imports.jsonstream import json_items
from listening.services.imports.source import Source


class ListenBrainzJson(Source):
    format = "listenbrainz"

    def records(self) -> Iterator:
        for line, item in enumerate(json_items(self.raw, self.progress), start=1):
            yield line, listen_fields(item)


def listen_fields(item) -> dict | str:
    if not isinstance(item, dict) or not isinstance(item.get("track_metadata"), dict):
        return "not a listen: no track_metadata object"
    metadata = item["track_metadata"]
    seconds = item.get("listened_at")
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        return f"listened_at must be Unix seconds, not {str(seconds)[:40]!r}"
    try:
        when = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return f"listened_at {seconds} is out of range"
    artist, title = metadata.get("artist_name"), metadata.get("track_name")
    return {
        "artist": artist if isinstance(artist, str) else "",
        "title": title if isinstance(title, str) else "",
        "listened_at": when,
    }
