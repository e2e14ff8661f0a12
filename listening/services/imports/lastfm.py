"""Last.fm scrobbles as the common export tools write them (docs/listening.md): with a header
`uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid`, or without one as
`artist,album,track,date` (`31 Jan 2024 18:22`, UTC). A scrobble is a play: neither completed
nor skipped (Last.fm does not say)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from listening.services.imports.csv_rows import csv_reader, csv_records
from listening.services.imports.rows import whole_number
from listening.services.imports.source import Source

HEADER = ("uts", "utc_time", "artist", "artist_mbid", "album", "album_mbid", "track", "track_mbid")
DATE_FORMAT = "%d %b %Y %H:%M"


def looks_headerless(values: list[str]) -> bool:
    """Four columns, the last a Last.fm date: a headerless export's row."""
    if len(values) != 4:
        return False
    try:
        parse_date(values[3])
    except ValueError:
        return False
    return True


def parse_date(text: str) -> datetime:
    try:
        return datetime.strptime(text.strip(), DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"date {text[:40]!r} is not like '31 Jan 2024 18:22'") from None


class LastfmCsv(Source):
    format = "lastfm"

    def records(self) -> Iterator:
        reader = csv_reader(self.raw, self.progress)
        columns: dict[str, int] | None = None
        for line, values in csv_records(reader):
            if isinstance(values, str):
                yield line, values
                continue
            if line == 1 and [v.strip().lower() for v in values[:1]] == ["uts"]:
                columns = {name.strip().lower(): i for i, name in enumerate(values)}
                continue
            yield line, self._fields(values, columns)

    def _fields(self, values: list[str], columns: dict[str, int] | None) -> dict | str:
        try:
            if columns is None:
                if len(values) != 4:
                    return f"expected 4 columns (artist,album,track,date), found {len(values)}"
                artist, _album, title, date = values
                listened_at = parse_date(date)
            else:
                if len(values) != len(columns):
                    return f"expected {len(columns)} columns, found {len(values)}"
                artist, title = values[columns["artist"]], values[columns["track"]]
                seconds = whole_number(values[columns["uts"]], "uts")
                listened_at = datetime.fromtimestamp(seconds, UTC)
        except (ValueError, KeyError, OverflowError, OSError) as exc:
            return str(exc) if isinstance(exc, ValueError) else "the header lacks uts/artist/track"
        return {"artist": artist, "title": title, "listened_at": listened_at}
