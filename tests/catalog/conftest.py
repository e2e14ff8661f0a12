import itertools

import pytest

from catalog.services import track_import
from tests.helpers import audio


@pytest.fixture
def imported_track(tmp_path, django_capture_on_commit_callbacks):
    """A real track: synthesised audio through the import service, analysed inline."""

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
