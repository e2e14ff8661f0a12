"""Importing listening history from CSV (docs/listening.md), streamed in batches.

Two formats, told apart by the header: one row per listen (`listened_at`, optional `ms_played`,
`completed`, `skipped`) or aggregated play counts (`plays`). Memory stays flat: rows are read and
written BATCH_ROWS at a time; only the user and track lookups are kept (bounded by the catalogue,
not by the file). Idempotent: a listen is identified by (user, track, listened_at), a total by
(user, track), so importing the same file again changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from django.db import connection
from django.utils import timezone

from core import locks
from listening.models import ImportBatch, ListeningEvent, UserTrackStats
from listening.services.imports.csv_rows import CsvRows
from listening.services.imports.report import ImportReport
from listening.services.imports.resolve import Resolver
from listening.services.imports.store import BatchStore
from listening.services.imports.writers import InlineWriter, ThreadedWriter

BATCH_ROWS = 5000
# An import at least this large refreshes the planner's statistics of the listening tables.
ANALYZE_AFTER_ROWS = 50_000


def listens_import(
    *,
    path: Path,
    create_missing: bool = False,
    progress: Callable[[int], None] | None = None,
    on_wait: Callable[[], None] | None = None,
) -> ImportReport:
    """Import a listening-history CSV; see the module docstring and docs/listening.md.

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
    batch = ImportBatch.objects.create(file_name=path.name[:255], file_sha256=_sha256(path))
    report = ImportReport(batch_id=batch.pk)
    writer = None
    try:
        with path.open("rb") as raw:
            rows = CsvRows(raw, report, progress)
            totals = rows.is_totals
            report.format = ImportBatch.Format.TOTALS if totals else ImportBatch.Format.EVENTS
            store = BatchStore(batch, report, Resolver(report, create_missing), totals)
            # Outside a transaction, batches are written by a second thread while this one
            # parses the next (about twice as fast on two cores). Inside one (a caller's),
            # another connection could not see its rows: write in line.
            writer = InlineWriter(store) if connection.in_atomic_block else ThreadedWriter(store)
            pending = []
            for row in rows:
                pending.append(row)
                if len(pending) >= BATCH_ROWS:
                    writer.submit(pending)
                    pending = []
            if pending:
                writer.submit(pending)
        writer.finish()
    except Exception as exc:
        if writer is not None:
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
