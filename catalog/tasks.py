"""Celery tasks of the catalogue: unpack ids, call a service, own the retry policy."""

import logging
import time
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init
from django.conf import settings

from catalog.services import track_analyse, tracks_requeue_stuck
from musicrec.celery import WorkerTimedTask

logger = logging.getLogger(__name__)


# Time limits: the worker's own CELERY_TASK_SOFT_TIME_LIMIT / CELERY_TASK_TIME_LIMIT
# (MUSICREC_ANALYSIS_SOFT_TIME_LIMIT where the workers run), never the sender's.
@shared_task(
    base=WorkerTimedTask,
    name="catalog.analyse_track",
    acks_late=True,
    reject_on_worker_lost=True,  # a killed child puts the message back; the row counts attempts
)
def analyse_track(track_id: int) -> str:
    return track_analyse(track_id=track_id, timeout_errors=(SoftTimeLimitExceeded,))


@shared_task(name="catalog.sweep_stuck_tracks", acks_late=True, expires=300)
def sweep_stuck_tracks() -> int:
    """Beat, every few minutes: re-send analyses stuck in `pending` or `processing`."""
    return tracks_requeue_stuck(
        pending_after=timedelta(seconds=settings.MUSICREC_SWEEP_PENDING_AFTER_S),
        processing_after=timedelta(seconds=settings.ANALYSIS_SOFT_TIME_LIMIT + 30 + 60),
    )


@worker_init.connect
def warm_up_audio(**kwargs) -> None:
    """In the worker's main process, before the pool forks and before it reports ready: one
    thread for BLAS, then one analysis of synthetic audio (librosa's and scipy's imports, numba's
    compiled beat tracker from its on-disk cache, FFT plans). Every child, including those
    recycled after max_tasks_per_child, is forked warm, so the first upload is not slower."""
    from threadpoolctl import threadpool_limits

    from catalog.audio import warm_up

    threadpool_limits(1)
    started = time.perf_counter()
    warm_up()
    logger.info("audio analysis warmed up in %.2f s", time.perf_counter() - started)
