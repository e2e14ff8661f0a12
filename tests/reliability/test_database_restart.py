"""Row 7: the API's PostgreSQL restarted while it serves.

The API runs on a PostgreSQL cluster of its own (never the machine's shared one): gunicorn keeps
persistent connections (CONN_MAX_AGE), so after the restart every worker holds a dead one; the
health check at the start of each request (CONN_HEALTH_CHECKS) must replace it without restarting
the app. Clients keep posting listens all the while and retry each batch, with the same
client_event_ids, until it is answered 201; every listen must then be stored exactly once.
"""

import threading
import time
import uuid

import psycopg
import pytest
import requests

from tests.helpers.deployment import last_json
from tests.helpers.services import PrivateCluster, postgres_bin

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.skipif(postgres_bin("initdb") is None, reason="PostgreSQL server programs missing"),
]

DOWN_SECONDS = 4.0
# A request during the outage must be answered within the connect timeout (3 s) plus slack.
NEVER_LONGER_THAN = 8.0

SETUP = """
from rest_framework.authtoken.models import Token
from accounts.models import User
from catalog.models import Artist, Track
artist = Artist.objects.create(name="Restart", name_key="restart")
track = Track.objects.create(title="Through the restart", title_key="through the restart",
                             artist=artist, status="no_audio")
user = User.objects.create_user("listener", password="not-used-here-1")
print(json.dumps({"token": Token.objects.create(user=user).key, "track": track.pk}))
"""


@pytest.fixture
def cluster():
    with PrivateCluster() as server:
        yield server


class Client(threading.Thread):
    """Posts batches of listens with fresh client_event_ids, retrying each batch until 201."""

    def __init__(self, url: str, token: str, track_id: int):
        super().__init__(daemon=True)
        self.url, self.track_id = url, track_id
        self.headers = {"Authorization": f"Token {token}"}
        self.sent_ids: list[str] = []
        self.answers: list[tuple[float, int | str, float]] = []  # (when, status, seconds)
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            batch = [
                {"track_id": self.track_id, "completed": True, "client_event_id": uuid.uuid4().hex}
                for _ in range(5)
            ]
            while True:  # a client that retries the same batch until it is stored
                status = self._post(batch)
                if status == 201:
                    self.sent_ids += [item["client_event_id"] for item in batch]
                    break
                time.sleep(0.2)
            time.sleep(0.05)

    def _post(self, batch) -> int | str:
        started = time.monotonic()
        try:
            response = requests.post(
                f"{self.url}/api/listens/", json=batch, headers=self.headers, timeout=30
            )
            status = response.status_code
        except requests.RequestException as exc:
            status = type(exc).__name__
        self.answers.append((started, status, time.monotonic() - started))
        return status


def test_requests_fail_fast_while_postgres_restarts_then_recover_with_nothing_doubled(
    stack, cluster, measure
):
    database = cluster.create_database("musicrec_restart")
    env = {"DATABASE_URL": database}
    migrated = stack.manage("migrate", "--noinput", **env)
    assert migrated.returncode == 0, migrated.stderr
    made = stack.manage("shell", "-c", "import json\n" + SETUP, **env)
    assert made.returncode == 0, made.stderr
    world = last_json(made)
    server = stack.server(workers=2, **env)

    first = requests.post(
        f"{server.url}/api/listens/",
        json={"track_id": world["track"], "client_event_id": "before-the-restart"},
        headers={"Authorization": f"Token {world['token']}"},
        timeout=10,
    )
    assert first.status_code == 201, first.text

    # A quick restart while no request is in flight: every worker's persistent connection dies
    # unnoticed; the health check at the start of the next request must replace it.
    _warm_every_worker(server.url, database, workers=2)
    cluster.stop(mode="fast")
    cluster.start()
    quick = [requests.get(f"{server.url}/api/tracks/", timeout=10).status_code for _ in range(10)]
    assert quick == [200] * 10, quick

    clients = [Client(server.url, world["token"], world["track"]) for _ in range(2)]
    for client in clients:
        client.start()
    time.sleep(1.5)  # every gunicorn worker now holds a persistent connection

    stopped = time.monotonic()
    cluster.stop(mode="fast")
    time.sleep(DOWN_SECONDS)
    during = [requests.get(f"{server.url}/api/tracks/", timeout=30) for _ in range(3)]
    cluster.start()
    restarted = time.monotonic()

    # the same batch the client could not know the fate of, sent again after the restart
    again = requests.post(
        f"{server.url}/api/listens/",
        json={"track_id": world["track"], "client_event_id": "before-the-restart"},
        headers={"Authorization": f"Token {world['token']}"},
        timeout=10,
    )
    time.sleep(2.0)
    for client in clients:
        client.halt.set()
    for client in clients:
        client.join(timeout=60)
        assert not client.is_alive()

    answers = sorted(a for client in clients for a in client.answers)
    outage = [a for a in answers if stopped <= a[0] < restarted]
    assert outage, "no request was made while PostgreSQL was down"
    assert {status for _, status, _ in outage} <= {503, 201}, outage
    slowest = max(answers, key=lambda a: a[2])
    assert slowest[2] < NEVER_LONGER_THAN, slowest
    assert all(r.status_code == 503 and r.json()["database"] == "down" for r in during)
    assert all(r.headers.get("Retry-After") for r in during)
    assert not [a for a in answers if a[1] not in (201, 503)], "an answer other than 201 or 503"
    # from the moment PostgreSQL accepts connections again, every request succeeds: each worker's
    # dead persistent connection is noticed by the health check and replaced, not used and failed
    after = [a for a in answers if a[0] >= restarted]
    assert after
    assert all(status == 201 for _, status, _ in after), after[:10]
    first_ok = min(a[0] + a[2] for a in answers if a[0] >= restarted and a[1] == 201)
    assert again.status_code == 201
    assert again.json() == {"created": 0, "duplicates": 1}

    sent = [i for client in clients for i in client.sent_ids]
    with psycopg.connect(database) as conn:
        stored = dict(conn.execute(
            "SELECT client_event_id, count(*) FROM listening_listeningevent GROUP BY 1"
        ).fetchall())  # fmt: skip
        stats = conn.execute(
            "SELECT completed_plays + partial_plays FROM listening_usertrackstats"
        ).fetchall()
    assert set(sent) <= set(stored), "a listen answered 201 is missing"
    assert all(count == 1 for count in stored.values()), "a listen was stored twice"
    assert stats == [(len(stored),)], "the aggregate does not match the events"
    measure(
        down_seconds=DOWN_SECONDS,
        requests_during_outage=len(outage) + len(during),
        slowest_answer_seconds=max(seconds for _, _, seconds in answers),
        restart_to_first_201_seconds=first_ok - restarted,
        listens_stored=len(stored),
    )


def _warm_every_worker(url: str, database: str, *, workers: int) -> None:
    """Send requests in parallel until each gunicorn worker holds its own database connection."""
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + 30
    with psycopg.connect(database, autocommit=True) as conn:
        while conn.execute(query).fetchone()[0] < workers:
            assert time.monotonic() < deadline, "the gunicorn workers did not all connect"
            threads = [
                threading.Thread(target=requests.get, args=(f"{url}/api/tracks/",),
                                 kwargs={"timeout": 10})
                for _ in range(4)
            ]  # fmt: skip
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
