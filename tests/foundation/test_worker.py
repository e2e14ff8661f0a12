"""A real Celery worker process takes a task from Redis and runs it."""

import pytest

from musicrec.celery import app
from tests.helpers.worker import service_env, start_worker, wait_for


@pytest.mark.redis
def test_a_task_sent_through_redis_runs_in_a_worker_process(tmp_path):
    app.conf.task_always_eager = False  # restored by the autouse fixture
    worker = start_worker(tmp_path, env=service_env())
    try:
        target = tmp_path / "ran.txt"
        app.send_task("tests.touch", args=[str(target), "through the broker"])
        wait_for(target.exists, timeout=30, message="the worker to run tests.touch")
        assert target.read_text() == "through the broker"
    finally:
        worker.stop()
    assert "tests.touch" in worker.log()
