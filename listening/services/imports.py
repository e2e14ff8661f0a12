"""Importing listening history from CSV (CONTRACT section 6), streamed in batches.

Two formats, told apart by the header: one row per listen (`listened_at`, optional `ms_played`,
`completed`, `skipped`) or aggregated play counts (`plays`). Memory stays flat: rows are read and
written BATCH_ROWS at a time; only the user and track lookups are kept (bounded by the catalogue,
not by the file). Idempotent: a listen is identified by (user, track, listened_at), a total by
(user, track), so importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from catalog.models import Track
from catalog.services import track_metadata_only
from catalog.text import clean_name, name_key
from listening.models import ImportBatch, ListeningEvent
from listening.services.listens import CLOCK_SKEW, EARLIEST
from listening.services.stats import Contribution, stats_add, stats_recompute

BATCH_ROWS = 5000
MAX_LISTED_REJECTIONS = 10_000
EVENTS_TABLE = ListeningEvent._meta.db_table
TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no", ""}
_UNIX_SECONDS = re.compile(r"^\d+(\.\d+)?$")
_BAD_LINE = "\x00undecodable"
# Exports repeat the same artists and titles on many rows: normalise each name once.
_key = lru_cache(maxsize=65_536)(name_key)


class ImportFormatError(Exception):
    """The file as a whole cannot be imported (no usable header)."""


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    unchanged: int = 0
    created_tracks: int = 0
    created_users: int = 0
    rejected: list[dict] = field(default_factory=list)
    rejected_total: int = 0
    format: str = ""
    batch_id: int | None = None

    def reject(self, line: int, reason: str) -> None:
        self.rejected_total += 1
        if len(self.rejected) < MAX_LISTED_REJECTIONS:
            self.rejected.append({"line": line, "reason": reason})

    def as_json(self) -> dict:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "unchanged": self.unchanged,
            "created_tracks": self.created_tracks,
            "created_users": self.created_users,
            "rejected": self.rejected,
            "rejected_total": self.rejected_total,
        }


@dataclass(frozen=True)
class _Row:
    line: int
    username: str
    artist: str
    title: str
    plays: int | None = None
    listened_at: datetime | None = None
    ms_played: int | None = None
    completed: bool = False
    skipped: bool = False


def listens_import(
    *, path: Path, create_missing: bool = False, progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Import a listening-history CSV; see the module docstring and CONTRACT section 6.

    Rows that cannot be used are reported (line number and reason) and the rest imported.
    `create_missing` creates unknown users (no usable password) and metadata-only tracks
    (`no_audio`). `progress` is called with the number of bytes read since the last call.
    Raises ImportFormatError when the header is unusable (nothing is imported then).
    """
    digest = _sha256(path)
    batch = ImportBatch.objects.create(file_name=path.name[:255], file_sha256=digest)
    report = ImportReport(batch_id=batch.pk)
    importer = _Importer(batch, report, create_missing)
    try:
        with path.open("rb") as raw:
            reader = csv.reader(_decoded_lines(raw, progress))
            columns = _read_header(reader)
            report.format = (
                ImportBatch.Format.TOTALS if "plays" in columns else ImportBatch.Format.EVENTS
            )
            pending: list[_Row] = []
            for values in reader:
                if not values or values == [""]:
                    continue
                report.rows += 1
                parsed = _parse(values, columns, reader.line_num, report)
                if parsed is not None:
                    pending.append(parsed)
                if len(pending) >= BATCH_ROWS:
                    importer.write(pending)
                    pending = []
            if pending:
                importer.write(pending)
    except Exception as exc:
        batch.status = ImportBatch.Status.FAILED
        batch.failure = f"{type(exc).__name__}: {exc}"[:2000]
        _save_counts(batch, report)
        raise
    batch.status = ImportBatch.Status.DONE
    _save_counts(batch, report)
    return report


class _Importer:
    """Resolves names to ids (with caches) and writes one batch of parsed rows at a time."""

    def __init__(self, batch: ImportBatch, report: ImportReport, create_missing: bool):
        self.batch = batch
        self.report = report
        self.create_missing = create_missing
        self.users: dict[str, int] = {}
        self.tracks: dict[tuple[str, str], int] = {}

    def write(self, rows: list[_Row]) -> None:
        self._resolve_users({row.username for row in rows})
        self._resolve_tracks({(_key(row.artist), _key(row.title)) for row in rows}, rows)
        usable = []
        for row in rows:
            user_id = self.users.get(row.username)
            track_id = self.tracks.get((_key(row.artist), _key(row.title)))
            if user_id is None:
                self.report.reject(row.line, f"no user {row.username!r} (see --create-missing)")
            elif track_id is None:
                self.report.reject(
                    row.line,
                    f"no track {row.title!r} by {row.artist!r} in the catalogue "
                    "(see --create-missing)",
                )
            else:
                usable.append((row, user_id, track_id))
        with transaction.atomic():
            if self.report.format == ImportBatch.Format.TOTALS:
                self._write_totals(usable)
            else:
                self._write_events(usable)

    def _write_events(self, usable: list[tuple[_Row, int, int]]) -> None:
        unique: dict[tuple[int, int, datetime], _Row] = {}
        for row, user_id, track_id in usable:
            key = (user_id, track_id, row.listened_at)
            if key in unique:
                self.report.unchanged += 1  # the same listen twice in the file
            unique[key] = row
        if not unique:
            return
        adapt = connection.ops.adapt_datetimefield_value
        now = timezone.now()
        keys = list(unique)
        inserted: set[tuple[int, int, datetime]] = set()
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            params: list = []
            for user_id, track_id, listened_at in chunk:
                row = unique[(user_id, track_id, listened_at)]
                params += [
                    user_id, track_id, adapt(listened_at), row.ms_played, row.completed,
                    row.skipped, 1, ListeningEvent.Source.IMPORT, False, self.batch.pk, adapt(now),
                ]  # fmt: skip
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            with connection.cursor() as cursor:
                cursor.execute(
                    f"""
                    INSERT INTO {EVENTS_TABLE} (user_id, track_id, listened_at, ms_played,
                                                completed, skipped, play_count, source, excluded,
                                                import_batch_id, created_at)
                    VALUES {values}
                    ON CONFLICT DO NOTHING
                    RETURNING user_id, track_id, listened_at
                    """,
                    params,
                )
                inserted.update(
                    (user_id, track_id, _as_datetime(when))
                    for user_id, track_id, when in cursor.fetchall()
                )
        self.report.imported += len(inserted)
        self.report.unchanged += len(unique) - len(inserted)
        stats_add(
            Contribution(
                user_id=user_id,
                track_id=track_id,
                listened_at=listened_at,
                completed=unique[(user_id, track_id, listened_at)].completed,
                skipped=unique[(user_id, track_id, listened_at)].skipped,
                play_count=1,
                ms_played=unique[(user_id, track_id, listened_at)].ms_played,
            )
            for user_id, track_id, listened_at in inserted
        )

    def _write_totals(self, usable: list[tuple[_Row, int, int]]) -> None:
        latest: dict[tuple[int, int], int] = {}
        for row, user_id, track_id in usable:
            if (user_id, track_id) in latest:
                self.report.unchanged += 1  # a later row of the same pair wins
            latest[(user_id, track_id)] = row.plays
        if not latest:
            return
        existing = {
            (e.user_id, e.track_id): e
            for e in ListeningEvent.objects.select_for_update().filter(
                source=ListeningEvent.Source.IMPORT_TOTAL,
                user_id__in={u for u, _ in latest},
                track_id__in={t for _, t in latest},
            )
        }
        now = timezone.now()
        new, changed = [], []
        for (user_id, track_id), plays in latest.items():
            event = existing.get((user_id, track_id))
            if event is None:
                new.append(
                    ListeningEvent(
                        user_id=user_id,
                        track_id=track_id,
                        listened_at=now,
                        play_count=plays,
                        completed=True,
                        source=ListeningEvent.Source.IMPORT_TOTAL,
                        import_batch=self.batch,
                    )
                )
            elif event.play_count != plays:
                event.play_count = plays
                event.import_batch = self.batch
                changed.append(event)
            else:
                self.report.unchanged += 1
        ListeningEvent.objects.bulk_create(new, batch_size=1000)
        ListeningEvent.objects.bulk_update(changed, ["play_count", "import_batch"], batch_size=1000)
        self.report.imported += len(new) + len(changed)
        stats_recompute([(e.user_id, e.track_id) for e in new + changed])

    def _resolve_users(self, names: set[str]) -> None:
        unknown = names - self.users.keys()
        if not unknown:
            return
        User = get_user_model()
        self.users.update(User.objects.filter(username__in=unknown).values_list("username", "pk"))
        missing = unknown - self.users.keys()
        if not missing or not self.create_missing:
            return
        validate = UnicodeUsernameValidator()
        for username in sorted(missing):
            try:
                validate(username)
            except ValidationError:
                continue  # its rows are rejected as unknown users
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
                self.report.created_users += 1
            self.users[username] = user.pk

    def _resolve_tracks(self, keys: set[tuple[str, str]], rows: list[_Row]) -> None:
        unknown = keys - self.tracks.keys()
        if not unknown:
            return
        found = (
            Track.objects.filter(
                artist__name_key__in={a for a, _ in unknown},
                title_key__in={t for _, t in unknown},
            )
            .order_by("id")
            .values_list("artist__name_key", "title_key", "pk")
        )
        for artist_key, title_key, pk in found:
            if (artist_key, title_key) in unknown:
                self.tracks.setdefault((artist_key, title_key), pk)
        missing = unknown - self.tracks.keys()
        if not missing or not self.create_missing:
            return
        names: dict[tuple[str, str], tuple[str, str]] = {}
        for row in rows:  # the first spelling seen names a new track
            names.setdefault((_key(row.artist), _key(row.title)), (row.artist, row.title))
        for key in sorted(missing):
            artist_name, title = names[key]
            track = track_metadata_only(title=title, artist_name=artist_name)
            self.tracks[key] = track.pk
            self.report.created_tracks += 1


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

    username, artist, title = get("user"), clean_name(get("artist")), clean_name(get("track"))
    for name, value in (("user", username), ("artist", artist), ("track", title)):
        if not value:
            report.reject(line, f"{name} is empty")
            return None
    try:
        if "plays" in columns:
            plays = get("plays")
            if not plays.isdigit():
                raise ValueError(f"plays must be a whole number >= 0, not {plays!r}")
            return _Row(line, username, artist, title, plays=int(plays))
        listened_at = _parse_time(get("listened_at"))
        completed, skipped = (
            _parse_bool(get("completed"), "completed"),
            _parse_bool(get("skipped"), "skipped"),
        )
        if completed and skipped:
            raise ValueError("completed and skipped are both true")
        ms = get("ms_played")
        if ms and not ms.isdigit():
            raise ValueError(f"ms_played must be a whole number >= 0, not {ms!r}")
        return _Row(
            line,
            username,
            artist,
            title,
            listened_at=listened_at,
            ms_played=int(ms) if ms else None,
            completed=completed,
            skipped=skipped,
        )
    except ValueError as exc:
        report.reject(line, str(exc))
        return None


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
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # a naive time is UTC
    if when > timezone.now() + CLOCK_SKEW:
        raise ValueError(f"listened_at {text!r} is in the future")
    if when < EARLIEST:
        raise ValueError(f"listened_at {text!r} is before 2000-01-01")
    return when


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


def _as_datetime(value) -> datetime:
    """RETURNING gives datetimes on PostgreSQL and text on SQLite (naive UTC)."""
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)
    parsed = parse_datetime(value)
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _save_counts(batch: ImportBatch, report: ImportReport) -> None:
    batch.format = report.format
    batch.rows = report.rows
    batch.imported = report.imported
    batch.unchanged = report.unchanged
    batch.rejected_count = report.rejected_total
    batch.created_tracks = report.created_tracks
    batch.created_users = report.created_users
    batch.errors = report.rejected[:100]
    batch.finished_at = timezone.now()
    batch.save()
