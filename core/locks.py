"""Cross-process locks that die with their holder.

On PostgreSQL: a session-level advisory lock, released when the holder's connection ends, so a
killed process never leaves it held. Elsewhere (the SQLite demo): an flock on a file in the data
folder, also released by the kernel when the process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db import connection

# First half of the two-integer advisory lock key: one namespace per kind of work.
ANALYSIS = 1
RETRAIN = 2
LISTEN_IMPORT = 3


@contextlib.contextmanager
def try_lock(namespace: int, key: int = 0) -> Iterator[bool]:
    """Try to take the lock without waiting; yield whether it was taken, release on exit."""
    if connection.vendor == "postgresql":
        with _advisory(namespace, key) as acquired:
            yield acquired
    else:
        with _file_lock(namespace, key) as acquired:
            yield acquired


@contextlib.contextmanager
def hold(
    namespace: int, key: int = 0, *, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Take the lock, waiting as long as another holder keeps it (`on_wait` is called once if
    it has to wait); release on exit."""
    with try_lock(namespace, key) as acquired:
        if acquired:
            yield
            return
    if on_wait is not None:
        on_wait()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [namespace, key])
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, key])
    else:
        fd = _open_lock_file(namespace, key)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def is_locked(namespace: int, key: int = 0) -> bool:
    """Whether another session holds the lock right now (take and release at once)."""
    with try_lock(namespace, key) as acquired:
        return not acquired


@contextlib.contextmanager
def _advisory(namespace: int, key: int) -> Iterator[bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [namespace, key])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, key])


@contextlib.contextmanager
def _file_lock(namespace: int, key: int) -> Iterator[bool]:
    fd = _open_lock_file(namespace, key)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _open_lock_file(namespace: int, key: int) -> int:
    folder = settings.DATA_DIR / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return os.open(folder / f"{namespace}-{key}.lock", os.O_RDWR | os.O_CREAT, 0o600)
