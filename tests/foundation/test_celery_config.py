"""The effective Celery configuration, read from app.conf: an old setting name is ignored."""

from django.conf import settings

from musicrec.celery import app


def test_json_only():
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"
    assert list(app.conf.accept_content) == ["json"]


def test_tasks_survive_a_lost_worker():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_every_task_is_bounded_in_time():
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit


def test_a_dead_redis_cannot_hang_a_request():
    options = app.conf.broker_transport_options
    assert options["socket_timeout"] <= 5
    assert options["socket_connect_timeout"] <= 5
    assert app.conf.broker_connection_timeout <= 5
    policy = app.conf.task_publish_retry_policy
    assert policy["max_retries"] <= 3


def test_visibility_timeout_outlasts_the_longest_task():
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert visibility > settings.RETRAIN_SOFT_TIME_LIMIT
    assert visibility > app.conf.task_time_limit


def test_beat_reads_its_schedule_from_the_database():
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"


def test_no_result_backend_is_needed():
    assert app.conf.task_ignore_result is True
