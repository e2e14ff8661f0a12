"""Which format a history file is in, told from its content (never its name), and its reader."""

from __future__ import annotations

import contextlib
import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from listening.services.imports.csv_rows import OurCsv
from listening.services.imports.jsonstream import json_items
from listening.services.imports.lastfm import LastfmCsv, looks_headerless
from listening.services.imports.listenbrainz import ListenBrainzJson
from listening.services.imports.report import ImportFormatError, ImportReport
from listening.services.imports.source import Progress, Source
from listening.services.imports.spotify import SpotifyJson

FORMATS = ("csv", "spotify", "listenbrainz", "lastfm")
SAMPLE_BYTES = 1 << 16
# A zip member larger than this is refused unread (a zip bomb, not a listening history).
MAX_MEMBER_BYTES = 1 << 30
_READERS = {"csv": OurCsv, "lastfm": LastfmCsv, "spotify": SpotifyJson,
            "listenbrainz": ListenBrainzJson}  # fmt: skip


def format_detect(*, path: Path) -> str:
    """One of FORMATS, or ImportFormatError saying why the file is none of them."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if sample.startswith(b"PK\x03\x04"):
        _spotify_members(path)  # raises unless the zip holds streaming history
        return "spotify"
    text = sample.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not text:
        raise ImportFormatError("the file is empty")
    if text[:1] in (b"[", b"{"):
        return _json_format(sample)
    return _csv_format(sample)


@contextlib.contextmanager
def source_open(
    *, path: Path, file_format: str, report: ImportReport, progress: Progress, user: str | None
) -> Iterator[Source]:
    """The reader of the file in `file_format` ("auto" detects it). A JSON file is read through
    once first, so an unreadable one stores nothing."""
    if file_format == "auto":
        file_format = format_detect(path=path)
    if file_format not in FORMATS:
        raise ImportFormatError(f"unknown format {file_format!r}: one of {', '.join(FORMATS)}")
    with path.open("rb") as raw:
        is_zip = raw.read(4) == b"PK\x03\x04"
        raw.seek(0)
        if is_zip and file_format == "spotify":
            yield _ZipSource(path, report, progress, user)
            return
        if file_format in ("spotify", "listenbrainz"):
            for _ in json_items(raw):
                pass
            raw.seek(0)
        yield _READERS[file_format](raw, report, progress, user)


class _ZipSource(SpotifyJson):
    """The streaming-history members of Spotify's zip, one after the other."""

    def __init__(self, path: Path, report, progress, user):
        self.members = _spotify_members(path)
        self.path = path
        super().__init__(None, report, progress, user)
        with zipfile.ZipFile(path) as archive:
            for member in self.members:
                with archive.open(member) as raw:
                    for _ in json_items(raw):
                        pass

    def records(self) -> Iterator:
        line = 0
        with zipfile.ZipFile(self.path) as archive:
            for member in self.members:
                with archive.open(member) as raw:
                    self.raw = raw
                    for _, fields in super().records():
                        line += 1
                        yield line, fields


def _spotify_members(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFormatError(f"the zip cannot be read ({exc})") from None
    members = []
    for info in infos:
        name = PurePosixPath(info.filename).name
        if not name.endswith(".json") or "podcast" in name.lower() or "video" in name.lower():
            continue
        if name.startswith(("Streaming_History_Audio", "StreamingHistory")):
            if info.file_size > MAX_MEMBER_BYTES:
                raise ImportFormatError(f"{name} in the zip is too large to be a history file")
            members.append(info.filename)
    if not members:
        raise ImportFormatError(
            "the zip holds no Spotify streaming history (Streaming_History_Audio_*.json or "
            "StreamingHistory*.json)"
        )
    return sorted(members)


def _json_format(sample: bytes) -> str:
    try:
        first = next(json_items(io.BytesIO(sample)), None)
    except ImportFormatError:
        first = None  # the sample may end inside an entry: look at its first keys instead
        head = sample[:4096].decode("utf-8", "replace")
        keys = {k for k in ("ts", "endTime", "listened_at", "track_metadata") if f'"{k}"' in head}
        first = dict.fromkeys(keys)
    if isinstance(first, dict):
        if "ts" in first or "endTime" in first:
            return "spotify"
        if "listened_at" in first or "track_metadata" in first:
            return "listenbrainz"
    raise ImportFormatError(
        "this JSON is neither a Spotify streaming history nor a ListenBrainz export"
    )


def _csv_format(sample: bytes) -> str:
    first_line = sample.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    try:
        values = next(csv.reader([first_line.decode("utf-8").rstrip("\r")]), [])
    except (UnicodeDecodeError, csv.Error):
        raise ImportFormatError("not a text file in UTF-8: no history format we read") from None
    columns = {v.strip().lower() for v in values}
    if {"artist", "track"} <= columns and ({"plays", "listened_at"} & columns):
        return "csv"
    if values and values[0].strip().lower() == "uts":
        return "lastfm"
    if looks_headerless(values):
        return "lastfm"
    raise ImportFormatError(
        "not a listening history we read: our CSV (user,artist,track,plays|listened_at), a "
        "Spotify or ListenBrainz export, or a Last.fm CSV (docs/listening.md)"
    )
