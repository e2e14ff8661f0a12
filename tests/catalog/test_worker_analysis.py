"""Analysis through Redis in real Celery worker processes."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.audio import EXTRACTOR_VERSION, errors
from catalog.models import AudioFeatures, Track
from musicrec.celery import app
from tests.helpers import audio
from tests.helpers.worker import service_env, start_worker, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def through_broker():
    app.conf.task_always_eager = False  # the autouse fixture restores it


def upload(client, name, signal):
    data = audio.encode(signal, "FLAC")
    response = client.post("/api/tracks/", {"audio": SimpleUploadedFile(name, data)})
    assert response.status_code == 201, response.json()
    return response.json()


def final_status(track_id):
    track = Track.objects.get(pk=track_id)
    return track if track.status in ("done", "failed") else None


def test_with_a_broker_the_upload_answers_pending_and_a_worker_finishes_it(
    staff_client, through_broker, tmp_path
):
    body = upload(staff_client, "a.flac", audio.click_track(120, seconds=8))
    assert body["analysis"]["status"] == "pending"
    worker = start_worker(tmp_path, env=service_env())
    try:
        track = wait_for(lambda: final_status(body["id"]), timeout=120, message="analysis")
    finally:
        worker.stop()
    assert track.status == "done"
    assert AudioFeatures.objects.filter(track=track).count() == 1
    assert "audio analysis warmed up" in worker.log()


def test_a_file_that_kills_its_worker_is_tried_three_times_and_others_finish(
    staff_client, through_broker, tmp_path
):
    poison = upload(staff_client, "poison.flac", audio.click_track(100, seconds=6))
    healthy = upload(staff_client, "fine.flac", audio.click_track(130, seconds=6))
    stored = Track.objects.get(pk=poison["id"]).audio.name
    worker = start_worker(tmp_path, env=service_env(MUSICREC_TEST_POISON=stored))
    try:
        wait_for(lambda: final_status(poison["id"]), timeout=240, message="the poisoned track")
        wait_for(lambda: final_status(healthy["id"]), timeout=120, message="the healthy track")
    finally:
        worker.stop()
    bad = Track.objects.get(pk=poison["id"])
    assert (bad.status, bad.error_code, bad.attempts) == ("failed", errors.WORKER_LOST, 3)
    assert Track.objects.get(pk=healthy["id"]).status == "done"
    assert worker.log().count("WorkerLostError") + worker.log().count("SIGKILL") >= 3


def test_the_soft_time_limit_ends_an_analysis_as_failed_timeout(
    staff_client, through_broker, tmp_path
):
    long_music = audio.progression("major", bpm=120, level=0.5, percussive=True, seconds=600)
    body = upload(staff_client, "long.flac", long_music)
    worker = start_worker(tmp_path, env=service_env(MUSICREC_ANALYSIS_SOFT_TIME_LIMIT="1"))
    try:
        track = wait_for(lambda: final_status(body["id"]), timeout=120, message="the time limit")
    finally:
        worker.stop()
    assert (track.status, track.error_code) == ("failed", errors.TIMEOUT)


def test_analyse_all_wait_follows_the_workers_to_the_end(staff_client, through_broker, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    ids = [upload(staff_client, f"{bpm}.flac", audio.click_track(bpm, seconds=6))["id"]
           for bpm in (100, 120)]  # fmt: skip
    worker = start_worker(tmp_path, env=service_env())
    try:
        wait_for(lambda: all(final_status(i) for i in ids), timeout=120, message="first analyses")
        out = StringIO()
        call_command("analyse", "--all", "--wait", "--json", stdout=out)
    finally:
        worker.stop()
    body = json.loads(out.getvalue())
    assert body == {"queued": 2, "status": {"done": 2}}
    assert set(AudioFeatures.objects.values_list("extractor_version", flat=True)) == {
        EXTRACTOR_VERSION
    }
    assert worker.log().count("succeeded in") == 4  # each track analysed again
