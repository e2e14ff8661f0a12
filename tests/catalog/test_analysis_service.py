"""The analysis status machine, driven through the service and the task function."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.audio import errors
from catalog.models import AudioFeatures, Track
from catalog.services import MAX_ATTEMPTS, track_analyse, tracks_reanalyse, tracks_requeue_stuck
from catalog.services.analysis import ANALYSED, FAILED, SKIPPED
from catalog.tasks import analyse_track
from core import locks

pytestmark = pytest.mark.django_db


def test_a_second_delivery_of_finished_work_is_a_no_op(imported_track):
    track = imported_track()
    assert track.status == "done"
    assert track.attempts == 1
    assert analyse_track(track.pk) == SKIPPED
    track.refresh_from_db()
    assert track.attempts == 1
    assert AudioFeatures.objects.filter(track=track).count() == 1


def test_a_delivery_while_another_worker_holds_the_track_is_a_no_op(
    imported_track, lock_held_elsewhere
):
    track = imported_track()
    Track.objects.filter(pk=track.pk).update(status="processing")
    with lock_held_elsewhere(locks.ANALYSIS, track.pk):
        assert track_analyse(track_id=track.pk) == SKIPPED
    track.refresh_from_db()
    assert (track.status, track.attempts) == ("processing", 1)


def test_a_redelivery_after_a_lost_worker_counts_the_attempt(imported_track):
    track = imported_track()
    # as a worker that died mid-analysis leaves it
    Track.objects.filter(pk=track.pk).update(status="processing")
    AudioFeatures.objects.filter(track=track).delete()
    assert track_analyse(track_id=track.pk) == ANALYSED
    track.refresh_from_db()
    assert (track.status, track.attempts) == ("done", 2)
    assert AudioFeatures.objects.filter(track=track).count() == 1


def test_after_the_last_attempt_the_track_fails_worker_lost(imported_track):
    track = imported_track()
    Track.objects.filter(pk=track.pk).update(status="processing", attempts=MAX_ATTEMPTS)
    assert track_analyse(track_id=track.pk) == FAILED
    track.refresh_from_db()
    assert track.status == "failed"
    assert track.error_code == errors.WORKER_LOST
    assert track.attempts == MAX_ATTEMPTS
    assert not AudioFeatures.objects.filter(track=track).exists()


def test_reanalyse_resets_attempts_and_runs_again(imported_track):
    track = imported_track()
    Track.objects.filter(pk=track.pk).update(status="failed", error_code="worker_lost", attempts=3)
    assert tracks_reanalyse(tracks=Track.objects.filter(pk=track.pk)) == [track.pk]
    track.refresh_from_db()  # tasks inline, but on_commit waits for the test's transaction
    assert (track.status, track.attempts, track.error_code) == ("pending", 0, "")
    assert analyse_track(track.pk) == ANALYSED
    track.refresh_from_db()
    assert (track.status, track.attempts) == ("done", 1)


def test_the_sweep_resends_only_what_is_stuck(imported_track, django_capture_on_commit_callbacks):
    stuck_pending = imported_track(name="a.flac")
    stuck_processing = imported_track(name="b.flac")
    fresh_pending = imported_track(name="c.flac")
    long_ago = timezone.now() - timedelta(hours=1)
    Track.objects.filter(pk=stuck_pending.pk).update(status="pending", status_changed_at=long_ago)
    Track.objects.filter(pk=stuck_processing.pk).update(
        status="processing", status_changed_at=long_ago
    )
    Track.objects.filter(pk=fresh_pending.pk).update(status="pending")
    sent = tracks_requeue_stuck(
        pending_after=timedelta(minutes=2), processing_after=timedelta(minutes=5)
    )
    assert sent == 2
    statuses = dict(Track.objects.values_list("pk", "status"))
    assert statuses[stuck_pending.pk] == "done"
    assert statuses[stuck_processing.pk] == "done"
    assert statuses[fresh_pending.pk] == "pending"


def test_a_missing_stored_file_fails_with_a_reason(imported_track):
    import os

    track = imported_track()
    os.remove(track.audio.path)
    Track.objects.filter(pk=track.pk).update(status="pending")
    assert track_analyse(track_id=track.pk) == FAILED
    track.refresh_from_db()
    assert track.error_code == errors.UNDECODABLE
    assert "missing" in track.error_detail


def test_the_sweep_is_scheduled_in_the_database():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="catalog.sweep_stuck_tracks")
    assert task.enabled
    assert task.interval is not None
    assert task.expire_seconds
