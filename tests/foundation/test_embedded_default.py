"""The path a newcomer takes: no DATABASE_URL, no REDIS_URL, a fresh SQLite database."""

import json
import subprocess
import sys

import pytest
import requests

from tests.helpers.processes import REPO, clean_env, free_port, manage, wait_http


@pytest.fixture
def embedded_env(tmp_path):
    return clean_env(
        DJANGO_DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path}/not-yet/demo.sqlite3",  # folder made on demand
        MUSICREC_DATA_DIR=str(tmp_path / "data"),
        OPENBLAS_NUM_THREADS="1",
    )


@pytest.mark.slow
def test_fresh_sqlite_migrates_and_serves_health_inline(embedded_env):
    result = manage("migrate", "--noinput", env=embedded_env)
    assert result.returncode == 0, result.stderr
    result = manage(
        "seed_demo",
        "--if-empty",
        "--tracks",
        "12",
        "--users",
        "5",
        "--seconds",
        "6",
        "--json",
        env=embedded_env,
    )
    assert result.returncode == 0, result.stderr
    world = json.loads(result.stdout.strip().splitlines()[-1])
    assert world["analysis"] == {"done": 12}  # inline tasks: analysed during the command
    assert world["listens"] > 0
    result = manage("retrain", "--json", env=embedded_env)
    assert result.returncode == 0, result.stderr
    model = json.loads(result.stdout.strip().splitlines()[-1])
    assert model["status"] == "active"
    result = manage("demo_user", "--json", env=embedded_env)
    assert result.returncode == 0, result.stderr
    assert '"username": "demo"' in result.stdout

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=REPO,
        env=embedded_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        response = wait_http(f"http://127.0.0.1:{port}/api/health/", process=server)
        assert response.status_code == 200
        assert response.json() == {
            "database": "ok",
            "broker": "inline",
            "model_version": model["version"],
        }
        admin = wait_http(f"http://127.0.0.1:{port}/admin/login/", process=server)
        assert admin.status_code == 200
        session = requests.Session()
        token = session.post(
            f"http://127.0.0.1:{port}/api/auth/token/",
            json={"username": "demo", "password": "musicrec-demo"},
            timeout=10,
        ).json()["token"]
        recommendations = session.get(
            f"http://127.0.0.1:{port}/api/recommendations/?n=5",
            headers={"Authorization": f"Token {token}"},
            timeout=30,
        ).json()
        assert recommendations["model_version"] == model["version"]
        assert len(recommendations["results"]) == 5
    finally:
        server.terminate()
        server.wait(timeout=20)
