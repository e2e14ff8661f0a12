"""Row 16: a retrain that kills its worker every time runs 3 times in all, then its version is
`failed` with the reason; the next retrain (a new message, as the schedule sends) starts fresh."""

import time

import pytest

from recommender.models import ModelVersion
from tests.helpers.worker import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


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
