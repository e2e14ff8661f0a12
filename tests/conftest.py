"""Fixtures and rules shared by the whole suite."""

import pytest
from django.core.management import call_command

from tests import environment

SERVICE_MARKERS = ("postgres", "redis", "browser", "spark")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip (or, under MUSICREC_REQUIRE_SERVICES=1, fail) tests whose service is missing."""
    for name in SERVICE_MARKERS:
        if item.get_closest_marker(name) is None:
            continue
        reason = environment.unavailable.get(name)
        if reason is None:
            continue
        if environment.REQUIRE_SERVICES:
            pytest.fail(f"MUSICREC_REQUIRE_SERVICES=1 but {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def _collected_static(tmp_path_factory):
    """Tests serve pages with the production storage (whitenoise's manifest), so build it."""
    call_command("collectstatic", "--noinput", verbosity=0)


@pytest.fixture(autouse=True)
def _tasks_inline(settings):
    """Tasks run inline unless a test starts a real worker (see tests/helpers/worker.py).

    The broker path itself is covered by the worker tests; everything else tests logic.
    """
    from musicrec.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and cached values never leak from one test into the next."""
    from django.core.cache import cache

    if hasattr(cache, "delete_pattern"):
        # django-redis: only the cache's own prefixed keys, never the broker's queues
        cache.delete_pattern("*")
    else:
        cache.clear()


@pytest.fixture
def staff_client(client, db):
    from tests.factories import StaffFactory

    client.force_login(StaffFactory())
    return client


@pytest.fixture
def user_client(client, db):
    from tests.factories import UserFactory

    user = UserFactory()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture(autouse=True)
def _fresh_similarity_index():
    """Each test builds its own index from its own rows."""
    from catalog.similarity.store import forget

    forget()
    yield
    forget()


@pytest.fixture(autouse=True)
def _broker_backoff_reset():
    from core.queue import reset_backoff

    reset_backoff()


@pytest.fixture
def lock_held_elsewhere(tmp_path):
    """Take a lock as another worker would: from another database session (or open file)."""
    import contextlib
    import fcntl
    import os

    import psycopg
    from django.conf import settings
    from django.db import connection

    @contextlib.contextmanager
    def hold(namespace: int, key: int):
        if connection.vendor == "postgresql":
            params = connection.get_connection_params()
            params.pop("cursor_factory", None)
            params.pop("context", None)
            with psycopg.connect(**params, autocommit=True) as other:
                other.execute("SELECT pg_advisory_lock(%s, %s)", [namespace, key])
                yield
        else:
            path = settings.DATA_DIR / "locks" / f"{namespace}-{key}.lock"
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                os.close(fd)

    return hold


@pytest.fixture
def world(db):
    """Two groups of listeners and of tracks (tests/helpers/world.py)."""
    from recommender import serving
    from tests.helpers.world import build_world

    serving.forget()
    yield build_world()
    serving.forget()


@pytest.fixture
def imported_track(tmp_path, django_capture_on_commit_callbacks):
    """A real track: synthesised audio through the import service, analysed inline."""

    import itertools

    from catalog.services import track_import
    from tests.helpers import audio

    tempos = itertools.count(100, 7)  # each default track sounds different: no duplicates

    def make(signal=None, name="song.flac", **fields):
        signal = audio.click_track(next(tempos), seconds=6) if signal is None else signal
        path = audio.write(tmp_path / name, signal, "FLAC")
        with django_capture_on_commit_callbacks(execute=True):
            result = track_import(source=path, original_name=name, **fields)
        assert result.result == "imported", result
        result.track.refresh_from_db()
        return result.track

    return make
