"""Importing listening history from CSV (CONTRACT section 6), streamed in batches.

Two formats, told apart by the header: one row per listen (`listened_at`, optional `ms_played`,
`completed`, `skipped`) or aggregated play counts (`plays`). Memory stays flat: rows are read and
written BATCH_ROWS at a time; only the user and track lookups are kept (bounded by the catalogue,
not by the file). Idempotent: a listen is identified by (user, track, listened_at), a total by
(user, track), so importing the same file again changes nothing.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import queue
import re
import threading
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
from core import locks
from listening.models import ImportBatch, ListeningEvent, UserTrackStats
from listening.services.listens import CLOCK_SKEW, EARLIEST
from listening.services.stats import (
    PAIR_TOTALS_SQL,
    Contribution,
    increments_upsert_sql,
    stats_add,
    stats_recompute,
)

BATCH_ROWS = 5000
# An import at least this large refreshes the planner's statistics of the listening tables.
ANALYZE_AFTER_ROWS = 50_000
MAX_LISTED_REJECTIONS = 10_000
EVENTS_TABLE = ListeningEvent._meta.db_table
TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no", ""}
_UNIX_SECONDS = re.compile(r"^\d+(\.\d+)?$")
_BAD_LINE = "\x00undecodable"
# Exports repeat the same artists and titles on many rows: clean and normalise each name once.
_key = lru_cache(maxsize=65_536)(name_key)
_clean = lru_cache(maxsize=65_536)(clean_name)


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

    def __post_init__(self) -> None:
        self._lock = threading.Lock()  # the parser and the writer thread both reject rows

    def count_unchanged(self, count: int) -> None:
        with self._lock:
            self.unchanged += count

    def reject(self, line: int, reason: str) -> None:
        with self._lock:
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
    *,
    path: Path,
    create_missing: bool = False,
    progress: Callable[[int], None] | None = None,
    on_wait: Callable[[], None] | None = None,
) -> ImportReport:
    """Import a listening-history CSV; see the module docstring and CONTRACT section 6.

    Rows that cannot be used are reported (line number and reason) and the rest imported.
    `create_missing` creates unknown users (no usable password) and metadata-only tracks
    (`no_audio`). `progress` is called with the number of bytes read since the last call.
    Raises ImportFormatError when the header is unusable (nothing is imported then).

    One import runs at a time (core.locks): a second waits for the first, calling `on_wait`
    once. Two imports of overlapping files at the same moment would otherwise both see a total
    as new and insert it twice, or both create the same missing user or track.
    """
    with locks.hold(locks.LISTEN_IMPORT, on_wait=on_wait):
        return _import(path, create_missing, progress)


def _import(
    path: Path, create_missing: bool, progress: Callable[[int], None] | None
) -> ImportReport:
    digest = _sha256(path)
    batch = ImportBatch.objects.create(file_name=path.name[:255], file_sha256=digest)
    report = ImportReport(batch_id=batch.pk)
    importer = _Importer(batch, report, create_missing)
    # Outside a transaction, batches are written by a second thread while this one parses the
    # next (about twice as fast on two cores). Inside one (a caller's), another connection
    # could not see its rows: write in line.
    writer = _InlineWriter(importer) if connection.in_atomic_block else _ThreadedWriter(importer)
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
                    writer.submit(pending)
                    pending = []
            if pending:
                writer.submit(pending)
        writer.finish()
    except Exception as exc:
        writer.abort()
        batch.status = ImportBatch.Status.FAILED
        batch.failure = f"{type(exc).__name__}: {exc}"[:2000]
        _save_counts(batch, report)
        raise
    batch.status = ImportBatch.Status.DONE
    _save_counts(batch, report)
    if report.imported >= ANALYZE_AFTER_ROWS:
        _refresh_planner_statistics()
    return report


def _refresh_planner_statistics() -> None:
    """After a bulk load, ANALYZE now rather than when autovacuum gets to it: until then the
    planner's statistics describe the table before the load, and the recommender's per-user
    queries ran as sequential scans (20-65 ms instead of 2.5 ms, docs/performance.md)."""
    if connection.vendor != "postgresql":
        return
    tables = (ListeningEvent._meta.db_table, UserTrackStats._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(tables)}")


class _InlineWriter:
    def __init__(self, importer: _Importer):
        self.importer = importer

    def submit(self, rows: list[_Row]) -> None:
        self.importer.write(rows)

    def finish(self) -> None:
        return None

    def abort(self) -> None:
        return None


class _ThreadedWriter:
    """Writes batches on a thread of its own (its own database connection) while the caller
    parses the next; at most two batches wait, so memory stays flat. A write error stops the
    import and is raised in the caller."""

    QUEUED_BATCHES = 2

    def __init__(self, importer: _Importer):
        self.importer = importer
        self.queue: queue.Queue = queue.Queue(maxsize=self.QUEUED_BATCHES)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="import-writer", daemon=True)
        self.thread.start()

    def submit(self, rows: list[_Row]) -> None:
        self._raise()
        self.queue.put(self.importer.prepare(rows))  # resolution here, writing on the thread

    def finish(self) -> None:
        self.queue.put(None)
        self.thread.join()
        self._raise()

    def abort(self) -> None:
        if self.thread.is_alive():
            self.error = self.error or RuntimeError("import aborted")
            with contextlib.suppress(queue.Full):
                self.queue.put_nowait(None)
            self.thread.join(timeout=60)

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            while (prepared := self.queue.get()) is not None:
                if self.error is None:
                    self.importer.store(prepared)
        except BaseException as exc:
            self.error = exc
            while self.queue.get() is not None:  # let the producer finish and see the error
                pass
        finally:
            connection.close()


class _Importer:
    """Resolves names to ids (with caches) and writes one batch of parsed rows at a time."""

    def __init__(self, batch: ImportBatch, report: ImportReport, create_missing: bool):
        self.batch = batch
        self.report = report
        self.create_missing = create_missing
        self.users: dict[str, int] = {}
        self.tracks: dict[tuple[str, str], int] = {}

    def write(self, rows: list[_Row]) -> None:
        self.store(self.prepare(rows))

    def prepare(self, rows: list[_Row]) -> list[tuple[_Row, int, int]]:
        """Resolve names to ids (reading, or creating with --create-missing); reject the rest."""
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
        if self.report.format == ImportBatch.Format.TOTALS:
            return usable
        return self._prepare_events(usable)

    def store(self, prepared) -> None:
        """Write one prepared batch, events and aggregate, in one transaction."""
        with transaction.atomic():
            if self.report.format == ImportBatch.Format.TOTALS:
                self._write_totals(prepared)
            else:
                self._write_events(prepared)

    def _prepare_events(self, usable: list[tuple[_Row, int, int]]) -> _PreparedEvents:
        unique: dict[tuple[int, int, datetime], _Row] = {}
        for row, user_id, track_id in usable:
            key = (user_id, track_id, row.listened_at)
            if key in unique:
                self.report.count_unchanged(1)  # the same listen twice in the file
            unique[key] = row
        copy_text = _copy_text(unique) if connection.vendor == "postgresql" else None
        return _PreparedEvents(unique, copy_text)

    def _write_events(self, prepared: _PreparedEvents) -> None:
        unique = prepared.unique
        if not unique:
            return
        if prepared.copy_text is not None:
            inserted_count = _insert_events_with_totals(prepared.copy_text, self.batch.pk)
            self.report.imported += inserted_count
            self.report.count_unchanged(len(unique) - inserted_count)
            return
        inserted = _insert_events(unique, self.batch.pk)
        self.report.imported += len(inserted)
        self.report.count_unchanged(len(unique) - len(inserted))
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


_INSERT_COLUMNS = (
    "user_id, track_id, listened_at, ms_played, completed, skipped, play_count, source, excluded,"
    " import_batch_id, created_at"
)
STAGING_TABLE = "musicrec_import_events"


@dataclass(frozen=True)
class _PreparedEvents:
    unique: dict[tuple[int, int, datetime], _Row]
    copy_text: str | None  # PostgreSQL: the batch as COPY text, built by the parsing thread


def _copy_text(unique: dict[tuple[int, int, datetime], _Row]) -> str:
    """The batch in COPY's text format: tab-separated, \\N for NULL, t/f for booleans."""
    lines = []
    for (user_id, track_id, listened_at), row in unique.items():
        ms = "\\N" if row.ms_played is None else row.ms_played
        completed = "t" if row.completed else "f"
        skipped = "t" if row.skipped else "f"
        lines.append(
            f"{user_id}\t{track_id}\t{listened_at.isoformat()}\t{ms}\t{completed}\t{skipped}\n"
        )
    return "".join(lines)


def _insert_events_with_totals(copy_text: str, batch_id: int) -> int:
    """PostgreSQL: COPY the batch into a session temporary table (emptied at commit), then one
    statement inserts the new listens (in user order: index pages stay hot), sums what was
    actually inserted per (user, track) and adds it to the aggregate. Returns the new listens."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGING_TABLE} (user_id bigint, track_id bigint,"
            " listened_at timestamptz, ms_played integer, completed boolean, skipped boolean)"
            " ON COMMIT DELETE ROWS"
        )
        with cursor.cursor.copy(f"COPY {STAGING_TABLE} FROM STDIN") as copy:
            copy.write(copy_text)
        cursor.execute(
            f"""
            WITH inserted AS (
                INSERT INTO {EVENTS_TABLE} ({_INSERT_COLUMNS})
                SELECT user_id, track_id, listened_at, ms_played, completed, skipped, 1, %s,
                       false, %s, now()
                FROM {STAGING_TABLE} ORDER BY user_id, listened_at
                ON CONFLICT DO NOTHING
                RETURNING user_id, track_id, listened_at, ms_played, completed, skipped,
                          play_count
            ),
            pair_totals AS (SELECT {PAIR_TOTALS_SQL} FROM inserted GROUP BY user_id, track_id),
            added AS ({increments_upsert_sql("pair_totals")} RETURNING 1)
            SELECT (SELECT COUNT(*) FROM inserted), (SELECT COUNT(*) FROM added)
            """,
            [ListeningEvent.Source.IMPORT, batch_id],
        )
        inserted = cursor.fetchone()[0]
        cursor.execute(f"TRUNCATE {STAGING_TABLE}")
    return inserted


def _insert_events(
    unique: dict[tuple[int, int, datetime], _Row], batch_id: int
) -> set[tuple[int, int, datetime]]:
    """Other databases (the SQLite demo): multi-row INSERT ... ON CONFLICT DO NOTHING."""
    adapt = connection.ops.adapt_datetimefield_value
    now = adapt(timezone.now())
    keys = list(unique)
    inserted: set[tuple[int, int, datetime]] = set()
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        params: list = []
        source = ListeningEvent.Source.IMPORT
        for user_id, track_id, listened_at in chunk:
            row = unique[(user_id, track_id, listened_at)]
            params += [user_id, track_id, adapt(listened_at), row.ms_played, row.completed,
                       row.skipped, 1, source, False, batch_id, now]  # fmt: skip
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {EVENTS_TABLE} ({_INSERT_COLUMNS}) VALUES {values}"
                " ON CONFLICT DO NOTHING RETURNING user_id, track_id, listened_at",
                params,
            )
            inserted.update((u, t, _as_datetime(when)) for u, t, when in cursor.fetchall())
    return inserted


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

    username, artist, title = get("user"), _clean(get("artist")), _clean(get("track"))
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
