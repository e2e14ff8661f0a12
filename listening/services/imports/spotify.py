"""Spotify's exports (docs/listening.md): the Extended streaming history
(`Streaming_History_Audio_*.json`: `ts`, `ms_played`, `master_metadata_track_name`,
`master_metadata_album_artist_name`, `reason_end`, `skipped`, ...) and the account-data form
(`StreamingHistory*.json`: `endTime`, `artistName`, `trackName`, `msPlayed`), as JSON files or
the zip Spotify sends. Only names, times and outcomes are read: IP addresses, user agents and the
like are never stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from listening.services.imports.jsonstream import json_items
from listening.services.imports.source import Source

SKIP_UNDER_MS = 30_000  # moving on within 30 seconds is a skip, as in our player


class SpotifyJson(Source):
    format = "spotify"

    def records(self) -> Iterator:
        for line, item in enumerate(json_items(self.raw, self.progress), start=1):
            yield line, entry_fields(item)


def entry_fields(item) -> dict | str | None:
    """One entry as row fields; None for a podcast or audiobook entry (no track name)."""
    if not isinstance(item, dict):
        return "not a JSON object"
    if "ts" in item:
        return _extended(item)
    if "endTime" in item:
        return _plain(item)
    return "neither an Extended (ts) nor an account-data (endTime) streaming history entry"


def _extended(item: dict) -> dict | str | None:
    title = item.get("master_metadata_track_name")
    if not title:
        return None  # podcast episode, audiobook chapter or an unnamed stream
    ms = _milliseconds(item.get("ms_played"))
    if isinstance(ms, str):
        return ms
    reason_end = item.get("reason_end")
    completed = reason_end == "trackdone"
    skipped = not completed and (
        item.get("skipped") is True or (reason_end == "fwdbtn" and (ms or 0) < SKIP_UNDER_MS)
    )
    try:
        when = datetime.fromisoformat(str(item["ts"]))
    except ValueError:
        return f"ts {str(item['ts'])[:40]!r} is not an ISO 8601 time"
    return {
        "artist": _text(item.get("master_metadata_album_artist_name")),
        "title": _text(title),
        "listened_at": when if when.tzinfo else when.replace(tzinfo=UTC),
        "ms_played": ms,
        "completed": completed,
        "skipped": skipped,
    }


def _plain(item: dict) -> dict | str:
    ms = _milliseconds(item.get("msPlayed"))
    if isinstance(ms, str):
        return ms
    try:
        when = datetime.strptime(str(item["endTime"]), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    except ValueError:
        return f"endTime {str(item['endTime'])[:40]!r} is not like '2024-01-31 18:22'"
    return {
        "artist": _text(item.get("artistName")),
        "title": _text(item.get("trackName")),
        "listened_at": when,
        "ms_played": ms,
        "skipped": ms is not None and ms < SKIP_UNDER_MS,
    }


def _milliseconds(value) -> int | str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return f"ms_played must be a whole number >= 0, not {str(value)[:40]!r}"
    return value


def _text(value) -> str:
    return value if isinstance(value, str) else ""
