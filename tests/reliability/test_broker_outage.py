"""Row 1: the broker's Redis stops while tracks are uploaded through the API and a history file
on /import/."""

import json
import time

import pytest
import requests
from django.test import Client

from catalog.models import AudioFeatures, Track
from listening.models import ImportBatch, ListeningEvent
from tests.factories import StaffFactory, TrackFactory
from tests.helpers import audio, history_files
from tests.helpers.deployment import get_json, token_for
from tests.helpers.worker import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def test_uploads_with_the_broker_down_are_kept_and_finish_when_it_returns(stack, measure):
    staff = StaffFactory()
    headers = token_for(staff)
    listened = TrackFactory()
    server = stack.server()

    stack.redis.stop()
    answers, seconds = [], []
    for n in range(4):
        data = audio.encode(audio.click_track(96 + 12 * n, seconds=6), "FLAC")
        started = time.monotonic()
        files = {"audio": (f"take-{n}.flac", data, "audio/flac")}
        answers.append(
            requests.post(f"{server.url}/api/tracks/", headers=headers, files=files, timeout=60)
        )
        seconds.append(time.monotonic() - started)
    assert [a.status_code for a in answers] == [201] * 4, [a.text[:300] for a in answers]
    ids = [a.json()["id"] for a in answers]
    assert {a.json()["analysis"]["status"] for a in answers} == {"pending"}
    assert Track.objects.filter(pk__in=ids, status="pending").count() == 4
    # the rest of the API carries on without its cache (throttle counters) and broker
    body = {"track_id": listened.pk, "client_event_id": "outage-1"}
    listen = requests.post(f"{server.url}/api/listens/", headers=headers, json=body, timeout=30)
    assert listen.status_code == 201, listen.text
    assert ListeningEvent.objects.filter(user=staff).count() == 1
    status, health = get_json(f"{server.url}/api/health/")
    assert (status, health["broker"], health["database"]) == (200, "down", "ok")
    # a history file uploaded on /import/ is kept, its import waiting for the broker
    entries, expected, _ = history_files.spotify_extended()
    page = upload_history(server.url, staff, json.dumps(entries).encode())
    assert page.status_code == 200, page.text[-500:]
    assert "Waiting to start" in page.text
    batch = ImportBatch.objects.get(user=staff)
    assert batch.status == "pending"

    # Redis comes back empty (the messages never reached it); beat's sweep finds the rows
    returned = time.monotonic()
    stack.redis.start()
    stack.worker(MUSICREC_SWEEP_PENDING_AFTER_S="0")
    worker_ready = time.monotonic() - returned
    swept = time.monotonic()
    stack.send("catalog.sweep_stuck_tracks")
    stack.send("listening.sweep_stuck_imports")
    wait_for(lambda: Track.objects.filter(pk__in=ids, status="done").count() == 4,
             timeout=180, message="every upload analysed after the broker returned")  # fmt: skip
    wait_for(lambda: ImportBatch.objects.get(pk=batch.pk).status == "done",
             timeout=120, message="the history upload imported after the outage")  # fmt: skip
    assert ListeningEvent.objects.filter(user=staff, source="import").count() == len(expected)
    recovery = time.monotonic() - returned
    sweep_to_done = time.monotonic() - swept
    assert AudioFeatures.objects.filter(track_id__in=ids).count() == 4
    assert list(Track.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == [1] * 4
    status, health = get_json(f"{server.url}/api/health/")
    assert (status, health["broker"]) == (200, "ok")
    # in production the worker is already up and beat sends the sweep every 2 minutes
    measure(upload_seconds_max=max(seconds), recovery_seconds=recovery,
            worker_start_seconds=worker_ready, sweep_to_all_done_seconds=sweep_to_done)  # fmt: skip


def upload_history(url: str, user, content: bytes) -> requests.Response:
    """Upload a history file on /import/ as the signed-in `user` (a session made here)."""
    client = Client()
    client.force_login(user)
    browser = requests.Session()
    browser.cookies.set("sessionid", client.cookies["sessionid"].value)
    form = browser.get(f"{url}/import/", timeout=30)
    assert form.status_code == 200, form.text[-500:]
    return browser.post(
        f"{url}/import/",
        data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        files={"history": ("Streaming_History_Audio_2024.json", content, "application/json")},
        timeout=60,
    )
