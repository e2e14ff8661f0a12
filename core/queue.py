"""Enqueue Celery tasks after the current transaction commits, without letting a dead broker
slow every request down.

The database row is the source of truth and the broker only a doorbell: if a message cannot be
sent, the row stays `pending` and a periodic sweep sends it again. After one failed send, further
sends are skipped for BROKER_BACKOFF_SECONDS, so a bulk upload with Redis down stays fast.
"""

from __future__ import annotations

import logging
import time
from functools import partial

from django.db import transaction

logger = logging.getLogger(__name__)

BROKER_BACKOFF_SECONDS = 15.0
_broker_down_until = 0.0


def enqueue_on_commit(task, *args) -> None:
    """Call task.delay(*args) once the surrounding transaction commits (at once outside one)."""
    transaction.on_commit(partial(send, task, *args), robust=True)


def send(task, *args) -> bool:
    """Send now. Returns False (and logs) when the broker is unreachable; never raises."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        logger.warning("broker down recently: %s%s left for the sweep", task.name, args)
        return False
    try:
        task.delay(*args)
    except Exception as exc:
        if getattr(task.app.conf, "task_always_eager", False):
            raise  # inline: this is the task's own error, not the broker's
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning("could not enqueue %s%s, left for the sweep: %s", task.name, args, exc)
        return False
    return True


def reset_backoff() -> None:
    global _broker_down_until
    _broker_down_until = 0.0
