"""Row 10: the production configuration, as the processes of a deployment actually run it.

`check --deploy` with production values on PostgreSQL and Redis; the Celery settings a running
worker reports over the broker (not what the settings module says, what the worker uses); the
security headers gunicorn sends behind a TLS-terminating proxy.
"""

import pytest
import requests
from celery import Celery

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ",
    "DJANGO_HTTPS": "1",
    "DJANGO_ALLOWED_HOSTS": "music.example.org,127.0.0.1",
}


def test_check_deploy_passes_on_postgresql_and_redis(stack):
    result = stack.manage(
        "check", "--deploy", "--fail-level", "WARNING", "--database", "default", **PRODUCTION
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_running_worker_uses_the_production_celery_configuration(stack):
    worker = stack.worker(name="production", **PRODUCTION)
    inspector = Celery("inspector", broker=stack.redis.url(), set_as_current=False)
    try:
        replies = inspector.control.inspect(timeout=10).conf(with_defaults=True)
    finally:
        inspector.close()
    assert replies, f"no worker answered:\n{worker.log()[-2000:]}"
    [conf] = replies.values()

    assert conf["task_serializer"] == conf["result_serializer"] == "json"
    assert conf["accept_content"] == ["json"]
    assert conf["task_acks_late"] is True
    assert conf["task_reject_on_worker_lost"] is True
    assert conf["worker_prefetch_multiplier"] == 1
    assert 0 < conf["task_soft_time_limit"] < conf["task_time_limit"]
    assert conf["task_always_eager"] is False
    assert conf["task_ignore_result"] is True
    assert conf["broker_connection_timeout"] <= 5
    options = conf["broker_transport_options"]
    # the longest task (a retrain, an hour at most) finishes before Redis would hand it out again
    assert options["visibility_timeout"] > 3600 + 60
    assert options["socket_timeout"] <= 5
    assert options["socket_connect_timeout"] <= 5
    assert (options["unacked_restore_interval"], options["unacked_restore_throttle"]) == (10, 1)
    assert conf["worker_max_tasks_per_child"] > 0
    assert conf["beat_scheduler"] == "django_celery_beat.schedulers:DatabaseScheduler"
    assert conf["broker_url"].startswith("redis://")


def test_gunicorn_sends_the_security_headers_behind_a_tls_proxy(stack):
    server = stack.server(**PRODUCTION)
    plain = requests.get(f"{server.url}/api/tracks/", allow_redirects=False, timeout=10)
    assert plain.status_code == 301
    assert plain.headers["Location"].startswith("https://")
    # load balancers probe plain HTTP: the health check is answered, never redirected
    probe = requests.get(f"{server.url}/api/health/", allow_redirects=False, timeout=10)
    assert probe.status_code == 200

    proxied = requests.get(
        f"{server.url}/accounts/login/", headers={"X-Forwarded-Proto": "https"}, timeout=10
    )
    assert proxied.status_code == 200
    headers = proxied.headers
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    csrf = proxied.cookies.get("csrftoken")
    assert csrf is not None
    assert next(c for c in proxied.cookies if c.name == "csrftoken").secure

    error = requests.get(
        f"{server.url}/api/tracks/999999/", headers={"X-Forwarded-Proto": "https"}, timeout=10
    )
    assert error.status_code == 404
    assert "Traceback" not in error.text  # DEBUG is off: no debug page
