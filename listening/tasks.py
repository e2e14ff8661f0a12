"""Celery tasks of listening: unpack ids, call a service, own the retry policy."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from listening.services.uploads import history_upload_run, history_uploads_requeue_stuck


@shared_task(name="listening.import_history_upload", acks_late=True, reject_on_worker_lost=True)
def import_history_upload(batch_id: int) -> str:
    # acks_late + reject_on_worker_lost: a killed worker's import runs again and completes it
    return history_upload_run(batch_id=batch_id)


@shared_task(name="listening.sweep_stuck_imports", acks_late=True, expires=300)
def sweep_stuck_imports() -> int:
    """Beat, every few minutes: re-send uploaded imports left `pending` (broker down)."""
    return history_uploads_requeue_stuck(
        pending_after=timedelta(seconds=settings.MUSICREC_SWEEP_PENDING_AFTER_S)
    )
