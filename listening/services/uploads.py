"""History files uploaded on /import/: accepted (stored, format recognised) in the request,
imported into the uploader's own history by a Celery task, reported on the page."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import locks
from core.queue import enqueue_on_commit, send
from listening.models import ImportBatch
from listening.services.imports import (
    ImportFormatError,
    format_detect,
    interrupted_fail,
    listens_import,
)

PROGRESS_EVERY_BYTES = 1 << 20


class UploadRefused(Exception):
    """The file is not imported and nothing of it is kept; the message says why."""


def history_upload_accept(*, user, uploaded) -> ImportBatch:
    """Keep an uploaded history file and queue its import into `user`'s history (after
    commit). Refuses a file that is empty, over MUSICREC_MAX_UPLOAD_MB, or in none of the
    formats of docs/listening.md (told from its content): UploadRefused, nothing stored."""
    limit = settings.MAX_UPLOAD_MB
    if getattr(uploaded, "too_large", False) or uploaded.size > limit * 1024 * 1024:
        raise UploadRefused(f"That file is larger than {limit} MB, the most we accept.")
    if not uploaded.size:
        raise UploadRefused("That file is empty.")
    path = _folder() / f"{uuid.uuid4().hex}.upload"
    with path.open("wb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)
    try:
        file_format = format_detect(path=path)
    except ImportFormatError as exc:
        path.unlink(missing_ok=True)
        raise UploadRefused(f"That file cannot be imported: {exc}.") from None
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            file_name=(uploaded.name or "upload")[:255],
            user=user,
            upload=path.name,
            status=ImportBatch.Status.PENDING,
            file_format=file_format,
            bytes_total=path.stat().st_size,
            queued_at=timezone.now(),
        )
        from listening.tasks import import_history_upload

        enqueue_on_commit(import_history_upload, batch.pk)
    return batch


def history_upload_run(*, batch_id: int, timeout_errors: tuple[type, ...] = ()) -> str:
    """Import one accepted upload (the task's body). A second delivery of a finished one is a
    no-op; a run cut short (worker killed) runs again and completes, counting nothing twice.
    The uploaded file is deleted once the import ends, done or failed. `timeout_errors` are what
    the caller's time limit raises (Celery's SoftTimeLimitExceeded): the batch fails saying so."""
    batch = ImportBatch.objects.select_related("user").filter(pk=batch_id).first()
    if batch is None or batch.status in (ImportBatch.Status.DONE, ImportBatch.Status.FAILED):
        return "nothing to do"
    path = _folder() / batch.upload
    read = [0, 0]

    def progress(count: int) -> None:
        read[0] += count
        if read[0] - read[1] >= PROGRESS_EVERY_BYTES:
            read[1] = read[0]
            ImportBatch.objects.filter(pk=batch.pk).update(bytes_done=read[0])

    try:
        report = listens_import(path=path, file_format=batch.file_format, user=batch.user.username,
                                create_missing=True, progress=progress, batch=batch)  # fmt: skip
    except ImportFormatError:
        path.unlink(missing_ok=True)
        return "failed"  # recorded on the batch, shown on the page
    except timeout_errors:
        path.unlink(missing_ok=True)
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.FAILED,
            failure=f"The import took longer than its time limit ({settings.IMPORT_SOFT_TIME_LIMIT}"
            " s); what it stored is kept. Try a smaller file, or ask the operator.",
            finished_at=timezone.now(),
        )
        return "failed"
    except BaseException:
        # recorded on the batch (failed) unless the process is going away mid-run; the file
        # stays for a run again only while the batch is unfinished
        if ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.FAILED).exists():
            path.unlink(missing_ok=True)
        raise
    path.unlink(missing_ok=True)
    if report is None:
        return "nothing to do"  # finished by another delivery, or given up (see the batch)
    ImportBatch.objects.filter(pk=batch.pk).update(bytes_done=batch.bytes_total)
    return f"{report.imported} imported"


def history_uploads_requeue_stuck(*, pending_after: timedelta) -> int:
    """Send again the imports of uploads left `pending` for longer than `pending_after` (the
    broker was down when the page queued it, or the message was lost), as the catalogue's sweep
    does for tracks, and those left `running` by a run that died (its worker killed: the
    broker would hand the message back only after its visibility timeout, or never if Redis
    lost it); a run again resumes them exactly, and after MAX_ATTEMPTS runs one ends `failed`.
    One whose file is gone can never run: it ends `failed`, saying so. Returns how many were
    sent."""
    from listening.tasks import import_history_upload

    resumed = _interrupted_requeue()
    now = timezone.now()
    stuck = ImportBatch.objects.filter(
        Q(pk__in=resumed)
        | Q(queued_at__lt=now - pending_after)
        | Q(queued_at=None, started_at__lt=now - pending_after),
        status=ImportBatch.Status.PENDING,
    ).exclude(upload="")
    sent = 0
    for batch_id, upload in stuck.values_list("pk", "upload").iterator():
        if not (_folder() / upload).exists():
            ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.PENDING).update(
                status=ImportBatch.Status.FAILED,
                failure="The uploaded file was lost before it could be read; upload it again.",
                finished_at=now,
            )
            continue
        if not send(import_history_upload, batch_id):
            break  # broker still down: the next sweep tries again
        # only what was sent gets a fresh time, so nothing is re-sent on every sweep
        ImportBatch.objects.filter(pk=batch_id).update(queued_at=now)
        sent += 1
    return sent


def _interrupted_requeue() -> list[int]:
    """Every import runs holding the import lock and leaves `running` before it lets go, so
    while the sweep holds it, a batch still `running` belongs to a run that died: an upload's
    goes back to `pending` and is sent now (or by a later sweep if the broker is down); a
    command's ends `failed` (interrupted: running the command again completes it). Returns
    the uploads set back to `pending`."""
    with locks.try_lock(locks.LISTEN_IMPORT) as free:
        if not free:
            return []  # an import is running: it may be one of them
        interrupted_fail()
        orphans = ImportBatch.objects.filter(status=ImportBatch.Status.RUNNING).exclude(upload="")
        resumed = list(orphans.values_list("pk", flat=True))
        orphans.filter(pk__in=resumed).update(status=ImportBatch.Status.PENDING)
        return resumed


def _folder() -> Path:
    folder = Path(settings.DATA_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


__all__ = [
    "UploadRefused",
    "history_upload_accept",
    "history_upload_run",
    "history_uploads_requeue_stuck",
]
