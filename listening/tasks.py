"""Celery tasks of listening: unpack ids, call a service, own the retry policy."""

from celery import shared_task

from listening.services.uploads import history_upload_run


@shared_task(name="listening.import_history_upload", acks_late=True, reject_on_worker_lost=True)
def import_history_upload(batch_id: int) -> str:
    # acks_late + reject_on_worker_lost: a killed worker's import runs again and completes it
    return history_upload_run(batch_id=batch_id)
