"""GET /api/health/ (docs/api.md, "Health")."""

import json

import pytest

from tests.helpers.processes import clean_env, manage

CALL_HEALTH = """
import json
from django.test import Client
response = Client().get("/api/health/")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


@pytest.mark.django_db
def test_healthy_database_and_inline_tasks(client):
    response = client.get("/api/health/")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "inline", "model_version": None}


@pytest.mark.redis
@pytest.mark.django_db
def test_broker_ok_when_redis_answers(client):
    from musicrec.celery import app

    app.conf.task_always_eager = False
    assert client.get("/api/health/").json()["broker"] == "ok"


@pytest.mark.django_db
def test_broker_down_when_redis_does_not_answer(client, settings):
    from musicrec.celery import app

    app.conf.task_always_eager = False
    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/api/health/")
    finally:
        app.conf.broker_url = previous
    assert response.status_code == 200
    assert response.json()["broker"] == "down"


def test_database_down_is_a_503_not_a_hang():
    # Given a PostgreSQL URL where no server listens, the endpoint answers 503 quickly.
    env = clean_env(
        DJANGO_DEBUG="1",
        DJANGO_ALLOWED_HOSTS="testserver",
        DATABASE_URL="postgres://postgres@127.0.0.1:1/musicrec",
    )
    result = manage("shell", "-c", CALL_HEALTH, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    assert answer["body"]["database"] == "down"
