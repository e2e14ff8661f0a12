"""Settings come from the environment, with the defaults of README.md, "Configuration"."""

import json

import pytest

from tests.helpers.processes import clean_env, manage

PRINT_SETTINGS = """
import json
from django.conf import settings
from musicrec.celery import app
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "debug": settings.DEBUG,
    "eager": app.conf.task_always_eager, "cache": settings.CACHES["default"]["BACKEND"],
    "hosts": settings.ALLOWED_HOSTS, "data_dir": str(settings.DATA_DIR),
    "max_upload_mb": settings.MAX_UPLOAD_MB, "max_audio_seconds": settings.MAX_AUDIO_SECONDS,
    "broker": app.conf.broker_url,
}))
"""


def read_settings(**env: str) -> dict:
    result = manage("shell", "-c", PRINT_SETTINGS, env=clean_env(**env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_defaults_are_the_zero_install_demo(tmp_path):
    # Given only DJANGO_DEBUG=1, when settings load, then SQLite, inline tasks and local memory.
    values = read_settings(DJANGO_DEBUG="1")
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"].endswith("var/db.sqlite3")
    assert values["eager"] is True
    assert values["cache"].endswith("LocMemCache")
    assert values["hosts"] == ["localhost", "127.0.0.1"]
    assert values["data_dir"].endswith("/var")
    assert (values["max_upload_mb"], values["max_audio_seconds"]) == (100, 1200)


def test_redis_url_makes_redis_the_broker_and_the_cache():
    values = read_settings(DJANGO_DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/9")
    assert values["eager"] is False
    assert values["broker"] == "redis://127.0.0.1:6379/9"
    assert values["cache"] == "django_redis.cache.RedisCache"


def test_environment_overrides_every_contract_variable(tmp_path):
    values = read_settings(
        DJANGO_DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path}/other.sqlite3",
        DJANGO_ALLOWED_HOSTS="music.example.org, api.example.org",
        MUSICREC_DATA_DIR=str(tmp_path / "data"),
        MUSICREC_MAX_UPLOAD_MB="7",
        MUSICREC_MAX_AUDIO_SECONDS="60",
    )
    assert values["name"] == f"{tmp_path}/other.sqlite3"
    assert values["hosts"] == ["music.example.org", "api.example.org"]
    assert values["data_dir"] == str(tmp_path / "data")
    assert (values["max_upload_mb"], values["max_audio_seconds"]) == (7, 60)


def test_secret_key_is_required_without_debug():
    result = manage("check", env=clean_env(DJANGO_DEBUG="0"))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_malformed_boolean_is_refused_with_its_name(value):
    result = manage("check", env=clean_env(DJANGO_DEBUG=value))
    assert result.returncode != 0
    assert "DJANGO_DEBUG" in result.stderr


def test_check_deploy_passes_with_production_values(tmp_path):
    env = clean_env(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ",
        DJANGO_HTTPS="1",
        DATABASE_URL=f"sqlite:///{tmp_path}/deploy.sqlite3",
        REDIS_URL="redis://127.0.0.1:6379/15",
    )
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_flags_plain_http():
    # The HTTPS flag is what makes a deployment pass: without it the check must complain.
    env = clean_env(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ",
    )
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT" in result.stdout + result.stderr


def test_an_inline_send_on_the_embedded_default_logs_no_broker_warning():
    # Celery takes a producer from its pool even for a task that runs inline; the in-memory
    # transport's URL must name a host or kombu logs "No hostname was supplied" (make demo).
    send = (
        "from musicrec.celery import app; from core.queue import send; "
        "print(send(app.tasks['celery.accumulate'], 1), app.conf.broker_url)"
    )
    result = manage("shell", "-c", send, env=clean_env(DJANGO_DEBUG="1"))
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["True", "memory://localhost/"]
