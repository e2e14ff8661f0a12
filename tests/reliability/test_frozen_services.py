"""Rows 11 and 14: a hung Redis (SIGSTOP: the port still accepts connections, nothing answers) and a
hung PostgreSQL. Every request keeps a deadline: with Redis frozen, requests give up on the
cache and the broker within a fraction of a second and then skip Redis for a while; with
PostgreSQL frozen, a request is a quick 503 with Retry-After, never a dropped connection."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time

import psycopg
import pytest
import requests

from catalog.models import Track
from listening.models import ListeningEvent
from tests.factories import StaffFactory, TrackFactory, UserFactory
from tests.helpers import audio
from tests.helpers.deployment import token_for
from tests.helpers.services import PrivateCluster, postgres_bin

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


# --- PostgreSQL ---------------------------------------------------------------------------


def copy_test_database(target_url: str) -> None:
    """The test database as it stands (schema and committed rows) into another server: a second
    or two, where migrating a new database takes a Django process and many seconds."""
    from tests.helpers.worker import test_database_url

    dump = subprocess.run([postgres_bin("pg_dump"), "--no-owner", "--no-privileges",
                           test_database_url()], capture_output=True, check=True)  # fmt: skip
    subprocess.run([postgres_bin("psql"), "-q", "-v", "ON_ERROR_STOP=1", target_url],
                   input=dump.stdout, capture_output=True, check=True)  # fmt: skip


@contextlib.contextmanager
def frozen_cluster(cluster):
    """SIGSTOP the postmaster and every server process under it (its backends too)."""
    import psutil

    root = psutil.Process(cluster.pid)
    processes = [root, *root.children(recursive=True)]
    for process in processes:
        process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        for process in reversed(processes):
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGCONT)


@pytest.mark.skipif(postgres_bin("initdb") is None, reason="PostgreSQL server programs missing")
def test_a_frozen_postgres_is_a_quick_503_never_a_dropped_connection(stack, measure):
    with PrivateCluster() as cluster:
        database = cluster.create_database("musicrec_frozen")
        env = {"DATABASE_URL": database, "MUSICREC_DB_STATEMENT_TIMEOUT_S": "1",
               "MUSICREC_DB_CONNECT_TIMEOUT": "1"}  # fmt: skip
        listener = UserFactory()
        track = TrackFactory(status="no_audio")
        world = {"token": token_for(listener)["Authorization"], "track": track.pk}
        copy_test_database(database)
        headers = {"Authorization": world["token"]}
        server = stack.server(workers=2, **env)
        for _ in range(4):  # both workers hold a persistent connection
            assert requests.get(f"{server.url}/api/tracks/", timeout=10).status_code == 200

        calls = {
            "track_list": lambda: requests.get(f"{server.url}/api/tracks/", timeout=30),
            "listen_post": lambda: requests.post(
                f"{server.url}/api/listens/", headers=headers, timeout=30,
                json={"track_id": world["track"], "client_event_id": "in-the-freeze"},
            ),
            "health": lambda: requests.get(f"{server.url}/api/health/", timeout=30),
            "home_page": lambda: requests.get(f"{server.url}/", timeout=30),
        }  # fmt: skip
        seconds: dict[str, list[float]] = {}
        with frozen_cluster(cluster):
            # first on the workers' persistent connections, then (track_list again) on new ones
            for name, call in [*calls.items(), ("track_list", calls["track_list"])]:
                response, took = timed(call)  # a dropped connection would raise here
                seconds.setdefault(name, []).append(took)
                assert response.status_code == 503, (name, response.text[:300])
                assert int(response.headers["Retry-After"]) > 0, name
                if name != "home_page":
                    assert response.json()["database"] == "down", name
        thawed = time.monotonic()
        after = [timed(call) for call in calls.values()]
        assert [r.status_code for r, _ in after] == [200, 201, 200, 200], [
            r.text[:200] for r, _ in after
        ]
        back = time.monotonic() - thawed
        slowest = max(max(v) for v in seconds.values())
        # statement deadline 1 s + 1 s, then a new connection's 1 s connect timeout
        assert slowest < 6.0, seconds
        with psycopg.connect(database) as conn:
            stored = conn.execute("SELECT count(*) FROM listening_listeningevent").fetchone()[0]
        assert stored == 1  # the listen answered 201 after the thaw; the 503s stored nothing
        measure(
            **{f"{name}_503_max_s": max(values) for name, values in seconds.items()},
            thaw_to_all_ok_s=back,
        )
