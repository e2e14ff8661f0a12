"""Celery tasks of listening: unpack ids, call a service, own the retry policy."""

from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from listening.services.uploads import history_upload_run, history_uploads_requeue_stuck


@shared_task(
    name="listening.import_history_upload",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.IMPORT_SOFT_TIME_LIMIT,
    time_limit=settings.IMPORT_SOFT_TIME_LIMIT + 60,
)
def import_history_upload(batch_id: int) -> str:
    # acks_late + reject_on_worker_lost: a killed child's import is delivered again and resumes;
    # a whole worker lost is the sweep's (below); the batch counts runs and gives up after three
    return history_upload_run(batch_id=batch_id, timeout_errors=(SoftTimeLimitExceeded,))


@shared_task(name="listening.sweep_stuck_imports", acks_late=True, expires=300)
def sweep_stuck_imports() -> int:
    """Beat, every few minutes: re-send uploaded imports left `pending` (broker down) or left
    `running` by a run that died."""
    return history_uploads_requeue_stuck(
        pending_after=timedelta(seconds=settings.MUSICREC_SWEEP_PENDING_AFTER_S)
    )
