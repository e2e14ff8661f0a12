"""Row 4: a file for every upload outcome (docs/api.md), plus an hour of silence, 384 kHz and
32 channels, through gunicorn and a real worker; memory and time measured; no external
decoder started."""

import io
import re
import time
from pathlib import Path

import numpy as np
import pytest
import requests
import soundfile
from django.conf import settings

from catalog.models import AudioFeatures, Track
from tests.factories import StaffFactory, TrackFactory
from tests.helpers import audio, contract_files
from tests.helpers.deployment import PeakRss, token_for
from tests.helpers.worker import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

# what a worker child may use at most on any file (it idles at about 250 MB with librosa loaded)
WORKER_MEMORY_BOUND_MB = 800


def wav(data: np.ndarray, sr: int) -> bytes:
    out = io.BytesIO()
    soundfile.write(out, data, sr, format="WAV", subtype="PCM_16")
    return out.getvalue()


def flac(data: np.ndarray, sr: int) -> bytes:
    out = io.BytesIO()
    soundfile.write(out, data, sr, format="FLAC")
    return out.getvalue()


def hostile_files() -> tuple[list, list]:
    """(refused at upload: name, bytes, code), (accepted, then failed: name, bytes, code)."""
    rng = np.random.default_rng(11)
    hour_of_silence = audio.silent_flac(3600)
    tone_384k = (0.2 * np.sin(2 * np.pi * 440 * np.arange(384_000 * 5) / 384_000)).astype("f4")
    channels_32 = (0.1 * rng.standard_normal((44_100 * 5, 32))).astype("f4")
    refused = [
        ("hour-of-silence.flac", hour_of_silence, "too_long"),
        ("384k.flac", flac(tone_384k, 384_000), "unsupported_format"),
        ("32-channels.wav", wav(channels_32, 44_100), "unsupported_format"),
    ]
    failing = [("hour-of-silence-unknown-length.flac", audio.without_length(hour_of_silence),
                "too_long")]  # fmt: skip
    return refused, failing


def stored_files() -> set[Path]:
    roots = (Path(settings.MEDIA_ROOT), Path(settings.FILE_UPLOAD_TEMP_DIR))
    return {p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()}


def finished(ids) -> bool:
    return not Track.objects.filter(pk__in=ids).exclude(status__in=("done", "failed")).exists()


def test_every_section_5_file_and_hostile_audio_end_as_the_contract_says(stack, measure):
    headers = token_for(StaffFactory())
    server = stack.server()
    worker = stack.worker()
    memory = PeakRss(worker.process.pid)
    hostile_refused, hostile_failing = hostile_files()
    refused = [(n, d, code) for n, d, _, code in contract_files.refused_files(
        settings.MAX_AUDIO_SECONDS)] + hostile_refused  # fmt: skip
    accepted = [(n, d, "done", "") for n, d in contract_files.valid_files()]
    accepted += [(n, d, "failed", code) for n, d, code in contract_files.failing_files()]
    accepted += [(n, d, "failed", code) for n, d, code in hostile_failing]

    def post(name, data):
        files = {"audio": (name, data, "application/octet-stream")}
        return requests.post(f"{server.url}/api/tracks/", headers=headers, files=files, timeout=60)

    before = stored_files()
    for name, data, code in refused:
        response = post(name, data)
        assert (response.status_code, response.json().get("error_code")) == (400, code), name
    assert Track.objects.count() == 0
    assert stored_files() == before  # nothing kept of a refused file, not even a temporary

    expected = {}
    started = time.monotonic()
    for name, data, status, code in accepted:
        response = post(name, data)
        assert response.status_code == 201, (name, response.text[:300])
        expected[response.json()["id"]] = (name, status, code)
    wait_for(lambda: finished(expected), timeout=300, message="every accepted file analysed")
    seconds = time.monotonic() - started
    for track in Track.objects.filter(pk__in=expected):
        name, status, code = expected[track.pk]
        assert (track.status, track.error_code) == (status, code), (name, track.error_detail)
        assert track.error_detail if status == "failed" else not track.error_detail
        assert AudioFeatures.objects.filter(track=track).exists() == (status == "done")
    peak = memory.stop()

    durations = [float(s) for s in re.findall(r"analyse_track\[.*?\] succeeded in ([\d.]+)s",
                                              worker.log())]  # fmt: skip
    assert len(durations) == len(accepted)
    assert max(durations) < settings.ANALYSIS_SOFT_TIME_LIMIT / 4
    assert peak < WORKER_MEMORY_BOUND_MB
    assert stack.decoders_started() == []
    assert memory.children_seen <= {"python", "python3", "celery"}, memory.children_seen
    measure(files_refused=len(refused), files_analysed=len(accepted), all_analysed_seconds=seconds,
            slowest_analysis_seconds=max(durations), worker_peak_rss_mb=peak)  # fmt: skip


def test_files_that_reach_the_worker_past_the_upload_checks_are_held_to_them(stack, measure):
    # a file put in place some other way (by hand, before a limit changed) meets the decoder's
    # own checks: refused in milliseconds, not decoded at 384 kHz or across 32 channels
    rng = np.random.default_rng(5)
    media = Path(settings.MEDIA_ROOT) / "audio"
    media.mkdir(parents=True, exist_ok=True)
    files = {
        "32-channels.wav": wav((0.1 * rng.standard_normal((44_100 * 30, 32))).astype("f4"), 44_100),
        "384k.wav": wav((0.1 * rng.standard_normal(384_000 * 30)).astype("f4"), 384_000),
    }
    ids = []
    for name, data in files.items():
        (media / name).write_bytes(data)
        ids.append(TrackFactory(audio=f"audio/{name}", status="pending", duration_s=30.0).pk)
    worker = stack.worker()
    memory = PeakRss(worker.process.pid)
    for track_id in ids:
        stack.send("catalog.analyse_track", track_id)
    wait_for(lambda: finished(ids), timeout=120, message="both analyses")
    peak = memory.stop()
    assert set(Track.objects.filter(pk__in=ids).values_list("status", "error_code")) == {
        ("failed", "unsupported_format")
    }
    durations = [float(s) for s in re.findall(r"succeeded in ([\d.]+)s", worker.log())]
    assert max(durations) < 2
    assert stack.decoders_started() == []
    measure(slowest_refusal_seconds=max(durations), worker_peak_rss_mb=peak)
