"""Row 6: five retrains started at once, then one killed during training, while a reader loads the
active model all the while."""

import itertools
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection

from core import locks
from recommender.engine import artifact as artifacts
from recommender.models import ModelVersion
from tests.helpers.deployment import finish, last_json, token_for
from tests.helpers.processes import REPO
from tests.helpers.worker import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

# Enough iterations that one training lasts several seconds on this data, so the five processes
# started together all reach the lock while the first still holds it.
LONG = ("--iterations", "150", "--factors", "96")


def populate(stack, *args: str) -> dict:
    """Listeners, tracks and listening events by COPY (bench/populate.py), in the test database."""
    result = subprocess.run(
        [sys.executable, "bench/populate.py", *args], cwd=REPO, env=stack.env,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return last_json(result)


def retrain(stack, *args: str) -> subprocess.Popen:
    return stack.spawn("retrain", "--json", *args)


def outcome(process: subprocess.Popen) -> tuple[int, dict]:
    result = finish(process)
    return result.returncode, last_json(result)


class Reader(threading.Thread):
    """Loads the active model over and over: through the API of a running gunicorn (as a client
    sees it) and from its artifact file (as a web process loads it). Every failure is kept."""

    def __init__(self, server_url: str, headers: dict):
        super().__init__(daemon=True)
        self.url = server_url
        self.headers = headers
        self.failures: list[str] = []
        self.versions: list[int] = []
        self.loads = 0
        self._halt = threading.Event()

    def run(self) -> None:
        session = requests.Session()
        try:
            while not self._halt.is_set():
                self._once(session)
                time.sleep(0.05)
        finally:
            connection.close()

    def _once(self, session: requests.Session) -> None:
        try:
            active = session.get(f"{self.url}/api/models/active/", timeout=10)
            mine = session.get(f"{self.url}/api/recommendations/?n=10", headers=self.headers,
                               timeout=10)  # fmt: skip
        except requests.RequestException as exc:
            self.failures.append(f"request: {exc}")
            return
        for response in (active, mine):
            if response.status_code != 200:
                self.failures.append(
                    f"{response.url}: {response.status_code} {response.text[:200]}"
                )
        if active.status_code == 200:
            self.versions.append(active.json()["version"])
        if mine.status_code == 200 and not mine.json()["results"]:
            self.failures.append("empty recommendations")
        row = ModelVersion.objects.filter(status="active").values("pk", "artifact").first()
        if row is None:
            self.failures.append("no active version")
            return
        try:
            artifacts.load(Path(settings.MODELS_DIR) / row["artifact"])
            self.loads += 1
        except Exception as exc:
            self.failures.append(f"artifact of {row['pk']}: {type(exc).__name__}: {exc}")

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=30)


@pytest.fixture
def trained(stack):
    """A catalogue with listening history and a first active model; a gunicorn and a reader."""
    populate(stack, "catalogue", "--users", "1500", "--tracks", "2500")
    populate(stack, "events", "--events", "80000", "--active-tracks", "2500")
    code, first = outcome(retrain(stack))
    assert (code, first["status"]) == (0, "active")
    server = stack.server(
        MUSICREC_THROTTLE_USER="100000/minute", MUSICREC_THROTTLE_ANON="100000/minute"
    )
    from accounts.models import User

    reader = Reader(server.url, token_for(User.objects.get(username="bench7")))
    reader.start()
    wait_for(lambda: reader.loads >= 3, timeout=30, message="the reader to load the first model")
    yield first["version"], reader, server
    reader.stop()


def test_five_retrains_at_once_train_one_at_a_time(stack, trained, measure):
    first, reader, server = trained
    processes = [retrain(stack, *LONG) for _ in range(5)]
    # while they run, the API refuses a sixth with 409 as soon as one holds the lock
    wait_for(lambda: locks.is_locked(locks.RETRAIN), timeout=60, interval=0.05,
             message="a retrain to take the lock")  # fmt: skip
    staff = _staff_headers()
    refused = requests.post(f"{server.url}/api/retrain/", headers=staff, timeout=10)
    results = [outcome(p) for p in processes]
    reader.stop()

    codes = sorted(code for code, _ in results)
    trained_here = [body for code, body in results if code in (0, 2)]
    busy = [body for code, body in results if code == 3]
    assert len(trained_here) + len(busy) == 5, results
    assert len(busy) >= 3, codes  # they start together; the first trains for seconds
    assert all(body["status"] == "busy" for body in busy)
    assert refused.status_code == 409, refused.text

    versions = list(ModelVersion.objects.exclude(pk=first).order_by("created_at"))
    assert [v.pk for v in versions] == sorted(body["version"] for body in trained_here)
    for earlier, later in itertools.pairwise(versions):
        assert earlier.trained_at <= later.created_at, "two retrains trained at the same time"
    assert ModelVersion.objects.filter(status="active").count() == 1
    assert not reader.failures, reader.failures[:5]
    assert reader.loads > 0
    measure(exit_codes=codes, reader_loads=reader.loads,
            training_seconds=[body["seconds"]["total"] for body in trained_here])  # fmt: skip


def test_a_retrain_killed_during_training_leaves_the_active_model_and_the_lock(
    stack, trained, measure
):
    first, reader, _server = trained
    victim = retrain(stack, *LONG)
    training = wait_for(
        lambda: ModelVersion.objects.filter(status="training").first(), timeout=60, interval=0.05,
        message="the retrain to start training",
    )  # fmt: skip
    wait_for(lambda: locks.is_locked(locks.RETRAIN), timeout=30, interval=0.05,
             message="the retrain to hold the lock")  # fmt: skip
    time.sleep(1.0)  # into the ALS fits
    victim.kill()
    killed = time.monotonic()
    victim.communicate(timeout=30)
    assert victim.returncode == -9

    wait_for(lambda: not locks.is_locked(locks.RETRAIN), timeout=30, interval=0.05,
             message="the killed retrain's lock to be released")  # fmt: skip
    released = time.monotonic() - killed
    active = ModelVersion.objects.get(status="active")
    assert active.pk == first, "the killed retrain changed the active model"
    assert ModelVersion.objects.get(pk=training.pk).status == "training"  # until the next retrain
    artifacts.load(Path(settings.MODELS_DIR) / active.artifact)

    code, body = outcome(retrain(stack))
    wait_for(lambda: body["version"] in reader.versions, timeout=30,
             message="the reader to see the new model")  # fmt: skip
    reader.stop()
    assert (code, body["status"]) == (0, "active"), body
    dead = ModelVersion.objects.get(pk=training.pk)
    assert dead.status == "failed"
    assert "interrupted" in dead.reason
    assert not dead.artifact
    assert not list(Path(settings.MODELS_DIR).glob(f"model-{training.pk}.npz"))
    assert not reader.failures, reader.failures[:5]
    assert set(reader.versions) == {first, body["version"]}  # never the killed one
    measure(lock_released_after_kill_seconds=released, reader_loads=reader.loads)


def _staff_headers() -> dict:
    """Staff allowed to retrain, as in admin (recommender.change_modelversion)."""
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_modelversion"))
    return token_for(user)
