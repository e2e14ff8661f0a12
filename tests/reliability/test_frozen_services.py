"""Row 11: a hung Redis (SIGSTOP: the port still accepts connections, nothing answers) and a
hung PostgreSQL. Every request keeps a deadline: with Redis frozen, requests give up on the
cache and the broker within a fraction of a second and then skip Redis for a while; with
PostgreSQL frozen, a request is a quick 503 with Retry-After, never a dropped connection."""

from __future__ import annotations

import contextlib
import os
import signal
import time

import pytest
import requests

from catalog.models import Track
from listening.models import ListeningEvent
from tests.factories import StaffFactory, TrackFactory
from tests.helpers import audio
from tests.helpers.deployment import token_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@contextlib.contextmanager
def frozen(pid: int):
    """SIGSTOP a private service process; SIGCONT it however the block ends."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_a_frozen_redis_slows_no_request(stack, measure):
    staff = StaffFactory()
    headers = token_for(staff)
    track = TrackFactory()
    server = stack.server(workers=1)  # one process: its first call pays the timeout, once
    url = server.url
    session = requests.Session()
    assert session.get(f"{url}/api/tracks/", timeout=10).status_code == 200  # connections warm

    def listen(n: int):
        body = {"track_id": track.pk, "client_event_id": f"frozen-{n}"}
        return session.post(f"{url}/api/listens/", json=body, headers=headers, timeout=30)

    def upload(n: int):
        data = audio.encode(audio.click_track(90 + n * 7, seconds=4), "FLAC")
        files = {"audio": ("frozen.flac", data, "audio/flac")}
        return session.post(f"{url}/api/tracks/", headers=headers, files=files, timeout=30)

    calls = {
        "listen_post": (listen, 201),
        "anonymous_track_list": (lambda n: requests.get(f"{url}/api/tracks/", timeout=30), 200),
        "health": (lambda n: requests.get(f"{url}/api/health/", timeout=30), 200),
        "upload": (upload, 201),
    }
    seconds: dict[str, list[float]] = {}
    with frozen(stack.redis.process.pid):
        for n in range(3):
            for name, (call, expected) in calls.items():
                response, took = timed(lambda: call(n))  # noqa: B023 (called at once)
                seconds.setdefault(name, []).append(took)
                assert response.status_code == expected, (name, response.text[:300])
                if name == "health":
                    assert response.json()["broker"] == "down"
    slowest = max(max(values) for values in seconds.values())
    later = max(max(values[1:]) for values in seconds.values())
    assert slowest < 3.0, seconds  # the first call per process waits one short timeout
    assert later < 1.0, seconds  # after it, Redis is skipped (health pings: 0.5 s at most)
    assert ListeningEvent.objects.filter(user=staff).count() == 3
    assert Track.objects.filter(status="pending").count() == 3  # kept for the sweep
    measure(
        **{f"{name}_first_s": values[0] for name, values in seconds.items()},
        **{f"{name}_later_max_s": max(values[1:]) for name, values in seconds.items()},
    )
