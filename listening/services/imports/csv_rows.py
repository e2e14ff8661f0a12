"""Our own CSV (docs/listening.md): a header row naming the columns, then one row per listen
(`listened_at`, optional `ms_played`, `completed`, `skipped`) or per aggregated count (`plays`)."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from django.utils import timezone

from listening.services.imports.report import ImportFormatError, ImportReport
from listening.services.imports.rows import ImportRow, clean
from listening.services.validation import listen_problems

TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no", ""}
_UNIX_SECONDS = re.compile(r"^\d+(\.\d+)?$")
_BAD_LINE = "\x00undecodable"


class CsvRows:
    """Iterates the rows of one file: `is_totals` once the header is read, then ImportRow for
    each usable row (the others are rejected into the report)."""

    def __init__(self, raw, report: ImportReport, progress: Callable[[int], None] | None):
        self.reader = csv.reader(_decoded_lines(raw, progress))
        self.report = report
        self.columns = _read_header(self.reader)
        self.is_totals = "plays" in self.columns

    def __iter__(self) -> Iterator[ImportRow]:
        for values in self.reader:
            if not values or values == [""]:
                continue
            self.report.rows += 1
            parsed = _parse(values, self.columns, self.reader.line_num, self.report)
            if parsed is not None:
                yield parsed


def _read_header(reader) -> dict[str, int]:
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFormatError("the file is empty: a header row is needed") from None
    columns = {name.strip().lower(): i for i, name in enumerate(header)}
    missing = [c for c in ("user", "artist", "track") if c not in columns]
    if missing:
        raise ImportFormatError(f"the header lacks {', '.join(missing)} (it has: {header})")
    has_plays, has_times = "plays" in columns, "listened_at" in columns
    if has_plays == has_times:
        raise ImportFormatError(
            "the header needs either a `plays` column (aggregated counts) or a `listened_at` "
            "column (one row per listen), not both or neither"
        )
    return columns


def _parse(values: list[str], columns: dict[str, int], line: int, report: ImportReport):
    if values == [_BAD_LINE]:
        report.reject(line, "not valid UTF-8")
        return None
    if len(values) != len(columns):
        report.reject(line, f"expected {len(columns)} columns, found {len(values)}")
        return None

    def get(name: str) -> str:
        index = columns.get(name)
        return values[index].strip() if index is not None else ""

    username, artist, title = get("user"), clean(get("artist")), clean(get("track"))
    for name, value in (("user", username), ("artist", artist), ("track", title)):
        if not value:
            report.reject(line, f"{name} is empty")
            return None
    try:
        if "plays" in columns:
            plays = get("plays")
            if not plays.isdigit():
                raise ValueError(f"plays must be a whole number >= 0, not {plays!r}")
            return ImportRow(line, username, artist, title, plays=int(plays))
        return _listen(line, username, artist, title, get)
    except ValueError as exc:
        report.reject(line, str(exc))
        return None


def _listen(line: int, username: str, artist: str, title: str, get) -> ImportRow:
    text = get("listened_at")
    listened_at = _parse_time(text)
    completed = _parse_bool(get("completed"), "completed")
    skipped = _parse_bool(get("skipped"), "skipped")
    ms = get("ms_played")
    if ms and not ms.isdigit():
        raise ValueError(f"ms_played must be a whole number >= 0, not {ms!r}")
    ms_played = int(ms) if ms else None
    problems = listen_problems(
        listened_at=listened_at,
        ms_played=ms_played,
        completed=completed,
        skipped=skipped,
        now=timezone.now(),
    )
    if "listened_at" in problems:
        raise ValueError(f"listened_at {text!r} {problems['listened_at']}")
    if "ms_played" in problems:
        raise ValueError(f"ms_played {ms!r} {problems['ms_played']}")
    if problems:
        raise ValueError(problems["skipped"])
    return ImportRow(
        line,
        username,
        artist,
        title,
        listened_at=listened_at,
        ms_played=ms_played,
        completed=completed,
        skipped=skipped,
    )


def _parse_time(text: str) -> datetime:
    if not text:
        raise ValueError("listened_at is empty")
    try:
        if _UNIX_SECONDS.match(text):
            when = datetime.fromtimestamp(float(text), UTC)
        else:
            when = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"listened_at {text!r} is neither ISO 8601 nor Unix seconds") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)  # naive: UTC


def _parse_bool(text: str, name: str) -> bool:
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{name} must be true/false, 1/0 or yes/no, not {text!r}")


def _decoded_lines(raw, progress: Callable[[int], None] | None) -> Iterator[str]:
    """Lines of a UTF-8 file (a BOM is dropped); an undecodable line becomes a marker the parser
    rejects, so one bad byte costs one row, not the import."""
    first = True
    for line in raw:
        if progress is not None:
            progress(len(line))
        if first:
            line = line.removeprefix(b"\xef\xbb\xbf")
            first = False
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError:
            yield _BAD_LINE + "\n"
