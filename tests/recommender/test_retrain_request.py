"""retrain_request: one decision for "retrain now", answered by the API and the admin alike."""

import contextlib

import pytest
from kombu import pools

from core import locks
from musicrec.celery import app
from recommender.models import ModelVersion
from recommender.services import dispatch, retrain_request
from tests.factories import StaffFactory
from tests.helpers.worker import service_env, start_worker, wait_for

ADMIN_RETRAIN = "/admin/recommender/modelversion/retrain/"


def drop_broker_pools() -> None:
    """Forget every pooled broker connection. Pooled connections keep the URL they were made
    with, and kombu keeps its pools in process-wide registries keyed by URL: closing app.pool
    alone would leave a closed pool registered for the real broker ("Acquire on closed pool" in
    every later test that sends a task)."""
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@contextlib.contextmanager
def broker_unreachable():
    """Point Celery at a port where nothing listens; afterwards drop the connections made."""
    app.conf.task_always_eager = False  # restored by the autouse fixture
    previous = app.conf.broker_url
    drop_broker_pools()  # a pool made earlier would still reach the real broker
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        yield
    finally:
        app.conf.broker_url = previous
        drop_broker_pools()


def retrain_api(client):
    return client.post("/api/retrain/", content_type="application/json")  # no body


def admin_messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in response.context["messages"]]


def test_inline_it_runs_and_both_doors_report_the_version(client, world):
    answer = retrain_request()
    assert answer.outcome == dispatch.RAN
    assert answer.result.version.status == "active"
    assert (
        answer.detail
        == f"Model {answer.result.version.pk}: active ({answer.result.version.reason})"
    )

    client.force_login(StaffFactory())
    body = retrain_api(client).json()
    assert body["version"] == ModelVersion.objects.order_by("pk").last().pk
    response = client.post(ADMIN_RETRAIN, follow=True)
    newest = ModelVersion.objects.order_by("pk").last()
    assert newest.pk == body["version"] + 1
    level = "warning" if newest.status == "rejected" else "success"
    assert admin_messages(response) == [
        (level, f"Model {newest.pk}: {newest.status} ({newest.reason})")
    ]


def test_busy_while_another_retrain_holds_the_lock(client, world, lock_held_elsewhere):
    client.force_login(StaffFactory())
    with lock_held_elsewhere(locks.RETRAIN, 0):
        assert retrain_request().outcome == dispatch.BUSY
        api = retrain_api(client)
        page = client.post(ADMIN_RETRAIN, follow=True)
    assert api.status_code == 409
    assert api.json() == {"detail": "A retrain is already running."}
    assert admin_messages(page) == [("warning", "A retrain is already running.")]
    assert not ModelVersion.objects.exists()


def test_nothing_to_learn_before_any_listen(client, db):
    answer = retrain_request()
    assert answer.outcome == dispatch.NOTHING_TO_LEARN
    client.force_login(StaffFactory())
    api = retrain_api(client)
    assert api.status_code == 400
    assert api.json() == {"detail": answer.detail}
    page = client.post(ADMIN_RETRAIN, follow=True)
    assert admin_messages(page) == [("warning", answer.detail)]
    assert not ModelVersion.objects.filter(status="active").exists()


def test_broker_down_queues_nothing_and_says_so(client, db):
    client.force_login(StaffFactory())
    with broker_unreachable():
        answer = retrain_request()
        api = retrain_api(client)
        page = client.post(ADMIN_RETRAIN, follow=True)
    assert answer.outcome == dispatch.BROKER_DOWN
    assert api.status_code == 503
    assert admin_messages(page) == [("error", answer.detail)]
    assert not ModelVersion.objects.exists()


def test_a_trainer_that_cannot_run_here_is_said_not_a_500(client, world, settings):
    settings.MUSICREC_TRAINER = "no such trainer"
    answer = retrain_request()
    assert answer.outcome == dispatch.TRAINER_UNAVAILABLE
    assert "MUSICREC_TRAINER" in answer.detail
    client.force_login(StaffFactory())
    api = retrain_api(client)
    assert (api.status_code, api.json()) == (503, {"detail": answer.detail})
    page = client.post(ADMIN_RETRAIN, follow=True)
    assert admin_messages(page) == [("error", answer.detail)]
    assert not ModelVersion.objects.exists()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_with_a_broker_it_is_queued_and_a_worker_trains(client, world, tmp_path):
    app.conf.task_always_eager = False  # restored by the autouse fixture
    client.force_login(StaffFactory())
    response = retrain_api(client)
    try:
        assert (response.status_code, response.json()) == (202, {"status": "queued"})
        assert not ModelVersion.objects.exists()  # queued, not run here
        worker = start_worker(tmp_path, env=service_env())
        try:
            version = wait_for(
                lambda: ModelVersion.objects.filter(status="active").first(),
                timeout=120,
                message="the worker to train the queued retrain",
            )
        finally:
            worker.stop()
    finally:
        app.control.purge()  # a message left by a failure must not reach a later test's worker
    assert ModelVersion.objects.count() == 1
    assert version.n_users > 0
