"""Importing a listening-history file (formats: docs/listening.md), streamed in batches.

Memory stays flat for listens: rows are read and written BATCH_ROWS at a time; only the user and
track lookups are kept (bounded by the catalogue, not by the file). Aggregated totals and
feedback are gathered per (user, track) over the file and written at its end. Idempotent: a
listen is identified by (user, track, listened_at), a total by (user, track), so importing the
same file again, or again after a crash midway, completes it and counts nothing twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from core import locks
from listening.models import ImportBatch, ListeningEvent, UserTrackStats
from listening.services.imports.detect import source_open
from listening.services.imports.report import ImportFormatError, ImportReport
from listening.services.imports.resolve import Resolver
from listening.services.imports.store import BatchStore
from listening.services.imports.writers import InlineWriter, ThreadedWriter

BATCH_ROWS = 5000
# An import at least this large refreshes the planner's statistics of the listening tables.
ANALYZE_AFTER_ROWS = 50_000
INTERRUPTED = "interrupted: the process ended before the import finished"
# Runs of one upload's import that may end without an answer (worker killed) before it fails.
MAX_ATTEMPTS = 3


def listens_import(
    *,
    path: Path,
    file_format: str = "auto",
    user: str | None = None,
    create_missing: bool = False,
    progress: Callable[[int], None] | None = None,
    on_wait: Callable[[], None] | None = None,
    batch: ImportBatch | None = None,
) -> ImportReport | None:
    """Import a listening-history file; see the module docstring and docs/listening.md.

    `file_format` is "auto" (told from the content) or one of csv, spotify, listenbrainz,
    lastfm. `user` puts every row into that listener's history (needed by files that name
    nobody; our CSV's `user` column is then ignored). Rows that cannot be used are reported
    (line number and reason) and the rest imported. `create_missing` creates unknown users (no
    usable password) and metadata-only tracks (`no_audio`), in sets. `progress` is called with
    the number of bytes read since the last call. Raises ImportFormatError when the file as a
    whole cannot be read (nothing is imported then). `batch` is an ImportBatch to record
    the run in (the /import/ page makes one per upload); else one is created. With `batch`,
    None is returned when this call does not run it: another delivery finished it, or it
    already ran MAX_ATTEMPTS times without finishing (it is then `failed`, with the reason). A
    batch left `running` by a killed run is run again in full: nothing is counted twice, and
    the report counts what the killed run stored as imported.

    One import runs at a time (core.locks): a second waits for the first, calling `on_wait`
    once. Two imports of overlapping files at the same moment would otherwise both see a total
    as new and insert it twice, or both create the same missing user or track.
    """
    known = user is None or get_user_model().objects.filter(username=user).exists()
    if not known and not create_missing:
        raise ImportFormatError(f"no listener {user!r} (--create-missing creates them)")
    with locks.hold(locks.LISTEN_IMPORT, on_wait=on_wait):
        interrupted_fail(keep=batch.pk if batch is not None else None)
        if batch is None:
            batch = ImportBatch.objects.create(file_name=path.name[:255])
        elif not _claim(batch):
            return None
        before = _stored_before(batch)
        batch.file_sha256 = _sha256(path)
        batch.status = ImportBatch.Status.RUNNING
        batch.save(update_fields=["file_sha256", "status", "attempts"])
        report = _import(batch, path, file_format, user, create_missing, progress, before)
    return report


def interrupted_fail(keep: int | None = None) -> int:
    """Call holding the import lock: a command's batch still `running` (but `keep`, the one
    about to run) belongs to a process that died, and ends `failed`. An upload's is left to the
    sweep, which runs it again (history_uploads_requeue_stuck). Returns how many were marked."""
    running = ImportBatch.objects.filter(status=ImportBatch.Status.RUNNING, upload="")
    return running.exclude(pk=keep).update(
        status=ImportBatch.Status.FAILED, failure=INTERRUPTED, finished_at=timezone.now()
    )


def _claim(batch: ImportBatch) -> bool:
    """Holding the lock: whether this delivery of `batch` should run it. Not when another one
    finished it meanwhile; not after MAX_ATTEMPTS runs that ended without an answer (a file
    that kills its worker, say by memory): it ends `failed`, saying so."""
    batch.refresh_from_db(fields=["status", "attempts"])
    if batch.status in (ImportBatch.Status.DONE, ImportBatch.Status.FAILED):
        return False
    if batch.attempts >= MAX_ATTEMPTS:
        batch.status = ImportBatch.Status.FAILED
        batch.failure = (
            f"The import stopped without finishing {batch.attempts} times (its worker was "
            "stopped, perhaps for lack of memory); what it had stored is kept. Try a smaller "
            "file, or ask the operator."
        )
        batch.finished_at = timezone.now()
        batch.save(update_fields=["status", "failure", "finished_at"])
        return False
    batch.attempts += 1
    return True


def _stored_before(batch: ImportBatch) -> int:
    """Rows an earlier, interrupted run of this batch stored: this run sees them as unchanged,
    the report counts them as imported."""
    if batch.attempts <= 1:
        return 0
    return ListeningEvent.objects.filter(import_batch=batch).count()


def _import(batch, path, file_format, user, create_missing, progress, before) -> ImportReport:
    report = ImportReport(batch_id=batch.pk)
    writer = None
    try:
        with source_open(
            path=path, file_format=file_format, report=report, progress=progress, user=user
        ) as rows:
            report.format = rows.format
            report.kind = ImportBatch.Format.TOTALS if rows.is_totals else ImportBatch.Format.EVENTS
            store = BatchStore(batch, report, Resolver(report, create_missing), rows.is_totals)
            writer = _writer(store.store)
            pending = []
            for row in rows:
                pending.append(row)
                if len(pending) >= BATCH_ROWS:
                    _submit(writer, store, pending)
                    pending = []
            _submit(writer, store, pending)
            for prepared in store.final():
                writer.write(prepared)
        writer.finish()
    except BaseException as exc:
        if writer is not None:
            writer.abort()
        batch.status = ImportBatch.Status.FAILED
        failure = str(exc) if isinstance(exc, ImportFormatError) else f"{type(exc).__name__}: {exc}"
        batch.failure = failure[:2000]
        _save_counts(batch, report)
        raise
    moved = min(before, report.unchanged)
    report.imported += moved
    report.unchanged -= moved
    batch.status = ImportBatch.Status.DONE
    _save_counts(batch, report)
    if report.imported >= ANALYZE_AFTER_ROWS:
        _refresh_planner_statistics()
    return report


def _writer(store):
    """Outside a transaction on PostgreSQL, batches are written by a second thread while this
    one parses the next (about twice as fast on two cores). Inside one (a caller's), another
    connection could not see its rows; on SQLite, a second connection would wait for this
    one's locks (`database is locked`): write in line."""
    if connection.in_atomic_block or connection.vendor != "postgresql":
        return InlineWriter(store)
    return ThreadedWriter(store)


def _submit(writer, store: BatchStore, rows: list) -> None:
    if rows:
        prepared = store.prepare(rows)
        if prepared is not None:
            writer.write(prepared)


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
    batch.format = report.kind
    batch.file_format = report.format
    batch.rows = report.rows
    batch.imported = report.imported
    batch.unchanged = report.unchanged
    batch.merged = report.merged
    batch.left_out = report.left_out
    batch.rejected_count = report.rejected_total
    batch.created_tracks = report.created_tracks
    batch.created_users = report.created_users
    batch.errors = report.rejected[:100]
    batch.finished_at = timezone.now()
    batch.save()
