"""Rows 2 and 3: workers that die in the middle of an analysis."""

import os
import signal
import time

import pytest

from catalog.audio import errors
from catalog.models import AudioFeatures, Track
from tests.helpers import audio
from tests.helpers.deployment import last_json
from tests.helpers.worker import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def import_tracks(stack, *paths) -> list[int]:
    result = stack.manage("import_tracks", *map(str, paths), "--json")
    assert result.returncode == 0, result.stderr
    files = last_json(result)["files"]
    assert all(f["result"] == "imported" for f in files), files
    return [f["track_id"] for f in files]


def long_music(tmp_path, name="long.flac", minutes=12.0):
    """Minutes of music: seconds of analysis (about 3 on a quiet 2-core machine), long enough
    to be killed in the middle. The kill comes as soon as the task has marked the track
    `processing`: a pause before it once outlasted a 6-minute track's whole analysis."""
    signal_ = audio.progression("minor", bpm=112, level=0.5, percussive=True, seconds=minutes * 60)
    return audio.write(tmp_path / name, signal_, "FLAC")


def status_of(track_id: int) -> str:
    return Track.objects.values_list("status", flat=True).get(pk=track_id)


def finished(track_id: int) -> Track | None:
    track = Track.objects.get(pk=track_id)
    return track if track.status in ("done", "failed") else None


def test_a_child_killed_mid_analysis_is_redelivered_and_the_track_analysed_once(
    stack, tmp_path, measure
):
    worker = stack.worker()
    [track_id] = import_tracks(stack, long_music(tmp_path))
    wait_for(lambda: status_of(track_id) == "processing", timeout=60, interval=0.02,
             message="the analysis to start")  # fmt: skip
    [child] = worker.child_pids()
    killed = time.monotonic()
    os.kill(child, signal.SIGKILL)
    track = wait_for(lambda: finished(track_id), timeout=120, message="the redelivered analysis")
    measure(kill_to_done_seconds=time.monotonic() - killed)
    assert (track.status, track.attempts) == ("done", 2)
    assert AudioFeatures.objects.filter(track_id=track_id).count() == 1
    assert "WorkerLostError" in worker.log() or "SIGKILL" in worker.log()


def test_a_whole_worker_killed_and_restarted_finishes_the_analysis_once(stack, tmp_path, measure):
    # a short visibility timeout in the workers' configuration, so Redis hands the unacknowledged
    # message to the next worker soon (production: longer than the longest task)
    first = stack.worker("first", MUSICREC_VISIBILITY_TIMEOUT="5")
    [track_id] = import_tracks(stack, long_music(tmp_path))
    wait_for(lambda: status_of(track_id) == "processing", timeout=60, interval=0.02,
             message="the analysis to start")  # fmt: skip
    killed = time.monotonic()
    first.kill()  # SIGKILL to the main process and its pool: nothing is acknowledged or cleaned
    assert status_of(track_id) == "processing"
    stack.worker("second", MUSICREC_VISIBILITY_TIMEOUT="5")
    track = wait_for(
        lambda: finished(track_id), timeout=180, message="redelivery to the new worker"
    )
    measure(kill_to_done_seconds=time.monotonic() - killed)
    assert (track.status, track.attempts) == ("done", 2)
    assert AudioFeatures.objects.filter(track_id=track_id).count() == 1


def test_a_file_that_kills_its_worker_every_time_fails_after_three_attempts(stack, tmp_path):
    # The test's worker dies (SIGKILL, from tests/worker_tasks.py) whenever it starts on a stored
    # file whose name ends as given: a decoder crash, simulated outside product code.
    poison_id, *healthy_ids = import_tracks(
        stack,
        audio.write(tmp_path / "poison.flac", audio.click_track(100, seconds=6)),
        audio.write(tmp_path / "fine-1.flac", audio.click_track(120, seconds=6)),
        audio.write(tmp_path / "fine-2.flac", audio.click_track(140, seconds=6)),
    )
    stored = Track.objects.get(pk=poison_id).audio.name
    worker = stack.worker(MUSICREC_TEST_POISON=stored)
    bad = wait_for(lambda: finished(poison_id), timeout=240, message="the poisoned track")
    for track_id in healthy_ids:
        assert wait_for(lambda t=track_id: finished(t), timeout=120, message="healthy").status == (
            "done"
        )
    assert (bad.status, bad.error_code, bad.attempts) == ("failed", errors.WORKER_LOST, 3)
    assert "3 times" in bad.error_detail
    assert not AudioFeatures.objects.filter(track_id=poison_id).exists()
    assert worker.log().count("WorkerLostError") + worker.log().count("SIGKILL") >= 3
