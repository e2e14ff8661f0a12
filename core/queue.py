"""Enqueue Celery tasks after the current transaction commits, without letting a dead or hung
broker slow every request down.

The database row is the source of truth and the broker only a doorbell: if a message cannot be
sent, the row stays `pending` and a periodic sweep sends it again. A send waits at most
PUBLISH_DEADLINE_SECONDS (a frozen Redis accepts the connection and never answers); after one
failed or late send, further sends are skipped while the broker's breaker is open
(core.breaker.BROKER, 15 s), so a bulk upload with Redis down or hung stays fast.
"""

from __future__ import annotations

import logging
import threading

from django.db import transaction

from core.breaker import BROKER, CACHE

logger = logging.getLogger(__name__)

PUBLISH_DEADLINE_SECONDS = 0.5


def enqueue_on_commit(task, *args) -> None:
    """Call task.delay(*args) once the surrounding transaction commits (at once outside one)."""

    def send_after_commit() -> None:  # a named function: Django logs a robust hook's __qualname__
        send(task, *args)

    transaction.on_commit(send_after_commit, robust=True)


def send(task, *args) -> bool:
    """Send now. Returns False (and logs) when the broker is unreachable; never raises."""
    if getattr(task.app.conf, "task_always_eager", False):
        task.delay(*args)  # inline: the task's own errors are the caller's
        return True
    if BROKER.is_open:
        logger.warning("broker down recently: %s%s left for the sweep", task.name, args)
        return False
    outcome: list[BaseException | None] = []

    def publish() -> None:
        try:
            task.delay(*args)
            outcome.append(None)
        except Exception as exc:
            outcome.append(exc)

    # A publisher thread with a deadline: kombu's own timeouts (socket, retries) add up to
    # seconds. Should the thread still deliver after the deadline, the task runs twice at
    # worst, which every task tolerates (the row decides).
    thread = threading.Thread(target=publish, name=f"publish {task.name}", daemon=True)
    thread.start()
    thread.join(PUBLISH_DEADLINE_SECONDS)
    error = outcome[0] if outcome else TimeoutError(f"no answer in {PUBLISH_DEADLINE_SECONDS} s")
    if error is None:
        return True
    BROKER.trip(error)
    logger.warning("could not enqueue %s%s, left for the sweep: %s", task.name, args, error)
    return False


def reset_backoff() -> None:
    """Close the broker's and the cache's breakers (tests start each from a healthy state)."""
    BROKER.reset()
    CACHE.reset()
