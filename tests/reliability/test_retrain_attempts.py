"""Row 16: a retrain that kills its worker every time runs 3 times in all, then its version is
`failed` with the reason; the next retrain (a new message, as the schedule sends) starts fresh.
The weekly tune (recommender.tune) is held to the same cap."""

import time
import uuid

import pytest

from recommender import tasks
from recommender.models import ModelVersion
from recommender.services import NothingToLearn
from tests.helpers.worker import wait_for


@pytest.mark.parametrize(("task", "runs_with"), [("retrain", {}), ("tune", {"tune_grid": True})])
def test_a_message_runs_at_most_three_times_then_its_version_is_failed(
    db, monkeypatch, task, runs_with
):
    """In process: the same message id delivered four times (as a worker that dies each time
    gets it back); the stand-in trainer notes each run and leaves the version `training`."""
    runs = []

    def train(**kwargs):
        runs.append(kwargs)
        raise NothingToLearn("stand-in trainer")

    monkeypatch.setattr(tasks, "model_train", train)
    left = ModelVersion.objects.create(status=ModelVersion.Status.TRAINING)
    message = str(uuid.uuid4())
    deliver = getattr(tasks, task).apply
    answers = [deliver(task_id=message).get() for _ in range(4)]
    assert runs == [runs_with] * 3  # the fourth delivery does not train
    assert [a["status"] for a in answers] == ["skipped"] * 3 + ["failed"]
    assert answers[3]["reason"] == "stopped without an answer 3 times"
    left.refresh_from_db()
    assert left.status == ModelVersion.Status.FAILED
    assert left.reason.startswith("worker_lost:")
    assert "3 times" in left.reason
    assert deliver(task_id=str(uuid.uuid4())).get()["status"] == "skipped"  # a new message runs
    assert len(runs) == 4


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_a_retrain_that_kills_its_worker_is_tried_three_times_then_failed(stack, measure):
    stack.worker(MUSICREC_TEST_POISON_RETRAIN="1")
    started = time.monotonic()
    stack.send("recommender.retrain")

    def given_up():
        versions = list(ModelVersion.objects.order_by("pk"))
        return versions if versions and "worker_lost" in versions[-1].reason else None

    versions = wait_for(given_up, timeout=180, message="the retrain to be given up")
    given_up_after = time.monotonic() - started
    assert len(versions) == 3, [(v.pk, v.status, v.reason) for v in versions]
    assert {v.status for v in versions} == {ModelVersion.Status.FAILED}
    assert "3 times" in versions[-1].reason
    assert all(v.reason.startswith("interrupted") for v in versions[:2])
    # no fourth run: the message is gone (a redelivery would make a new `training` version)
    time.sleep(1.0)  # (a run would show within this; the poison kills it at once)
    assert ModelVersion.objects.count() == 3

    # the next scheduled run is a new message: attempt 1 again
    stack.send("recommender.retrain")
    wait_for(lambda: ModelVersion.objects.count() == 4, timeout=60, message="a fresh retrain")
    measure(runs=len(versions), seconds_to_failed=given_up_after)
