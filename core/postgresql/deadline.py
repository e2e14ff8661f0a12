"""A deadline for each database call made while serving a request (docs/reliability.md, row 14).

PostgreSQL's own `statement_timeout` ends a slow query, but a server that does not answer at all
(hung, SIGSTOPped, a half-dead host whose kernel still ACKs) never sends that error: libpq waits
forever, the request until gunicorn kills its worker and the client sees a dropped connection.
So each call in a request is watched: past its deadline, one watchdog thread per process shuts
the connection's socket down, the call fails at once with an OperationalError, and
core.middleware turns that into a 503 with Retry-After. The connection is then discarded.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator

logger = logging.getLogger(__name__)

_local = threading.local()
_guards: dict[object, tuple[float, int]] = {}  # token -> (deadline, socket fd)
_lock = threading.Lock()
_watchdog: threading.Thread | None = None
POLL_SECONDS = 0.05


@contextlib.contextmanager
def serving_request() -> Iterator[None]:
    """Mark this thread as serving a request: its database calls get deadlines."""
    _local.serving = True
    try:
        yield
    finally:
        _local.serving = False


def in_request() -> bool:
    return getattr(_local, "serving", False)


@contextlib.contextmanager
def deadline(fd: int | None, seconds: float) -> Iterator[None]:
    """Shut the socket `fd` down if the block is still running after `seconds` (requests only;
    elsewhere, and for `seconds` <= 0, nothing is watched)."""
    if fd is None or fd < 0 or seconds <= 0 or not in_request():
        yield
        return
    _start_watchdog()
    token = object()
    with _lock:
        _guards[token] = (time.monotonic() + seconds, fd)
    try:
        yield
    finally:
        with _lock:
            _guards.pop(token, None)


def _start_watchdog() -> None:
    global _watchdog
    if _watchdog is not None and _watchdog.is_alive() and _watchdog.pid == os.getpid():
        return
    with _lock:
        if _watchdog is not None and _watchdog.is_alive() and _watchdog.pid == os.getpid():
            return
        _guards.clear()  # a forked child inherits none of its parent's calls
        thread = threading.Thread(target=_watch, name="database deadline", daemon=True)
        thread.pid = os.getpid()
        thread.start()
        _watchdog = thread


def _watch() -> None:
    while True:
        time.sleep(POLL_SECONDS)
        now = time.monotonic()
        with _lock:  # held while shutting down, so the guarded call cannot end (and close) first
            for token, (due, fd) in list(_guards.items()):
                if now < due:
                    continue
                _guards.pop(token, None)
                _shut(fd)


def _shut(fd: int) -> None:
    try:
        duplicate = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
        logger.warning("database call past its deadline: connection shut down")
    except OSError:
        pass
    finally:
        duplicate.close()
