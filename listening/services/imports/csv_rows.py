"""Our own CSV (docs/listening.md): a header naming the columns `user`, `artist`, `track` and
either `plays` (aggregated counts) or `listened_at` (one row per listen, optional `ms_played`,
`completed`, `skipped`); optional `feedback` (`like`, `dislike`) on either kind. With --user the
`user` column may be left out (and is ignored when present)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import UTC, datetime

from listening.services.imports.report import ImportFormatError
from listening.services.imports.rows import FEEDBACK_KINDS, whole_number
from listening.services.imports.source import Source

TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no", ""}
_UNIX_SECONDS = re.compile(r"^\d+(\.\d+)?$")
BAD_LINE = "\x00undecodable"
# Far above any real field, so that a 200,000-character one is one rejected row, not a csv.Error
# that ends the file; row_build rejects names over 255 characters.
csv.field_size_limit(1 << 24)


class OurCsv(Source):
    format = "csv"
    names_users = True

    def __init__(self, raw, report, progress, user):
        super().__init__(raw, report, progress, user)
        self.reader = csv_reader(raw, progress)
        self.columns = _read_header(self.reader, needs_user=user is None)
        self.is_totals = "plays" in self.columns

    def records(self) -> Iterator:
        for line, values in csv_records(self.reader):
            yield line, values if isinstance(values, str) else self._fields(values)

    def _fields(self, values: list[str]) -> dict | str:
        if len(values) != len(self.columns):
            return f"expected {len(self.columns)} columns, found {len(values)}"

        def get(name: str) -> str:
            index = self.columns.get(name)
            return values[index].strip() if index is not None else ""

        try:
            fields = {"username": get("user"), "artist": get("artist"), "title": get("track")}
            feedback = get("feedback").lower()
            if feedback and feedback not in FEEDBACK_KINDS:
                raise ValueError(f"feedback must be like or dislike, not {feedback[:40]!r}")
            fields["feedback"] = feedback or None
            if self.is_totals:
                return {**fields, "plays": whole_number(get("plays"), "plays")}
            ms = get("ms_played")
            completed = parse_bool(get("completed"), "completed")
            skipped = parse_bool(get("skipped"), "skipped")
            return {**fields, "listened_at": parse_time(get("listened_at")),
                    "ms_played": whole_number(ms, "ms_played") if ms else None,
                    "completed": completed, "skipped": skipped}  # fmt: skip
        except ValueError as exc:
            return str(exc)


def csv_reader(raw, progress):
    return csv.reader(_decoded_lines(raw, progress))


def csv_records(reader) -> Iterator[tuple[int, list[str] | str]]:
    """(line, values) for each non-empty row; values is a reason string for a row that cannot
    be read (undecodable, broken quoting)."""
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, f"unreadable CSV row ({exc})"
            continue
        if not values or values == [""]:
            continue
        yield reader.line_num, "not valid UTF-8" if values == [BAD_LINE] else values


def _read_header(reader, *, needs_user: bool) -> dict[str, int]:
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFormatError("the file is empty: a header row is needed") from None
    except csv.Error as exc:
        raise ImportFormatError(f"the header row cannot be read ({exc})") from None
    columns = {name.strip().lower(): i for i, name in enumerate(header)}
    wanted = ("user", "artist", "track") if needs_user else ("artist", "track")
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise ImportFormatError(f"the header lacks {', '.join(missing)} (it has: {header[:12]})")
    has_plays, has_times = "plays" in columns, "listened_at" in columns
    if has_plays == has_times:
        raise ImportFormatError(
            "the header needs either a `plays` column (aggregated counts) or a `listened_at` "
            "column (one row per listen), not both or neither"
        )
    return columns


def parse_time(text: str) -> datetime:
    """ISO 8601 (a naive time is UTC) or Unix seconds."""
    if not text:
        raise ValueError("listened_at is empty")
    try:
        if _UNIX_SECONDS.match(text):
            when = datetime.fromtimestamp(float(text), UTC)
        else:
            when = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        raise ValueError(
            f"listened_at {text[:60]!r} is neither ISO 8601 nor Unix seconds"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def parse_bool(text: str, name: str) -> bool:
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{name} must be true/false, 1/0 or yes/no, not {text[:40]!r}")


def _decoded_lines(raw, progress) -> Iterator[str]:
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
            yield BAD_LINE + "\n"
