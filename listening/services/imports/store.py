"""Writing resolved rows: listens (new ones only, identified by user, track and time), aggregated
totals (a snapshot per user and track) and feedback, each write with the aggregate in one
transaction."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from listening.models import ImportBatch, ListeningEvent
from listening.services.feedback import feedback_set_many
from listening.services.imports.report import ImportReport
from listening.services.imports.resolve import Resolver
from listening.services.imports.rows import ImportRow
from listening.services.sql import adapt_time, as_datetime, copy_staged, values_execute
from listening.services.stats import (
    EVENT_COLUMNS,
    Contribution,
    increments_upsert_sql,
    stats_add,
    stats_recompute,
)
from listening.services.validation import MAX_INT

EVENTS_TABLE = ListeningEvent._meta.db_table
STAGING_TABLE = "musicrec_import_events"
_INSERT_COLUMNS = (
    "user_id, track_id, listened_at, ms_played, completed, skipped, play_count, source, excluded,"
    " import_batch_id, created_at"
)
_STAGING_COLUMNS = (
    "user_id bigint, track_id bigint, listened_at timestamptz, ms_played integer,"
    " completed boolean, skipped boolean"
)

ListenKey = tuple[int, int, datetime]
Pair = tuple[int, int]
TOTALS_PER_WRITE = 5000


@dataclass(frozen=True)
class PreparedListens:
    unique: dict[ListenKey, ImportRow]
    copy_text: str | None  # PostgreSQL: the batch as COPY text, built by the parsing thread


@dataclass(frozen=True)
class PreparedTotals:
    plays: dict[Pair, int]


@dataclass(frozen=True)
class PreparedFeedback:
    kinds: dict[Pair, str]


class BatchStore:
    """`prepare` resolves a batch on the parsing thread; `store` writes what it prepared (see
    writers.py). Listens are written batch by batch. Totals and feedback are gathered over the
    whole file (rows of the same user and track add up) and come out of `final()`: a file cut
    short by a crash writes no totals, and running it again writes them whole."""

    def __init__(self, batch: ImportBatch, report: ImportReport, resolver: Resolver, totals: bool):
        self.batch = batch
        self.report = report
        self.resolver = resolver
        self.totals = totals
        self.plays: dict[Pair, int] = {}
        self.kinds: dict[Pair, str] = {}

    def prepare(self, rows: list[ImportRow]) -> PreparedListens | None:
        usable = self.resolver.resolve(rows)
        for row, user_id, track_id in usable:
            if row.feedback is not None:
                self.kinds[(user_id, track_id)] = row.feedback
        if not self.totals:
            return self._prepare_listens(usable)
        for row, user_id, track_id in usable:
            pair = (user_id, track_id)
            if pair in self.plays:
                self.report.merged += 1
            self.plays[pair] = self.plays.get(pair, 0) + row.plays
        return None

    def final(self) -> Iterator[PreparedTotals | PreparedFeedback]:
        pairs = sorted(self.plays)
        for start in range(0, len(pairs), TOTALS_PER_WRITE):
            yield PreparedTotals(
                {p: self.plays[p] for p in pairs[start : start + TOTALS_PER_WRITE]}
            )
        pairs = sorted(self.kinds)
        for start in range(0, len(pairs), TOTALS_PER_WRITE):
            yield PreparedFeedback(
                {p: self.kinds[p] for p in pairs[start : start + TOTALS_PER_WRITE]}
            )

    def store(self, prepared) -> None:
        with transaction.atomic():
            if isinstance(prepared, PreparedTotals):
                self._write_totals(prepared.plays)
            elif isinstance(prepared, PreparedFeedback):
                self.report.feedback += feedback_set_many(kinds=prepared.kinds)
            else:
                self._write_listens(prepared)

    def _prepare_listens(self, usable: list[tuple[ImportRow, int, int]]) -> PreparedListens:
        unique: dict[ListenKey, ImportRow] = {}
        for row, user_id, track_id in usable:
            key = (user_id, track_id, row.listened_at)
            if key in unique:
                self.report.count_unchanged(1)  # the same listen twice in the file
            unique[key] = row
        copy_text = _copy_text(unique) if connection.vendor == "postgresql" else None
        return PreparedListens(unique, copy_text)

    def _write_listens(self, prepared: PreparedListens) -> None:
        unique = prepared.unique
        if not unique:
            return
        if prepared.copy_text is not None:
            inserted_count = _insert_listens_with_totals(prepared.copy_text, self.batch.pk)
        else:
            inserted = _insert_listens(unique, self.batch.pk)
            inserted_count = len(inserted)
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
        self.report.count_imported(inserted_count)
        self.report.count_unchanged(len(unique) - inserted_count)

    def _write_totals(self, plays: dict[Pair, int]) -> None:
        existing = {
            (e.user_id, e.track_id): e
            for e in ListeningEvent.objects.select_for_update().filter(
                source=ListeningEvent.Source.IMPORT_TOTAL,
                user_id__in={u for u, _ in plays},
                track_id__in={t for _, t in plays},
            )
        }
        now = timezone.now()
        new, changed = [], []
        for (user_id, track_id), count in plays.items():
            event = existing.get((user_id, track_id))
            if event is None:
                new.append(
                    ListeningEvent(
                        user_id=user_id,
                        track_id=track_id,
                        listened_at=now,
                        play_count=min(count, MAX_INT),
                        completed=True,
                        source=ListeningEvent.Source.IMPORT_TOTAL,
                        import_batch=self.batch,
                    )
                )
            elif event.play_count != min(count, MAX_INT):
                event.play_count = min(count, MAX_INT)
                event.import_batch = self.batch
                changed.append(event)
            else:
                self.report.count_unchanged(1)
        ListeningEvent.objects.bulk_create(new, batch_size=1000)
        ListeningEvent.objects.bulk_update(changed, ["play_count", "import_batch"], batch_size=1000)
        self.report.count_imported(len(new) + len(changed))
        stats_recompute([(e.user_id, e.track_id) for e in new + changed])


def _copy_text(unique: dict[ListenKey, ImportRow]) -> str:
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


def _insert_listens_with_totals(copy_text: str, batch_id: int) -> int:
    """PostgreSQL: COPY the batch into a temporary table, then one statement inserts the new
    listens (in user order: index pages stay hot) and adds exactly those to the aggregate.
    Returns the number of new listens."""
    with copy_staged(table=STAGING_TABLE, columns=_STAGING_COLUMNS, data=copy_text) as cursor:
        cursor.execute(
            f"""
            WITH inserted AS (
                INSERT INTO {EVENTS_TABLE} ({_INSERT_COLUMNS})
                SELECT user_id, track_id, listened_at, ms_played, completed, skipped, 1, %s,
                       false, %s, now()
                FROM {STAGING_TABLE} ORDER BY user_id, listened_at
                ON CONFLICT DO NOTHING
                RETURNING {EVENT_COLUMNS}
            ),
            added AS ({increments_upsert_sql("inserted")} RETURNING 1)
            SELECT (SELECT COUNT(*) FROM inserted), (SELECT COUNT(*) FROM added)
            """,
            [ListeningEvent.Source.IMPORT, batch_id],
        )
        return cursor.fetchone()[0]


def _insert_listens(unique: dict[ListenKey, ImportRow], batch_id: int) -> set[ListenKey]:
    """Other databases (the SQLite demo): multi-row INSERT ... ON CONFLICT DO NOTHING."""
    now = adapt_time(timezone.now())
    source = ListeningEvent.Source.IMPORT
    returned = values_execute(
        statement=f"INSERT INTO {EVENTS_TABLE} ({_INSERT_COLUMNS}) VALUES {{values}}"
        " ON CONFLICT DO NOTHING RETURNING user_id, track_id, listened_at",
        rows=[
            (
                user_id,
                track_id,
                adapt_time(listened_at),
                row.ms_played,
                row.completed,
                row.skipped,
                1,
                source,
                False,
                batch_id,
                now,
            )
            for (user_id, track_id, listened_at), row in unique.items()
        ],
    )
    return {(u, t, as_datetime(when)) for u, t, when in returned}
