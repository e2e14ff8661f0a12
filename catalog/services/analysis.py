"""Audio analysis as a status machine on the Track row.

pending -> processing -> done | failed. Each delivery of the analysis task claims the row under a
row lock and a per-track advisory lock; a second delivery of finished work is a no-op, and one that
arrives while another worker is still on the track is too. Attempts are counted in the row before
the work starts, so a file that kills its worker is tried at most MAX_ATTEMPTS times in all.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from catalog.audio import EXTRACTOR_VERSION, Features, analyse_file, errors
from catalog.audio.errors import AudioError
from catalog.models import AudioFeatures, Track
from catalog.similarity import store as similarity_store
from core import locks
from core.queue import enqueue_on_commit, send

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3

# outcomes, for logs and tests
ANALYSED = "analysed"
FAILED = "failed"
SKIPPED = "skipped"  # missing, already finished, or another worker holds it


def track_analyse(*, track_id: int, timeout_errors: tuple[type[BaseException], ...] = ()) -> str:
    """Analyse one track and record the outcome in its row. Idempotent.

    Holds the track's advisory lock for the whole analysis (released if the process dies).
    Features and the `done` status are written in one transaction. `timeout_errors` are the
    exceptions the caller's time limit raises (Celery's SoftTimeLimitExceeded); they record
    `failed/timeout`. Any other unexpected error records `failed/analysis_error`.
    """
    with locks.try_lock(locks.ANALYSIS, track_id) as acquired:
        if not acquired:
            logger.info("track %s: another worker is analysing it", track_id)
            return SKIPPED
        track = _claim(track_id)
        if track is None:
            return SKIPPED
        if track.status == Track.Status.FAILED:
            return FAILED
        path = Path(track.audio.path)
        if not path.is_file():
            _fail(track_id, errors.UNDECODABLE, f"the stored audio file is missing ({track.audio})")
            return FAILED
        try:
            features = analyse_file(
                path,
                expected_frames=_expected_frames(track),
                max_seconds=settings.MAX_AUDIO_SECONDS,
                min_seconds=settings.MIN_AUDIO_SECONDS,
            )
        except AudioError as exc:
            _fail(track_id, exc.code, exc.detail)
            return FAILED
        except timeout_errors:
            _fail(track_id, errors.TIMEOUT, "the analysis ran past its time limit")
            return FAILED
        except Exception as exc:
            logger.exception("track %s: analysis failed unexpectedly", track_id)
            _fail(track_id, errors.ANALYSIS_ERROR, f"{type(exc).__name__}: {exc}"[:2000])
            return FAILED
        _store(track_id, features)
    # after the track's lock: at the graph's sizes this folds the new track into the shared
    # similarity graph (seconds at a million tracks); only an analysis that stored features
    similarity_store.after_analysis()
    return ANALYSED


def _claim(track_id: int) -> Track | None:
    """Move the row to `processing` and count the attempt; None when there is nothing to do."""
    with transaction.atomic():
        track = Track.objects.select_for_update().filter(pk=track_id).first()
        if track is None or track.status not in (Track.Status.PENDING, Track.Status.PROCESSING):
            return None
        now = timezone.now()
        if track.attempts >= MAX_ATTEMPTS:
            track.status = Track.Status.FAILED
            track.error_code = errors.WORKER_LOST
            track.error_detail = (
                f"the analysis stopped without an answer {track.attempts} times "
                "(the worker died or was killed); not retried"
            )
            track.status_changed_at = now
            track.save(update_fields=["status", "error_code", "error_detail", "status_changed_at"])
            AudioFeatures.objects.filter(track_id=track_id).delete()
            logger.warning("track %s: %s", track_id, track.error_detail)
            return track
        track.attempts += 1
        track.status = Track.Status.PROCESSING
        track.status_changed_at = now
        track.save(update_fields=["attempts", "status", "status_changed_at"])
        return track


def _store(track_id: int, features: Features) -> None:
    values = {
        "extractor_version": EXTRACTOR_VERSION,
        **features.columns(),
        "key": features.key,
        "mode": features.mode,
        "arousal": features.moods.arousal,
        "valence": features.moods.valence,
        "is_music": features.is_music,
        "description": np.asarray(features.description, dtype="<f4").tobytes(),
        "computed_at": timezone.now(),
    }
    now = timezone.now()
    with transaction.atomic():
        AudioFeatures.objects.update_or_create(track_id=track_id, defaults=values)
        # a header without a length (see probe) gets the decoded one
        Track.objects.filter(pk=track_id, duration_s__isnull=True).update(
            duration_s=round(features.duration_s, 3)
        )
        Track.objects.filter(pk=track_id).update(
            status=Track.Status.DONE,
            error_code="",
            error_detail="",
            analysed_at=now,
            status_changed_at=now,
            updated_at=now,
        )


def _fail(track_id: int, code: str, detail: str) -> None:
    """Record the failure; features of an earlier analysis go too (a failed track has none)."""
    now = timezone.now()
    with transaction.atomic():
        AudioFeatures.objects.filter(track_id=track_id).delete()
        Track.objects.filter(pk=track_id).update(
            status=Track.Status.FAILED,
            error_code=code,
            error_detail=detail,
            status_changed_at=now,
            updated_at=now,
        )
    logger.info("track %s failed analysis: %s (%s)", track_id, code, detail)


def _expected_frames(track: Track) -> int:
    if track.sample_rate and track.duration_s:
        return round(track.duration_s * track.sample_rate)
    return 0


def tracks_reanalyse(*, tracks: QuerySet[Track], enqueue: bool = True) -> list[int]:
    """Reset the given tracks (except metadata-only ones) to `pending` with no attempts and, with
    `enqueue`, queue each after commit. Returns their ids (the caller may run them itself)."""
    from catalog.tasks import analyse_track

    with transaction.atomic():
        ids = list(
            tracks.exclude(status=Track.Status.NO_AUDIO)
            .exclude(audio="")
            .values_list("pk", flat=True)
        )
        Track.objects.filter(pk__in=ids).update(
            status=Track.Status.PENDING,
            attempts=0,
            error_code="",
            error_detail="",
            status_changed_at=timezone.now(),
        )
        if enqueue:
            for track_id in ids:
                enqueue_on_commit(analyse_track, track_id)
    return ids


def tracks_requeue_stuck(*, pending_after: timedelta, processing_after: timedelta) -> int:
    """Send again the tracks left `pending` (a message lost, or never sent because the broker was
    down) or `processing` (a worker died) for longer than the given times. Attempts are not reset:
    the claim counts them, so a file that keeps killing workers still ends `worker_lost`."""
    from catalog.tasks import analyse_track

    now = timezone.now()
    stuck = Track.objects.filter(
        Q(status=Track.Status.PENDING, status_changed_at__lt=now - pending_after)
        | Q(status=Track.Status.PROCESSING, status_changed_at__lt=now - processing_after)
    ).values_list("pk", flat=True)
    sent = 0
    for track_id in stuck.iterator():
        if not send(analyse_track, track_id):
            break  # broker down: the next sweep tries again
        # only what was sent gets a fresh timestamp, so nothing is re-sent on every sweep
        Track.objects.filter(pk=track_id).update(status_changed_at=now)
        sent += 1
    return sent
